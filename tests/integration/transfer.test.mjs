// Transfers between agents (issue 12, SPEC.md §6) with real phones: Amy
// calls from baresip, Ned and Beth answer on baresip. Each party's
// microphone is a tone of its own (lib/tones.mjs), so what each one
// received shows whom they heard in each phase: the consult (Amy hears the
// hold music only), the three-party call, and after Ned leaves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { Baresip, waitRegistered } from './lib/peers.mjs';
import { TONES, heard, readWav, rmsLevel, toneLevel, toneWav } from './lib/tones.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, tok;
const until = (what, fn, timeoutMs = 15000) => sb.until(what, fn, timeoutMs);

async function presence(user) {
  return (await sb.api('GET', `/api/v1/agents/${user}/presence`, { token: tok.admin })).body.presence;
}
async function available(user) {
  const r = await sb.api('PUT', `/api/v1/agents/${user}/presence`, { token: tok[user], body: { status: 'Available' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}
async function detail(number) {
  return (await sb.api('GET', `/api/v1/interactions/${number}`, { token: tok.admin })).body;
}
async function newest() {
  const r = await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok.admin });
  return r.body.interactions[0]?.number || '';
}
const act = (user, number, action, body) =>
  sb.api('POST', `/api/v1/calls/${number}/${action}`, { token: tok[user], body });
const clear = (user) => sb.api('POST', `/api/v1/agents/${user}/clear`, { token: tok[user], body: { note: `${user} wrapped up` } });

// Amy calls the Support number; Ned (the only one Available) answers.
async function callNed(prev) {
  const amy = await new Baresip(sb, '15550199', { audio: toneWav(TONES.amy), register: false }).start();
  await sleep(300);
  const t0 = Date.now();
  await amy.command('dial', `sip:5000@127.0.0.1:${sb.sipPort}`);
  const ix = await until('Ned has the call', async () => {
    const r = await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok.admin });
    const x = r.body.interactions[0];
    return x && x.number !== prev && x.state === 'work_in_progress' && x.agent === 'ned' ? x : null;
  });
  return { amy, ix, t0 };
}

// The one dump of what a phone received in its current call.
function received(phone) {
  const wavs = phone.receivedWavs();
  assert.equal(wavs.length, 1, `${phone.user} received ${wavs.length} calls`);
  return readWav(wavs[0]);
}

const phones = [];
async function phone(user, opts = {}) {
  const p = await new Baresip(sb, user, { audio: toneWav(TONES[user]), ...opts }).start();
  phones.push(p);
  await waitRegistered(sb, tok.admin, user);
  return p;
}
async function hangUpAll() {
  while (phones.length) await phones.pop().stop();
}
// Agents back to Available for the next test (clear what is left).
async function reset() {
  for (const u of ['ned', 'beth']) {
    const p = await presence(u);
    if (p === 'AfterCallWork') await clear(u);
    if ((await presence(u)) !== 'Offline') {
      await sb.api('PUT', `/api/v1/agents/${u}/presence`, { token: tok[u], body: { status: 'Away', reason: 'Break' } });
    }
  }
}

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'calls:\n  greeting_ms: 300\n  offer_timeout: 3\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
  tok = {};
  for (const u of ['admin', 'mia', 'ned', 'beth', 'carl']) tok[u] = await sb.login(u);
});
after(async () => { await hangUpAll(); await sb.stop(); });

