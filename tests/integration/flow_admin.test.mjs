// Call flows over the API and on SIGHUP (issue 4, point 1): PUT/GET/DELETE
// /api/v1/flows/{name}, POST /api/v1/flows/reload, and a caller in the
// middle of a flow who keeps the version he started with. Real server, real
// sipp callers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { sipp } from './lib/peers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, tok, flowsDir;

const until = (what, fn, timeoutMs = 15000) => sb.until(what, fn, timeoutMs);

// PUT a flow's YAML as the body (not JSON).
async function putFlow(name, yaml, token = tok.admin) {
  const r = await fetch(`${sb.url}/api/v1/flows/${name}`, {
    method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/yaml' }, body: yaml });
  const text = await r.text();
  let body;
  try { body = JSON.parse(text); } catch { body = { unparsable: text }; }
  return { status: r.status, body };
}

// The latest interaction of a caller's number once it is closed.
async function closedFor(caller) {
  return until(`the call from ${caller} closed`, async () => {
    const r = await sb.api('GET', '/api/v1/interactions?limit=50', { token: tok.admin });
    const x = r.body.interactions.find((i) => i.caller_number === caller);
    return x && x.state !== 'new' ? x : null;
  });
}

const flowTo = (queue, prompt = 'text: One moment please.') =>
  `name: q\nstart: hi\nblocks:\n  hi:\n    kind: play\n    ${prompt}\n    next: q\n  q:\n    kind: queue\n    queue: ${queue}\n`;

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'calls:\n  greeting_ms: 300\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
  flowsDir = join(sb.dataDir, 'flows');
  tok = {};
  for (const u of ['admin', 'mia', 'ned']) tok[u] = await sb.login(u);
});
after(async () => { await sb.stop(); });

test('an admin PUTs a new flow, points a number at it, and a call follows it', async () => {
  const yaml = flowTo('Billing');
  const r = await putFlow('t-billing', yaml);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.name, 't-billing');
  assert.equal(r.body.blocks, 2);
  assert.equal(r.body.file, join(flowsDir, 't-billing.yaml'));
  assert.equal(readFileSync(join(flowsDir, 't-billing.yaml'), 'utf8'), yaml);
  const n = await sb.api('PUT', '/api/v1/numbers/7101', { token: tok.admin, body: { flow: 't-billing' } });
  assert.deepEqual(n.body, { number: '7101', flow: 't-billing' });
  const call = await sipp(sb, 'caller.xml', { service: '7101', caller: '15550101', pauseMs: 3000 });
  assert.equal(call.code, 0, call.out);
  const ix = await closedFor('15550101');
  assert.equal(ix.queue, 'Billing');
  assert.equal(ix.state, 'closed_abandoned');
  const list = (await sb.api('GET', '/api/v1/flows', { token: tok.admin })).body.flows;
  const f = list.find((x) => x.name === 't-billing');
  assert.deepEqual(f.numbers, ['7101']);
  assert.ok(list.some((x) => x.name === 'main' && x.numbers.includes('5002')));
  const one = await sb.api('GET', '/api/v1/flows/t-billing', { token: tok.admin });
  assert.equal(one.body.source, yaml);
  assert.match(one.body.loaded_at, /^\d{4}-\d\d-\d\dT/);
});

test('a broken flow gets 422 naming the line and block; nothing is written and the old flow serves', async () => {
  const before = readFileSync(join(flowsDir, 't-billing.yaml'), 'utf8');
  const badBranch = 'start: hi\nblocks:\n  hi: {kind: play, text: Hi., next: nowhere}\n';
  let r = await putFlow('t-billing', badBranch);
  assert.equal(r.status, 422, JSON.stringify(r.body));
  assert.equal(r.body.error, 'invalid_flow');
  assert.equal(r.body.line, 3);
  assert.equal(r.body.block, 'hi');
  assert.match(r.body.message, /^t-billing\.yaml:3: block 'hi': 'next' goes to 'nowhere', which is not a block/);
  r = await putFlow('t-billing', flowTo('Nope'));
  assert.equal(r.status, 422);
  assert.equal(r.body.block, 'q');
  assert.match(r.body.message, /t-billing\.yaml:\d+: block 'q': no queue named 'Nope'/);
  r = await putFlow('t-billing', 'start: hi\nblocks:\n\thi: x\n');
  assert.equal(r.status, 422);
  assert.equal(r.body.line, 3);
  r = await putFlow('t-new', 'kind: [unclosed\n');
  assert.equal(r.status, 422);
  assert.equal(existsSync(join(flowsDir, 't-new.yaml')), false);
  assert.equal(readFileSync(join(flowsDir, 't-billing.yaml'), 'utf8'), before);
  assert.equal((await sb.api('GET', '/api/v1/flows/t-billing', { token: tok.admin })).body.source, before);
  const call = await sipp(sb, 'caller.xml', { service: '7101', caller: '15550102', pauseMs: 2500 });
  assert.equal(call.code, 0, call.out);
  assert.equal((await closedFor('15550102')).queue, 'Billing');
});

