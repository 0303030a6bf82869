// Queue options of a flow's queue block on live calls (issue 4): hold music
// per queue, position and expected-wait announcements, the maximum wait with
// its overflow branch, priority end to end; and the hours block's branches.
// The real server (demo site) with flows written into its flows dir, sipp
// callers and baresip agents (PEERS.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { Baresip, sipp, waitRegistered } from './lib/peers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, tok;

const FLOWS = {
  overflow: `start: q1
blocks:
  q1: {kind: queue, queue: Support, max_wait: 2, overflow: q2}
  q2: {kind: queue, queue: Billing}
`,
  'overflow-out': `start: q
blocks:
  q: {kind: queue, queue: Support, max_wait: 2, overflow: bye}
  bye:
    kind: play
    text: All our agents are busy. Goodbye.
    next: out
  out: {kind: disconnect}
`,
  closed: `start: hours
blocks:
  hours:
    kind: hours
    timezone: UTC
    weekly: {daily: closed}
    open: q
    closed: msg
  q: {kind: queue, queue: Support}
  msg: {kind: play, text: We are closed., next: out}
  out: {kind: disconnect}
`,
  open: `start: hours
blocks:
  hours:
    kind: hours
    timezone: UTC
    weekly: {daily: "00:00-24:00"}
    open: q
    closed: msg
  q: {kind: queue, queue: Support}
  msg: {kind: play, text: We are closed., next: out}
  out: {kind: disconnect}
`,
  'announce-low': `start: q
blocks:
  q: {kind: queue, queue: Support, priority: 0, announce_every: 5, hold_music: music/hold.wav}
`,
  'announce-high': `start: q
blocks:
  q: {kind: queue, queue: Support, priority: 10, announce_every: 5, hold_music: music/hold.wav}
`,
};
const NUMBERS = { 7001: 'overflow', 7002: 'overflow-out', 7003: 'closed', 7004: 'open',
  7005: 'announce-low', 7006: 'announce-high' };

// A data dir whose flows dir holds these flows (and an 8 kHz tune).
function dataDirWith(flows, music = { 'hold.wav': 8000 }) {
  const dir = tempDir('sb-data-');
  mkdirSync(join(dir, 'flows', 'music'), { recursive: true });
  for (const [name, text] of Object.entries(flows)) writeFileSync(join(dir, 'flows', `${name}.yaml`), text);
  for (const [file, rate] of Object.entries(music)) {
    execFileSync('sox', ['-n', '-r', String(rate), '-c', '1', '-b', '16', join(dir, 'flows', 'music', file),
      'synth', '3', 'sine', '330', 'vol', '0.3']);
  }
  return dir;
}

const until = (what, fn, timeoutMs = 20000) => sb.until(what, fn, timeoutMs);
async function setPresence(user, status, reason) {
  const body = reason ? { status, reason } : { status };
  const r = await sb.api('PUT', `/api/v1/agents/${user}/presence`, { token: tok[user], body });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}
