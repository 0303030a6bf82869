// docs/openapi.yaml must describe exactly the routes of src/api/routes.c
// (the routes[] table) plus the WebSocket upgrade of src/api/ws.c, so that
// the document cannot drift from the code. No server and no YAML library:
// the document is read line by line, relying on its two-space indentation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

const DOC = new URL('../../docs/openapi.yaml', import.meta.url);
const SRC = new URL('../../src/api/', import.meta.url);
const read = (url) => readFileSync(url, 'utf8');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// A '*' segment of the route table becomes the parameter named after the
// segment before it (users/*, agents/*, roles/*, interactions/*).
const PARAM_AFTER = { users: 'user_name', agents: 'user_name', roles: 'role', interactions: 'number',
  numbers: 'did', trunks: 'name', flows: 'name', contacts: 'number', consumers: 'number', cases: 'number',
  incidents: 'number', calls: 'number', flags: 'name', 'calls/*': 'action', queues: 'queue',
  members: 'user_name', 'quick-connects': 'id', webhooks: 'id', policy: 'queue' };

function templatePath(pattern) {
  const segs = pattern.split('/').filter(Boolean);
  return '/' + segs.map((seg, i) => {
    if (seg !== '*') return seg;
    const name = segs[i - 1] === '*' ? PARAM_AFTER[`${segs[i - 2]}/*`] : PARAM_AFTER[segs[i - 1]];
    if (!name) throw new Error(`no parameter name for '*' after '${segs[i - 1]}' in ${pattern}: extend PARAM_AFTER`);
    return `{${name}}`;
  }).join('/');
}

function routesInCode() {
  const src = read(new URL('routes.c', SRC));
  const start = src.indexOf('static const struct route routes[]');
  assert.ok(start >= 0, 'routes[] not found in src/api/routes.c');
  const table = src.slice(start, src.indexOf('};', start));
  const found = [];
  for (const m of table.matchAll(/\{\s*M_([A-Z]+)\s*,\s*"([^"]+)"/g)) {
    found.push(`${m[1].toLowerCase()} ${templatePath(m[2])}`);
  }
  assert.ok(found.length >= 10, `parsed only ${found.length} routes from routes[]`);
  // The WebSocket upgrade is not in routes[]: ws.c accepts it on one path.
  const ws = read(new URL('ws.c', SRC)).match(/strcmp\(path,\s*"([^"]+)"\)/);
  assert.ok(ws, 'the WebSocket path was not found in src/api/ws.c');
  found.push(`get ${ws[1]}`);
  return found;
}

// The document: top-level sections, paths with their methods and blocks.
function parseDoc() {
  const lines = read(DOC).split('\n');
  const paths = new Map(); // path -> {methods: [], lines: []}
  const components = new Map(); // kind -> Map(name -> lines)
  const duplicates = [];
  let section = null, path = null, kind = null, name = null;
  for (const line of lines) {
    const top = line.match(/^([A-Za-z]\w*):/);
    if (top) { section = top[1]; path = kind = name = null; continue; }
    if (section === 'paths') {
      const p = line.match(/^ {2}(\/[^:]*):\s*$/);
      if (p) {
        path = p[1];
        if (paths.has(path)) duplicates.push(path);
        else paths.set(path, { methods: [], lines: [] });
        continue;
      }
      if (!path) continue;
      paths.get(path).lines.push(line);
      const m = line.match(/^ {4}([a-z]+):/);
      if (m && METHODS.includes(m[1])) paths.get(path).methods.push(m[1]);
    } else if (section === 'components') {
      const k = line.match(/^ {2}(\w+):\s*$/);
      if (k) { kind = k[1]; components.set(kind, new Map()); continue; }
      const n = line.match(/^ {4}([\w.-]+):/);
      if (kind && n) { name = n[1]; components.get(kind).set(name, [line]); continue; }
      if (kind && name) components.get(kind).get(name).push(line);
    }
  }
  return { lines, paths, components, duplicates };
}