test('a caller in the middle of a flow keeps its old version while a new caller gets the new one', async () => {
  // A 6-second prompt holds the first caller in the flow while it is replaced.
  execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', join(flowsDir, 'long.wav'), 'synth', '6', 'sine', '300', 'vol', '0.1']);
  const r = await putFlow('t-long', flowTo('Billing', 'file: long.wav'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await sb.api('PUT', '/api/v1/numbers/7102', { token: tok.admin, body: { flow: 't-long' } })).status, 200);
  const first = sipp(sb, 'caller.xml', { service: '7102', caller: '15550201', pauseMs: 9000 });
  await until('the first caller in the prompt', async () => /action=answered from=15550201 did=7102 flow=t-long/.test(sb.log));
  await sleep(800);
  const mark = sb.log.length;
  const r2 = await putFlow('t-long', flowTo('Support'));
  assert.equal(r2.status, 200, JSON.stringify(r2.body));
  const second = await sipp(sb, 'caller.xml', { service: '7102', caller: '15550202', pauseMs: 3000 });
  assert.equal(second.code, 0, second.out);
  assert.equal((await first).code, 0);
  const a = await closedFor('15550201');
  const b = await closedFor('15550202');
  assert.equal(a.queue, 'Billing', 'the caller who started in the old flow reaches its queue');
  assert.equal(b.queue, 'Support', 'the next caller runs the new flow');
  // The first caller was still in the flow when it was replaced.
  assert.match(sb.log.slice(mark), new RegExp(`call=${a.number} action=flow ends queue=Billing`));
});

test('SIGHUP reloads a flow file edited on disk', async () => {
  const yaml = flowTo('Support', 'text: Hello again.');
  writeFileSync(join(flowsDir, 't-billing.yaml'), yaml);
  const mark = sb.log.length;
  sb.proc.kill('SIGHUP');
  await until('reloaded', async () => /action=flows reloaded/.test(sb.log.slice(mark)));
  assert.match(sb.log.slice(mark), /action=flow replaced name=t-billing/);
  assert.doesNotMatch(sb.log.slice(mark), /action=flow replaced name=main/, 'an unchanged flow stays as it was');
  assert.equal((await sb.api('GET', '/api/v1/flows/t-billing', { token: tok.admin })).body.source, yaml);
  const call = await sipp(sb, 'caller.xml', { service: '7101', caller: '15550301', pauseMs: 2500 });
  assert.equal(call.code, 0, call.out);
  assert.equal((await closedFor('15550301')).queue, 'Support');
});

test('SIGHUP or a reload with a broken file changes nothing and says where', async () => {
  const good = readFileSync(join(flowsDir, 't-billing.yaml'), 'utf8');
  writeFileSync(join(flowsDir, 't-added.yaml'), flowTo('Billing'));
  writeFileSync(join(flowsDir, 't-billing.yaml'), flowTo('Nope'));
  const mark = sb.log.length;
  sb.proc.kill('SIGHUP');
  await until('refused', async () => /flows not reloaded \(nothing changed\)/.test(sb.log.slice(mark)));
  assert.match(sb.log.slice(mark), /t-billing\.yaml:\d+: block 'q': no queue named 'Nope'/);
  const names = (await sb.api('GET', '/api/v1/flows', { token: tok.admin })).body.flows.map((f) => f.name);
  assert.ok(!names.includes('t-added'), 'the good new file was not loaded either');
  assert.equal((await sb.api('GET', '/api/v1/flows/t-billing', { token: tok.admin })).body.source, good);
  const r = await sb.api('POST', '/api/v1/flows/reload', { token: tok.admin });
  assert.equal(r.status, 422, JSON.stringify(r.body));
  assert.equal(r.body.block, 'q');
  assert.equal(r.body.file, join(flowsDir, 't-billing.yaml'));
  const call = await sipp(sb, 'caller.xml', { service: '7101', caller: '15550401', pauseMs: 2500 });
  assert.equal(call.code, 0, call.out);
  assert.equal((await closedFor('15550401')).queue, 'Support');
  // Fixed on disk: the API reload takes both files.
  writeFileSync(join(flowsDir, 't-billing.yaml'), good);
  const ok = await sb.api('POST', '/api/v1/flows/reload', { token: tok.admin });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.ok(ok.body.flows.some((f) => f.name === 't-added'));
});

