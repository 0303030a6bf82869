// Media workers (issue 16, docs/MEDIA.md "Media workers") in the real
// server with `media.workers: 2`: two calls at once land on the two
// workers (GET /api/v1/health `media.workers[].legs`), each carries audio
// both ways on its own worker, and a warm transfer on one of them (its
// consult leg made on that call's worker) hands the customer to the other
// agent with audio. Then the case of legs that start apart: a desk
// phone's attended transfer, whose consult call is a new INVITE from the
// agent's phone while the other worker is idle. It joins the customer's
// call, so it is made on that call's worker, and after the REFER with
// Replaces the customer and the second agent hear each other. Every
// party's microphone is a tone of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { Baresip, Linphone, waitRegistered } from './lib/peers.mjs';
import { TONES, readWav, toneLevel, toneWav } from './lib/tones.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const HZ = { ...TONES, cora: 1100 }; // cora: the second customer
let sb, tok;
const until = (what, fn, timeoutMs = 15000) => sb.until(what, fn, timeoutMs);
const phones = [];

async function presence(user) {
  return (await sb.api('GET', `/api/v1/agents/${user}/presence`, { token: tok.admin })).body.presence;
}
async function available(user) {
  const r = await sb.api('PUT', `/api/v1/agents/${user}/presence`, { token: tok[user], body: { status: 'Available' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}
const act = (user, number, action, body) =>
  sb.api('POST', `/api/v1/calls/${number}/${action}`, { token: tok[user], body });
async function workers() {
  const r = await sb.api('GET', '/api/v1/health');
  assert.equal(r.status, 200);
  return r.body.media.workers;
}
async function phone(user, opts = {}) {
  const p = await new Baresip(sb, user, { audio: toneWav(HZ[user] || HZ.cora), ...opts }).start();
  phones.push(p);
  return p;
}
// A customer calls Support and an agent answers: the interaction.
async function call(who, user, prev) {
  const p = await phone(who, { audio: toneWav(HZ[user]), register: false });
  await sleep(300);
  await p.command('dial', `sip:5000@127.0.0.1:${sb.sipPort}`);
  const ix = await until(`${user}'s call answered`, async () => {
    const r = await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok.admin });
    const x = r.body.interactions[0];
    return x && x.number !== prev && x.state === 'work_in_progress' && x.agent ? x : null;
  });
  return { p, ix };
}
// Which tones a phone heard in the last `secs` seconds of its latest call.
function heardLast(p, secs) {
  const wavs = p.receivedWavs().sort((x, y) => statSync(x).mtimeMs - statSync(y).mtimeMs);
  assert.ok(wavs.length >= 1, `${p.user} received no call`);
  const rx = readWav(wavs[wavs.length - 1]);
  const end = rx.samples.length / rx.rate;
  return Object.entries(HZ).filter(([, hz]) => toneLevel(rx, hz, end - secs, end - 0.3) > 0.02).map(([n]) => n).sort();
}

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'media:\n  workers: 2\ncalls:\n  greeting_ms: 300\n  offer_timeout: 3\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
  tok = {};
  for (const u of ['admin', 'ned', 'beth']) tok[u] = await sb.login(u);
});
after(async () => { while (phones.length) await phones.pop().stop(); await sb.stop(); });

