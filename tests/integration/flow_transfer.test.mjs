// A flow's transfer block (issue 4, point 1): Switchboard dials the external
// number through calls.outbound_uri and bridges the caller to the far end
// (a sipp UAS that echoes RTP), or takes the block's failed branch when the
// far end is busy, nobody listens, or no outbound route is configured.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { farEnd as sippFarEnd, freeUdpPort, sipp, wavInfo } from './lib/peers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SIPP_DIR = new URL('./sipp/', import.meta.url).pathname;
let sb, tok, farPort;

const until = (server, what, fn, timeoutMs = 20000) => server.until(what, fn, timeoutMs);

// The external party: sipp's built-in UAS with RTP echo, or a scenario file.
const farEnd = (port, scenario, pauseMs = 0) => sippFarEnd(port, { scenario, pauseMs });

async function putFlow(server, token, name, yaml) {
  const r = await fetch(`${server.url}/api/v1/flows/${name}`, {
    method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: yaml });
  assert.equal(r.status, 200, await r.text());
}

const TRANSFER_FLOW = [
  'start: hi',
  'blocks:',
  '  hi: {kind: play, text: Connecting you., next: out}',
  '  out: {kind: transfer, number: "+15550100", failed: sorry}',
  '  sorry: {kind: play, text: Sorry., next: q}',
  '  q: {kind: queue, queue: Billing}',
  '',
].join('\n');

async function closedFor(server, token, caller) {
  return until(server, `the call from ${caller} closed`, async () => {
    const r = await server.api('GET', '/api/v1/interactions?limit=50', { token });
    const x = r.body.interactions.find((i) => i.caller_number === caller);
    return x && x.state !== 'new' ? x : null;
  });
}

const activity = async (server, token, number) =>
  (await server.api('GET', `/api/v1/interactions/${number}`, { token })).body.activity;

before(async () => {
  farPort = await freeUdpPort();
  const cfg = writeConfig(tempDir('sb-cfg-'),
    `calls:\n  greeting_ms: 300\n  outbound_uri: "sip:127.0.0.1:${farPort}"\n  transfer_timeout: 4\n`);
  sb = await new Server({ args: ['--config', cfg] }).start();
  tok = await sb.login('admin');
  await putFlow(sb, tok, 't-xfer', TRANSFER_FLOW);
  const n = await sb.api('PUT', '/api/v1/numbers/7201', { token: tok, body: { flow: 't-xfer' } });
  assert.equal(n.status, 200);
});
after(async () => { await sb.stop(); });

test('a transfer block dials the external number and bridges the caller; the call is recorded and Closed Complete', async () => {
  const far = await farEnd(farPort);
  await sleep(300);
  const call = await sipp(sb, 'caller.xml', { service: '7201', caller: '15550501', pauseMs: 7000 });
  assert.equal(call.code, 0, call.out);
  assert.equal(await far.exited, 0, far.out());
  assert.match(far.messages(), /INVITE sip:\+15550100@127\.0\.0\.1:\d+ SIP\/2\.0/);
  assert.match(far.messages(), /From: .*<sip:15550501@/);
  const ix = await closedFor(sb, tok, '15550501');
  assert.equal(ix.state, 'closed_complete');
  assert.equal(ix.queue, null, 'handled by the flow, never queued');
  const act = await activity(sb, tok, ix.number);
  assert.ok(act.some((a) => a.kind === 'transfer' && a.text === 'Transferred to +15550100'), JSON.stringify(act));
  assert.ok(act.some((a) => a.kind === 'recording'), JSON.stringify(act));
  assert.match(sb.log, new RegExp(`call=${ix.number} action=transferred to \\+15550100: bridged`));
  const wav = join(sb.dataDir, 'recordings', `${ix.number}.wav`);
  await until(sb, 'the recording', async () => existsSync(wav) && wavInfo(wav).seconds > 0);
  assert.ok(wavInfo(wav, 1).rms > 0.01, `caller channel RMS ${wavInfo(wav, 1).rms}`);
  assert.ok(wavInfo(wav, 2).rms > 0.01, `far end channel RMS ${wavInfo(wav, 2).rms} (the UAS echoes the caller)`);
});

test('the far end hangs up first: the caller is hung up and the interaction is Closed Complete', async () => {
  const far = await farEnd(farPort, 'uas_answer_bye.xml', 2500);
  await sleep(300);
  const t0 = Date.now();
  const call = await sipp(sb, 'caller_bye.xml', { service: '7201', caller: '15550506', waitMs: 15000 });
  assert.equal(call.code, 0, call.out);
  assert.ok(Date.now() - t0 < 12000, 'the caller was hung up by Switchboard, not after its own pause');
  assert.equal(await far.exited, 0, far.out());
  const ix = await closedFor(sb, tok, '15550506');
  assert.equal(ix.state, 'closed_complete');
  assert.match(sb.log, new RegExp(`call=${ix.number} action=the far end of the transfer hung up`));
});