test('docs/openapi.yaml documents every route of routes[] and the WebSocket, and nothing else', () => {
  const doc = parseDoc();
  assert.deepEqual(doc.duplicates, [], 'a path is listed twice under paths:');
  const inDoc = [];
  for (const [path, { methods }] of doc.paths) {
    const dup = methods.filter((m, i) => methods.indexOf(m) !== i);
    assert.deepEqual(dup, [], `${path} lists a method twice`);
    for (const m of methods) inDoc.push(`${m} ${path}`);
  }
  const inCode = routesInCode();
  const missing = inCode.filter((r) => !inDoc.includes(r));
  const extra = inDoc.filter((r) => !inCode.includes(r));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] },
    'docs/openapi.yaml and src/api/routes.c disagree');
  assert.equal(new Set(inDoc).size, new Set(inCode).size);
});

test('every path parameter is declared, and every $ref points at a component', () => {
  const doc = parseDoc();
  const paramName = (ref) => {
    const block = doc.components.get('parameters')?.get(ref) || [];
    return block.join('\n').match(/name:\s*(\w+)/)?.[1];
  };
  for (const [path, { lines }] of doc.paths) {
    const text = lines.join('\n');
    const declared = new Set([...text.matchAll(/name:\s*(\w+)[\s\S]*?in:\s*path/g)].map((m) => m[1]));
    for (const m of text.matchAll(/\$ref:\s*'#\/components\/parameters\/(\w+)'/g)) declared.add(paramName(m[1]));
    for (const [, p] of path.matchAll(/\{(\w+)\}/g)) assert.ok(declared.has(p), `${path}: parameter ${p} is not declared`);
  }
  for (const m of doc.lines.join('\n').matchAll(/\$ref:\s*'#\/components\/(\w+)\/([\w.-]+)'/g)) {
    assert.ok(doc.components.get(m[1])?.has(m[2]), `$ref to a missing component: ${m[1]}/${m[2]}`);
  }
  for (const k of ['Error', 'User', 'Agent', 'Queue', 'Interaction', 'Activity', 'Presence', 'Event']) {
    assert.ok(doc.components.get('schemas')?.has(k), `components/schemas/${k} is missing`);
  }
  assert.ok(doc.components.get('securitySchemes')?.has('bearerAuth'), 'the bearerAuth scheme is missing');
});

test('the Error schema lists every error code the API sends, and the responses every status', () => {
  const doc = parseDoc();
  const block = doc.components.get('schemas').get('Error').join('\n');
  const flow = block.match(/enum:\s*\[([^\]]*)\]/);
  const documented = flow ? flow[1].split(',').map((s) => s.trim())
    : [...block.slice(block.indexOf('enum:')).matchAll(/^\s+- ([a-z_]+)\s*$/gm)].map((m) => m[1]);
  const codes = new Map(); // code -> status
  for (const f of readdirSync(SRC).filter((f) => f.endsWith('.c'))) {
    // edge_raw_error (src/api/edge.c) writes the replies that have no request object.
    for (const m of read(new URL(f, SRC)).matchAll(/(?:api_reply_error(?:_x)?|edge_raw_error)\(\s*[\w>-]+\s*,\s*(\d{3})\s*,\s*"([a-z_]+)"/g)) {
      codes.set(m[2], m[1]);
    }
  }
  assert.ok(codes.size >= 10, `found only ${codes.size} error codes in src/api`);
  assert.deepEqual([...documented].sort(), [...codes.keys()].sort(), 'Error.error enum vs api_reply_error codes');
  const text = doc.lines.join('\n');
  for (const [code, status] of codes) {
    assert.ok(text.includes(`\`${code}\``), `no response description names \`${code}\``);
    // 405 comes from the dispatcher for a method a path does not take, so no
    // operation can return it: components/responses/MethodNotAllowed has it.
    if (status === '405') assert.ok(doc.components.get('responses')?.has('MethodNotAllowed'));
    else assert.match(text, new RegExp(`'${status}':`), `no response documents status ${status} (${code})`);
  }
});