test('two calls on two media workers, each with audio both ways; a warm transfer on one of them', async () => {
  let w = await workers();
  assert.equal(w.length, 2, 'media.workers: 2');
  assert.deepEqual(w.map((x) => x.legs), [0, 0]);
  const ned = await phone('ned'), beth = await phone('beth');
  await waitRegistered(sb, tok.admin, 'ned');
  await waitRegistered(sb, tok.admin, 'beth');
  await available('ned');
  await available('beth');

  // Amy's call: both workers idle, it goes to the first.
  const a = await call('15550100', 'amy', '');
  const agentA = a.ix.agent, agentB = agentA === 'ned' ? 'beth' : 'ned';
  const phoneOf = { ned, beth };
  await until('the first call on worker 0', async () => { w = await workers(); return w[0].legs === 2 && w[1].legs === 0; });
  // Cora's call: the other agent; the worker with the fewest legs.
  const c = await call('15550142', 'cora', a.ix.number);
  assert.equal(c.ix.agent, agentB);
  await until('the second call on worker 1', async () => { w = await workers(); return w[0].legs === 2 && w[1].legs === 2; });
  await sleep(3000);
  assert.deepEqual(heardLast(a.p, 2), [agentA], 'Amy hears her agent only');
  assert.deepEqual(heardLast(c.p, 2), [agentB], 'Cora hears her agent only');
  assert.deepEqual(heardLast(phoneOf[agentA], 2), ['amy']);
  assert.deepEqual(heardLast(phoneOf[agentB], 2), ['cora']);
  w = await workers();
  for (const x of w) {
    assert.ok(x.rx_packets > 100, `worker ${x.worker} received RTP: ${JSON.stringify(x)}`);
    assert.ok(x.cpu_seconds > 0);
  }

  // Amy hangs up; her agent wraps up and is free: worker 0 empties.
  await a.p.command('hangup');
  await until(`${agentA} in wrap-up`, async () => (await presence(agentA)) === 'AfterCallWork');
  assert.equal((await sb.api('POST', `/api/v1/agents/${agentA}/clear`, { token: tok[agentA], body: {} })).status, 200);
  await available(agentA);
  await until('worker 0 empty', async () => (await workers())[0].legs === 0);

  // Cora's agent transfers her warm to Amy's: the consult leg is made on
  // Cora's call's worker (1), not the idle one.
  let r = await act(agentB, c.ix.number, 'transfer', { to: { agent: agentA } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await until('consult up', async () => (await presence(agentA)) === 'Busy');
  // customer, first and second agent on worker 1 (the figures are pushed every 500 ms)
  await until('the consult leg on worker 1', async () => { w = await workers(); return w[0].legs === 0 && w[1].legs === 3; });
  await sleep(1500);
  r = await act(agentA, c.ix.number, 'join');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await sleep(1000);
  r = await act(agentB, c.ix.number, 'leave');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await sleep(3000);
  assert.deepEqual(heardLast(c.p, 2), [agentA], 'after the transfer Cora hears the second agent');
  assert.deepEqual(heardLast(phoneOf[agentA], 2), ['cora']);
  await c.p.command('hangup');
  await until('every leg freed', async () => (await workers()).every((x) => x.legs === 0));
  const lost = (await workers()).reduce((s, x) => s + x.rx_lost, 0);
  assert.ok(lost < 20, `RTP lost on the workers: ${lost}`);
});

test('a desk phone\'s consult call is a new INVITE while the other worker is idle: it is made on its customer\'s call\'s worker, and after the REFER the customer hears the second agent', async () => {
  while (phones.length) await phones.pop().stop();
  for (const u of ['ned', 'beth']) { // the first test's second agent may still be wrapping up
    await until(`${u} off the call`, async () => (await presence(u)) !== 'Busy');
    if ((await presence(u)) === 'AfterCallWork') await sb.api('POST', `/api/v1/agents/${u}/clear`, { token: tok[u], body: {} });
  }
  const ned = await new Linphone(sb, 'ned').start();
  phones.push(ned);
  await waitRegistered(sb, tok.admin, 'ned');
  const beth = await phone('beth');
  await waitRegistered(sb, tok.admin, 'beth');
  await sb.api('PUT', '/api/v1/agents/beth/presence', { token: tok.beth, body: { status: 'Away', reason: 'Break' } });
  await available('ned');
  const prev = (await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok.admin })).body.interactions[0]?.number || '';
  const a = await call('15550100', 'amy', prev);
  assert.equal(a.ix.agent, 'ned');
  let w;
  const legsOn = async () => (w = await workers()).map((x) => x.legs);
  await until('Amy\'s call on worker 0, worker 1 idle', async () => (await legsOn()).join() === '2,0');
  await available('beth');
  const roster = async () => (await sb.api('GET', `/api/v1/calls/${a.ix.number}`, { token: tok.ned })).body;
  ned.send('pause 1');
  await until('Amy held by the phone', async () => (await roster()).legs?.some((l) => l.role === 'agent' && l.state === 'held'));
  // The new INVITE (Ned's phone to Beth) and Beth's consult leg: worker 1
  // has the fewest legs, but both are Amy's call's, so both go to worker 0.
  ned.send(`call sip:beth@127.0.0.1:${sb.sipPort}`);
  await until('the consult', async () => (await roster()).phase === 'consult');
  await until('the phone\'s consult call and Beth\'s leg on worker 0', async () => (await legsOn()).join() === '4,0');
  await sleep(1500);
  ned.send('transfer 1 --to-call 2');
  await until('reassigned to Beth', async () => (await sb.api('GET', `/api/v1/interactions/${a.ix.number}`, { token: tok.admin })).body.agent === 'beth');
  await until('Ned\'s two calls gone: Amy and Beth left on worker 0', async () => (await legsOn()).join() === '2,0');
  await sleep(3000);
  assert.deepEqual(heardLast(a.p, 2), ['beth'], 'after the transfer Amy hears Beth');
  assert.deepEqual(heardLast(beth, 2), ['amy'], 'and Beth hears Amy');
  await a.p.command('hangup');
  await until('every leg freed', async () => (await workers()).every((x) => x.legs === 0));
  assert.ok(w.reduce((s, x) => s + x.rx_lost, 0) < 20, `RTP lost on the workers: ${JSON.stringify(w)}`);
});