test('the caller hangs up while the external number rings: it is cancelled, Closed Complete', async () => {
  const far = await farEnd(farPort, 'uas_noanswer.xml');
  await sleep(300);
  const call = await sipp(sb, 'caller.xml', { service: '7201', caller: '15550507', pauseMs: 2500 });
  assert.equal(call.code, 0, call.out);
  assert.equal(await far.exited, 0, far.out());
  const ix = await closedFor(sb, tok, '15550507');
  assert.equal(ix.state, 'closed_complete');
  assert.equal(ix.queue, null);
});

test('a busy external number (486) takes the failed branch', async () => {
  const far = await farEnd(farPort, 'uas_busy.xml');
  await sleep(300);
  const call = await sipp(sb, 'caller.xml', { service: '7201', caller: '15550502', pauseMs: 5000 });
  assert.equal(call.code, 0, call.out);
  assert.equal(await far.exited, 0, far.out());
  const ix = await closedFor(sb, tok, '15550502');
  assert.equal(ix.queue, 'Billing', 'the failed branch leads to Billing');
  assert.equal(ix.state, 'closed_abandoned');
  const act = await activity(sb, tok, ix.number);
  assert.ok(act.some((a) => a.kind === 'transfer' && /Transfer to \+15550100 failed: SIP 486/.test(a.text)), JSON.stringify(act));
});

test('an external number that rings past calls.transfer_timeout is cancelled; the failed branch follows', async () => {
  const far = await farEnd(farPort, 'uas_noanswer.xml');
  await sleep(300);
  const call = await sipp(sb, 'caller.xml', { service: '7201', caller: '15550505', pauseMs: 9000 });
  assert.equal(call.code, 0, call.out);
  assert.equal(await far.exited, 0, far.out());
  assert.match(far.messages(), /CANCEL sip:\+15550100@/);
  const ix = await closedFor(sb, tok, '15550505');
  assert.equal(ix.queue, 'Billing');
  const act = await activity(sb, tok, ix.number);
  assert.ok(act.some((a) => a.kind === 'transfer' && a.text === 'Transfer to +15550100 failed: no answer'), JSON.stringify(act));
});

test('nobody listening at the outbound route takes the failed branch too', async () => {
  const call = await sipp(sb, 'caller.xml', { service: '7201', caller: '15550503', pauseMs: 9000 });
  assert.equal(call.code, 0, call.out);
  const ix = await closedFor(sb, tok, '15550503');
  assert.equal(ix.queue, 'Billing');
  const act = await activity(sb, tok, ix.number);
  assert.ok(act.some((a) => a.kind === 'transfer' && /Transfer to \+15550100 failed/.test(a.text)), JSON.stringify(act));
});

test('without calls.outbound_uri a transfer takes the failed branch at once; a bad URI stops the start', async () => {
  // (demo_customer: false — the demo otherwise answers every outside number itself.)
  const plain = await new Server({ args: ['--config', writeConfig(tempDir('sb-cfg-'), 'calls:\n  greeting_ms: 300\n  demo_customer: false\n')] }).start();
  try {
    const t = await plain.login('admin');
    await putFlow(plain, t, 't-xfer', TRANSFER_FLOW);
    assert.equal((await plain.api('PUT', '/api/v1/numbers/7201', { token: t, body: { flow: 't-xfer' } })).status, 200);
    const call = await sipp(plain, 'caller.xml', { service: '7201', caller: '15550504', pauseMs: 4000 });
    assert.equal(call.code, 0, call.out);
    const ix = await closedFor(plain, t, '15550504');
    assert.equal(ix.queue, 'Billing');
    assert.match(plain.log, /action=transfer to \+15550100 impossible: no outbound route \(calls.outbound_uri\)/);
    const act = await activity(plain, t, ix.number);
    assert.ok(act.some((a) => a.kind === 'transfer' && a.text === 'Transfer failed: no outbound route'));
  } finally {
    await plain.stop();
  }
  const bad = new Server({ args: ['--config', writeConfig(tempDir('sb-cfg-'), 'calls:\n  outbound_uri: "sip:x@127.0.0.1"\n')] });
  await assert.rejects(bad.start(), /calls.outbound_uri must be sip:host or sip:host:port/);
  assert.equal((await bad.exited).code, 1);
});