async function presence(user) {
  return (await sb.api('GET', `/api/v1/agents/${user}/presence`, { token: tok.admin })).body.presence;
}
async function latest() {
  return (await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok.admin })).body.interactions[0];
}
async function detail(number) {
  return (await sb.api('GET', `/api/v1/interactions/${number}`, { token: tok.admin })).body;
}
async function live(queue) {
  const qs = (await sb.api('GET', '/api/v1/queues', { token: tok.admin })).body.queues;
  return qs.find((q) => q.name === queue).live;
}
// Starts a sipp call; resolves with its interaction once it exists, and the
// sipp run (queues must be empty first: a test's leftovers would be offered).
async function dial(scenario, opts) {
  await until('empty queues', async () => (await live('Support')).waiting === 0 && (await live('Billing')).waiting === 0);
  const prev = (await latest())?.number;
  const run = sipp(sb, scenario, opts);
  const ix = await until('a new interaction', async () => {
    const x = await latest();
    return x && x.number !== prev ? x : null;
  });
  return { ix, run };
}
async function closed(number) {
  return until(`${number} closed`, async () => {
    const d = await detail(number);
    return d.state.startsWith('closed') ? d : null;
  });
}
// The announcements the server made to a call (debug log lines).
function announcements(number) {
  const re = new RegExp(`call=${number} queue=(\\w+) action=announce position=(\\d+) .*?text="([^"]*)"`, 'g');
  return [...sb.log.matchAll(re)].map((m) => ({ queue: m[1], position: Number(m[2]), text: m[3] }));
}

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'log:\n  level: debug\ncalls:\n  offer_timeout: 3\n');
  sb = await new Server({ args: ['--config', cfg], dataDir: dataDirWith(FLOWS) }).start();
  tok = {};
  // ned and beth signed in (Away): Support is staffed, nobody takes calls.
  for (const u of ['admin', 'ned', 'beth', 'carl']) tok[u] = await sb.login(u);
  for (const [did, flow] of Object.entries(NUMBERS)) {
    const r = await sb.api('PUT', `/api/v1/numbers/${did}`, { token: tok.admin, body: { flow } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  // carl takes Billing's calls (he needs the second role of the AWA pair).
  const g = await sb.api('PUT', '/api/v1/users/carl/roles/awa_integration_user', { token: tok.admin });
  assert.equal(g.status, 200, JSON.stringify(g.body));
});
after(async () => { await sb.stop(); });

test('queued callers hear their place and expected wait over the queue\'s own music; priority goes first', async () => {
  const mark = sb.log.length;
  const { ix: ixLow, run: low } = await dial('caller.xml', { service: '7005', pauseMs: 20000 });
  // The queue's music, not the default tune.
  await until('hold music', async () => sb.log.includes(`call=${ixLow.number} queue=Support action=hold music file=music/hold.wav`));
  // After 5 s: position 1; ned and beth signed in but Away (nobody taking
  // calls counts as one), no call handled yet (120 s): 1 × 120 s ÷ 1.
  const [first] = await until('first announcement', async () => announcements(ixLow.number).length >= 1 && announcements(ixLow.number));
  assert.deepEqual(first, { queue: 'Support', position: 1,
    text: 'You are number 1 in the queue. The expected wait is about 2 minutes.' });
  // A caller with priority 10 arrives later and goes ahead.
  const prev = ixLow.number;
  const high = sipp(sb, 'caller.xml', { service: '7006', pauseMs: 16000 });
  const ixHigh = await until('the second caller', async () => {
    const x = await latest();
    return x && x.number !== prev ? x : null;
  });
  const hi = await until('announcement to the priority caller', async () => announcements(ixHigh.number)[0]);
  assert.equal(hi.text, 'You are number 1 in the queue. The expected wait is about 2 minutes.');
  const lo = await until('second announcement', async () => announcements(ixLow.number)[1]);
  assert.equal(lo.text, 'You are number 2 in the queue. The expected wait is about 4 minutes.');
  assert.equal((await live('Support')).waiting, 2);
  // An agent becomes Available: the priority caller is offered first.
  const beth = await new Baresip(sb, 'beth').start();
  try {
    await waitRegistered(sb, tok.admin, 'beth');
    await setPresence('beth', 'Available');
    await until('assigned', async () => (await detail(ixHigh.number)).state === 'work_in_progress');
    const offers = [...sb.log.slice(mark).matchAll(/interaction=(INT\d+) agent=\w+ queue=\w+ action=offer/g)].map((m) => m[1]);
    assert.equal(offers[0], ixHigh.number, `offers: ${offers}`);
    assert.equal((await detail(ixHigh.number)).agent, 'beth');
    assert.equal((await low).code, 0);
    assert.equal((await closed(ixLow.number)).state, 'closed_abandoned');
    assert.equal((await high).code, 0);
    await until('wrap-up', async () => (await presence('beth')) === 'AfterCallWork');
    assert.equal((await sb.api('POST', '/api/v1/agents/beth/clear', { token: tok.beth })).status, 200);
    await setPresence('beth', 'Away', 'Done');
  } finally {
    await beth.stop();
  }
  // No announcement while talking to the agent.
  const during = announcements(ixHigh.number).length;
  await sleep(300);
  assert.equal(announcements(ixHigh.number).length, during);
});

test('the expected wait follows the queue\'s handle times: after a short call, less than a minute', async () => {
  // The first test's call was handled by beth in Support for a few seconds.
  const { ix, run } = await dial('caller.xml', { service: '7005', pauseMs: 6500 });
  const a = await until('announcement', async () => announcements(ix.number)[0]);
  assert.equal(a.text, 'You are number 1 in the queue. The expected wait is less than a minute.');
  const aht = Number(sb.log.match(new RegExp(`call=${ix.number} queue=Support action=announce .*?aht_s=(\\d+)`))[1]);
  assert.ok(aht > 0 && aht < 30, `average handle time ${aht} s`);
  assert.equal((await run).code, 0);
  assert.equal((await closed(ix.number)).state, 'closed_abandoned');
});

test('max wait: the caller leaves Support for Billing without being abandoned; an agent there answers', async () => {
  const carl = await new Baresip(sb, 'carl').start();
  try {
    await waitRegistered(sb, tok.admin, 'carl');
    const mark = sb.log.length;
    const { ix, run: call } = await dial('caller.xml', { service: '7001', pauseMs: 9000 });
    await until('waiting in Support', async () => (await live('Support')).waiting === 1);
    // After 2 s the caller is in Billing, and Support's figures drop.
    await until('moved to Billing', async () => (await live('Billing')).waiting === 1);
    assert.equal((await live('Support')).waiting, 0);
    let d = await detail(ix.number);
    assert.equal(d.state, 'new');
    assert.equal(d.queue, 'Billing');
    assert.ok(d.activity.some((a) => a.kind === 'queue' && /^Left queue Support after [23] s: overflow to Billing$/.test(a.text)),
      JSON.stringify(d.activity));
    await setPresence('carl', 'Available');
    await until('assigned to carl', async () => (await detail(ix.number)).state === 'work_in_progress');
    d = await detail(ix.number);
    assert.equal(d.agent, 'carl');
    const log = sb.log.slice(mark);
    assert.doesNotMatch(log, /queue=Support action=offer/, 'nobody in Support was offered');
    assert.match(log, new RegExp(`interaction=${ix.number} agent=carl queue=Billing action=offer`));
    assert.equal((await call).code, 0);
    await until('wrap-up', async () => (await presence('carl')) === 'AfterCallWork');
    assert.equal((await sb.api('POST', '/api/v1/agents/carl/clear', { token: tok.carl })).status, 200);
  } finally {
    await carl.stop();
  }
});

test('max wait while an agent\'s phone rings: the offer wins, the overflow follows its failure', async () => {
  const ned = await new Baresip(sb, 'ned', { answer: 'manual' }).start(); // rings, never answers
  const carl = await new Baresip(sb, 'carl').start();
  try {
    await waitRegistered(sb, tok.admin, 'ned');
    await waitRegistered(sb, tok.admin, 'carl');
    await setPresence('carl', 'Away', 'Not yet');
    await setPresence('ned', 'Available');
    const mark = sb.log.length;
    const { ix, run: call } = await dial('caller.xml', { service: '7001', pauseMs: 9000 });
    await until('ned rings', async () => sb.log.slice(mark).includes(`call=${ix.number} agent=ned action=ringing`));
    await setPresence('carl', 'Available');
    // 2 s: max wait, ned still ringing; 3 s: ned's offer times out, then Billing.
    await until('max wait during the offer', async () => sb.log.slice(mark).includes(`call=${ix.number} action=max wait passed while an offer rings`));
    assert.equal((await detail(ix.number)).queue, 'Support');
    await until('assigned to carl', async () => (await detail(ix.number)).state === 'work_in_progress');
    const d = await detail(ix.number);
    assert.equal(d.agent, 'carl');
    const texts = d.activity.map((a) => a.text);
    const missed = texts.findIndex((t) => /Offer to ned not answered/.test(t));
    const left = texts.findIndex((t) => /^Left queue Support after [34] s: overflow to Billing$/.test(t));
    assert.ok(missed >= 0 && left > missed, JSON.stringify(texts));
    assert.equal((await call).code, 0);
    await until('wrap-up', async () => (await presence('carl')) === 'AfterCallWork');
    assert.equal((await sb.api('POST', '/api/v1/agents/carl/clear', { token: tok.carl })).status, 200);
    await setPresence('carl', 'Away', 'Done');
    await setPresence('ned', 'Away', 'Done');
  } finally {
    await ned.stop();
    await carl.stop();
  }
});

test('max wait into a goodbye: the flow plays and hangs up; Closed Complete, not abandoned', async () => {
  const mark = sb.log.length;
  const r = await sipp(sb, 'caller_hungup.xml', { service: '7002', waitMs: 15000 });
  assert.equal(r.code, 0, r.out);
  const ix = await latest();
  const d = await closed(ix.number);
  assert.equal(d.state, 'closed_complete');
  assert.equal(d.queue, 'Support'); // it did wait there
  assert.ok(d.activity.some((a) => a.kind === 'queue' && /^Left queue Support after [23] s: overflow to block 'bye'$/.test(a.text)),
    JSON.stringify(d.activity));
  assert.match(sb.log.slice(mark), new RegExp(`call=${ix.number} block=out action=flow hangs up`));
  assert.equal((await live('Support')).waiting, 0);
});

test('hours: a closed schedule plays its message and hangs up, never queued; an open one queues', async () => {
  const mark = sb.log.length;
  const r = await sipp(sb, 'caller_hungup.xml', { service: '7003', waitMs: 10000 });
  assert.equal(r.code, 0, r.out);
  const shut = await closed((await latest()).number);
  assert.equal(shut.state, 'closed_complete');
  assert.equal(shut.queue, null);
  assert.match(sb.log.slice(mark), new RegExp(`call=${shut.number} block=out action=flow hangs up`));
  assert.doesNotMatch(sb.log.slice(mark), new RegExp(`call=${shut.number} action=flow ends queue`));
  const o = await sipp(sb, 'caller.xml', { service: '7004', pauseMs: 2000 });
  assert.equal(o.code, 0, o.out);
  const open = await closed((await latest()).number);
  assert.notEqual(open.number, shut.number);
  assert.match(sb.log, new RegExp(`call=${open.number} action=flow ends queue=Support`));
  assert.equal(open.state, 'closed_abandoned');
  assert.equal(open.queue, 'Support');
});

test('a queue block\'s hold music must load: the server refuses to start, with file and line', async () => {
  const flows = { bad: 'start: q\nblocks:\n  q:\n    kind: queue\n    queue: Support\n    hold_music: music/slow.wav\n' };
  const bad = new Server({ dataDir: dataDirWith(flows, { 'slow.wav': 2000 }) });
  await assert.rejects(bad.start(), /bad\.yaml:3: block 'q': hold music 'music\/slow\.wav': .*2000 Hz; prompts may be 4000 to 192000 Hz/);
  assert.equal((await bad.exited).code, 1);
  const gone = { gone: 'start: q\nblocks:\n  q: {kind: queue, queue: Support, hold_music: music/nope.wav}\n' };
  const none = new Server({ dataDir: dataDirWith(gone, {}) });
  await assert.rejects(none.start(), /gone\.yaml:3: block 'q': hold music 'music\/nope\.wav'/);
  assert.equal((await none.exited).code, 1);
});