test('only admins change flows; managers read them; agents do neither', async () => {
  const yaml = flowTo('Billing');
  assert.equal((await sb.api('GET', '/api/v1/flows', { token: tok.ned })).status, 403);
  assert.equal((await sb.api('GET', '/api/v1/flows/t-billing', { token: tok.ned })).status, 403);
  assert.equal((await putFlow('t-billing', yaml, tok.ned)).status, 403);
  assert.equal((await putFlow('t-billing', yaml, tok.mia)).status, 403);
  assert.equal((await sb.api('DELETE', '/api/v1/flows/t-added', { token: tok.mia })).status, 403);
  assert.equal((await sb.api('POST', '/api/v1/flows/reload', { token: tok.ned })).status, 403);
  assert.equal((await sb.api('GET', '/api/v1/flows')).status, 401);
  const m = await sb.api('GET', '/api/v1/flows/t-billing', { token: tok.mia });
  assert.equal(m.status, 200);
  assert.ok(m.body.source.includes('queue: Support'));
  // Names and bodies.
  const bad = await putFlow('Bad.Name', yaml);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'invalid_parameter');
  assert.equal((await putFlow('x'.repeat(61), yaml)).status, 400);
  assert.equal((await sb.api('GET', '/api/v1/flows/nope', { token: tok.admin })).status, 404);
  const empty = await putFlow('t-empty', '');
  assert.equal(empty.status, 400);
  assert.equal(empty.body.error, 'invalid_body');
  const big = await putFlow('t-big', `# ${'x'.repeat(70000)}\n${yaml}`);
  assert.equal(big.status, 413);
  assert.equal(existsSync(join(flowsDir, 't-big.yaml')), false);
});

test('DELETE of a flow a number runs gets 409; an unused one goes with its file; a reload may not orphan a number', async () => {
  const used = await sb.api('DELETE', '/api/v1/flows/t-billing', { token: tok.admin });
  assert.equal(used.status, 409, JSON.stringify(used.body));
  assert.match(used.body.message, /number 7101 runs the flow 't-billing'/);
  assert.equal((await sb.api('GET', '/api/v1/flows/t-billing', { token: tok.admin })).status, 200);
  assert.equal((await sb.api('DELETE', '/api/v1/numbers/7101', { token: tok.admin })).status, 200);
  const del = await sb.api('DELETE', '/api/v1/flows/t-billing', { token: tok.admin });
  assert.deepEqual(del.body, { name: 't-billing', deleted: true });
  assert.equal(existsSync(join(flowsDir, 't-billing.yaml')), false);
  assert.equal((await sb.api('GET', '/api/v1/flows/t-billing', { token: tok.admin })).status, 404);
  assert.equal((await sb.api('DELETE', '/api/v1/flows/t-billing', { token: tok.admin })).status, 404);
  // 7102 runs t-long: removing its file and reloading is refused, nothing changes.
  const src = readFileSync(join(flowsDir, 't-long.yaml'), 'utf8');
  unlinkSync(join(flowsDir, 't-long.yaml'));
  const r = await sb.api('POST', '/api/v1/flows/reload', { token: tok.admin });
  assert.equal(r.status, 409, JSON.stringify(r.body));
  assert.match(r.body.message, /number 7102 runs the flow 't-long', and its file is gone/);
  assert.equal((await sb.api('GET', '/api/v1/flows/t-long', { token: tok.admin })).body.source, src);
  writeFileSync(join(flowsDir, 't-long.yaml'), src);
});
