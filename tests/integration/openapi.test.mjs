// docs/openapi.yaml must describe exactly the routes in src/api/routes.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const read = (p) => readFileSync(new URL(p, root), 'utf8');

function routesInCode() {
  const src = read('src/api/routes.c');
  const table = src.slice(src.indexOf('static const struct route routes[]'));
  const found = new Set();
  for (const m of table.matchAll(/\{M_(GET|POST|PUT|PATCH|DELETE), "([^"]+)"/g)) {
    const names = ['{user_name}', '{role}'];
    let k = 0;
    const path = '/' + m[2].split('/').map((seg, i, all) => {
      if (seg !== '*') return seg;
      if (all[i - 1] === 'interactions') return '{number}';
      return names[k++] || '{x}';
    }).join('/');
    found.add(`${m[1].toLowerCase()} ${path}`);
  }
  found.add('get /api/v1/events'); // the WebSocket upgrade, handled in ws.c
  return found;
}

function routesInDoc() {
  const lines = read('docs/openapi.yaml').split('\n');
  const found = new Set();
  let path = null;
  let inPaths = false;
  for (const line of lines) {
    if (/^paths:/.test(line)) { inPaths = true; continue; }
    if (/^\S/.test(line)) inPaths = false;
    if (!inPaths) continue;
    const p = line.match(/^  (\/[^:]+):\s*$/);
    if (p) { path = p[1]; continue; }
    const m = line.match(/^    (get|post|put|patch|delete):/);
    if (m && path) found.add(`${m[1]} ${path}`);
  }
  return found;
}

test('every route in the code is documented, and nothing else', () => {
  const code = [...routesInCode()].sort();
  const doc = [...routesInDoc()].sort();
  assert.deepEqual(doc, code);
});