test('warm transfer: Ned consults Beth while Amy hears music, Beth joins, Ned leaves; the interaction is Beth\'s', async () => {
  const ned = await phone('ned');
  const beth = await phone('beth');
  await available('ned');
  const nedEv = await sb.events(tok.ned);
  const bethEv = await sb.events(tok.beth);
  const { amy, ix, t0 } = await callNed(await newest());
  phones.push(amy);
  const at = () => (Date.now() - t0) / 1000; // ≈ seconds into Amy's call
  await sleep(2000);
  // Beth is not Available yet: refused with the reason, nothing changes.
  let r = await act('ned', ix.number, 'transfer', { to: { agent: 'beth' } });
  assert.equal(r.status, 409, JSON.stringify(r.body));
  assert.equal(r.body.error, 'agent_unavailable');
  assert.match(r.body.message, /not Available/);
  await available('beth');
  // Only the call's agent transfers; not to themselves, not to an unknown agent.
  r = await act('beth', ix.number, 'transfer', { to: { agent: 'ned' } });
  assert.equal(r.status, 403, JSON.stringify(r.body));
  r = await act('ned', ix.number, 'transfer', { to: { agent: 'ned' } });
  assert.equal(r.status, 409);
  assert.equal(r.body.error, 'transfer_to_self');
  r = await act('ned', ix.number, 'transfer', { to: { agent: 'nobody' } });
  assert.equal(r.status, 404);
  r = await act('ned', ix.number, 'transfer', { to: { agent: 'beth' }, mode: 'sideways' });
  assert.equal(r.status, 400);
  assert.match(r.body.message, /warm or blind/);
  r = await act('beth', ix.number, 'join');
  assert.equal(r.status, 403); // not on the call yet

  const tXfer = at();
  r = await act('ned', ix.number, 'transfer', { to: { agent: 'beth' }, note: 'billing question' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal(r.body.call.second, 'beth');
  // Ned's softphone: INTERNAL-TRANSFER; Beth's: the offer with who and why.
  await nedEv.next((m) => m.type === 'call' && m.event === 'transfer_ringing' && m.detail === 'beth');
  const pop = await bethEv.next((m) => m.type === 'offer' && m.interaction === ix.number);
  assert.deepEqual(pop.transfer, { from: 'ned', note: 'billing question' });
  assert.equal(pop.caller.user_name, 'amy');
  await bethEv.next((m) => m.type === 'call' && m.event === 'consult', 8000);
  const tConsult = at();
  assert.equal(await presence('beth'), 'Busy');
  assert.equal(await presence('ned'), 'Busy');
  // A second transfer while one is in progress is refused.
  r = await act('ned', ix.number, 'transfer', { to: { agent: 'beth' } });
  assert.equal(r.status, 409);
  await sleep(3000);
  const tJoin = at();
  r = await act('beth', ix.number, 'join');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.call.phase, 'conference');
  await sleep(3000);
  const tLeave = at();
  r = await act('ned', ix.number, 'leave');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.call.agent, 'beth');
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  await sleep(3000);
  const tEnd = at();
  // Each dump is mapped to the call's time by its end: Amy's and Beth's
  // run until now, Ned's ended when he left.
  const amyRx = received(amy), bethRx = received(beth), nedRx = received(ned);
  const tCapture = at();
  await amy.command('hangup');
  const tHang = at();
  await until('Beth in wrap-up', async () => (await presence('beth')) === 'AfterCallWork');

  // The audio, phase by phase (windows inside each phase, with margins).
  const start = (rx, end) => end - rx.samples.length / rx.rate;
  const inside = (rx, t0) => (a, b) => { const lv = Object.fromEntries(Object.entries(TONES).map(([n, hz]) => [n, toneLevel(rx, hz, a - t0 + 0.8, b - t0 - 0.4).toFixed(3)])); console.log('LEVELS', a.toFixed(1), b.toFixed(1), JSON.stringify(lv)); return heard(rx, a - t0 + 0.8, b - t0 - 0.4); };
  const inAmy = inside(amyRx, start(amyRx, tCapture));
  const inNed = inside(nedRx, start(nedRx, tLeave));
  const inBeth = inside(bethRx, start(bethRx, tCapture));
  assert.deepEqual(inAmy(tXfer - 2, tXfer), ['ned'], 'before: Amy hears Ned');
  assert.deepEqual(inAmy(tConsult, tJoin), [], 'consult: Amy hears neither agent');
  const amyT0 = start(amyRx, tCapture);
  assert.ok(rmsLevel(amyRx, tConsult - amyT0 + 0.8, tJoin - amyT0 - 0.4) > 0.02, 'consult: Amy hears the hold music');
  assert.deepEqual(inAmy(tJoin, tLeave), ['beth', 'ned'], 'conference: Amy hears both');
  assert.deepEqual(inAmy(tLeave, tEnd), ['beth'], 'after Ned left: Amy hears Beth');
  assert.deepEqual(inNed(tXfer - 2, tXfer), ['amy']);
  assert.deepEqual(inNed(tConsult, tJoin), ['beth'], 'consult: Ned hears Beth, not Amy');
  assert.deepEqual(inNed(tJoin, tLeave), ['amy', 'beth'], 'conference: Ned hears both');
  assert.deepEqual(inBeth(tConsult, tJoin), ['ned'], 'consult: Beth hears Ned, not Amy');
  assert.deepEqual(inBeth(tJoin, tLeave), ['amy', 'ned'], 'conference: Beth hears both');
  assert.deepEqual(inBeth(tLeave, tEnd), ['amy'], 'after Ned left: Beth hears Amy');

  // The records: reassigned to Beth, the activity in order, one recording.
  let d = await detail(ix.number);
  assert.equal(d.agent, 'beth');
  assert.equal(d.state, 'work_in_progress');
  const texts = d.activity.filter((a) => a.kind === 'transfer').map((a) => a.text);
  const want = [/^Transfer to Beth .* started: billing question$/, /accepted the transfer$/, /joined$/, /^Ned .* left$/, /^Reassigned from Ned .* to Beth/];
  let k = 0;
  for (const t of texts) if (k < want.length && want[k].test(t)) k++;
  assert.equal(k, want.length, `transfer activity: ${JSON.stringify(texts)}`);
  // Ned's Clear contact keeps it open (it is Beth's); Beth's closes it.
  r = await clear('ned');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(await presence('ned'), 'Available');
  assert.equal((await detail(ix.number)).state, 'work_in_progress');
  r = await clear('beth');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  d = await detail(ix.number);
  assert.equal(d.state, 'closed_complete');
  assert.ok(d.activity.some((a) => a.kind === 'note' && a.text === 'ned wrapped up'));
  // One recording across the call: Amy on the left, everyone else on the right.
  const wav = join(sb.dataDir, 'recordings', `${ix.number}.wav`);
  await until('the recording', async () => existsSync(wav));
  const left = readWav(wav, 0), right = readWav(wav, 1);
  const recT0 = start(left, tHang); // the file ends at the hang-up
  const dur = left.samples.length / left.rate;
  assert.ok(toneLevel(left, TONES.amy, 1, dur - 1) > 0.05, 'Amy on the left');
  assert.ok(toneLevel(right, TONES.ned, tXfer - 2 - recT0 + 0.5, tXfer - recT0 - 0.3) > 0.05, 'Ned on the right');
  assert.ok(toneLevel(right, TONES.beth, tLeave - recT0 + 0.8, tEnd - recT0 - 0.3) > 0.05, 'Beth on the right');
  assert.ok(toneLevel(right, TONES.ned, tConsult - recT0 + 0.8, tJoin - recT0 - 0.4) < 0.02, 'the consult is not what Amy heard');
  nedEv.close(); bethEv.close();
  await hangUpAll();
  await reset();
});
