// Click-to-call works on a fresh demo (issue 10): with no calls.outbound_uri,
// the demo's own customer answers every number dialled out and speaks
// (src/callctl/democust.c), so every record's phone link rings someone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { Baresip, waitRegistered, wavInfo } from './lib/peers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, admin, nedTok, ev, ned;

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'calls:\n  greeting_ms: 0\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
  admin = await sb.login('admin');
  nedTok = await sb.login('ned');
  ev = await sb.events(nedTok);
  ned = await new Baresip(sb, 'ned').start(); // answers every call at once
  await waitRegistered(sb, admin, 'ned');
});
after(async () => {
  ev?.close();
  await ned?.stop();
  await sb.stop();
});

test('a click-to-call on a fresh demo is answered by the demo customer, who speaks', async () => {
  assert.match(sb.log, /answered by a demo customer who speaks/);
  assert.equal((await sb.api('PUT', '/api/v1/agents/ned/presence', { token: nedTok, body: { status: 'Available' } })).status, 200);
  const r = await sb.api('POST', '/api/v1/calls', { token: nedTok, body: { record: { table: 'user', key: 'amy' } } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const num = r.body.interaction;
  await ev.next((m) => m.type === 'presence' && m.to === 'Busy' && m.interaction === num, 15000);
  await sleep(5000); // the customer talks (the agent's phone too)
  assert.equal((await sb.api('POST', `/api/v1/calls/${num}/end`, { token: nedTok })).status, 202);
  await ev.next((m) => m.type === 'presence' && m.to === 'AfterCallWork' && m.interaction === num, 10000);
  await sleep(500);
  const file = join(sb.dataDir, 'recordings', `${num}.wav`);
  const customer = wavInfo(file, 1), agent = wavInfo(file, 2);
  assert.ok(customer.seconds >= 4, `a ${customer.seconds} s recording`);
  assert.ok(customer.rms > 0.01, `the customer's channel has speech (RMS ${customer.rms})`);
  assert.ok(agent.rms > 0.01, `the agent's channel has speech (RMS ${agent.rms})`);
  assert.match(sb.log, /action=answered number=\+?1?5550199 \(the demo's customer\)/);
  const ix = (await sb.api('GET', `/api/v1/interactions/${num}`, { token: admin })).body;
  assert.equal(ix.direction, 'outbound');
  // The demo customer's legs write no interaction of their own.
  const list = (await sb.api('GET', '/api/v1/interactions?limit=10', { token: admin })).body.interactions;
  assert.equal(list.length, 1, JSON.stringify(list.map((i) => [i.number, i.direction])));
});

test('an inbound call is linked to the record the call flow found: her case (issue 10)', async () => {
  const { sipp } = await import('./lib/peers.mjs');
  const call = await sipp(sb, 'caller.xml', { service: '5002', caller: '15550199', pauseMs: 4000 });
  assert.equal(call.code, 0, call.out);
  const list = (await sb.api('GET', '/api/v1/interactions?limit=5&direction=inbound', { token: admin })).body.interactions;
  const ix = (await sb.api('GET', `/api/v1/interactions/${list[0].number}`, { token: admin })).body;
  assert.deepEqual({ table: ix.linked_record?.table, number: ix.linked_record?.number }, { table: 'case', number: 'CS0001002' },
    JSON.stringify(ix.linked_record));
  assert.ok(ix.activity.some((a) => a.text === 'Linked to case CS0001002 (found by the call flow)'), JSON.stringify(ix.activity));
});
