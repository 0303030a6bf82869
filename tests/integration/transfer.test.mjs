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
import { Baresip, Linphone, waitRegistered } from './lib/peers.mjs';
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
  const had = phones.length;
  while (phones.length) await phones.pop().stop();
  if (had) await sleep(1000); // a stopped phone's un-REGISTER must not cross the next REGISTER
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
  // Ned, no longer assigned, took part: he may still read it and add a note.
  assert.equal((await sb.api('GET', `/api/v1/interactions/${ix.number}`, { token: tok.ned })).status, 200);
  assert.equal((await sb.api('POST', `/api/v1/interactions/${ix.number}/notes`, { token: tok.ned, body: { text: 'handed to Beth' } })).status, 201);
  assert.equal((await sb.api('GET', `/api/v1/interactions/${ix.number}`, { token: tok.carl })).status, 404);
  // Counted once: a transferred-out for Ned, a transferred-in for Beth.
  const agents = (await sb.api('GET', '/api/v1/agents', { token: tok.admin })).body.agents;
  const xfers = (u) => agents.find((a) => a.user_name === u).transfers_today;
  assert.deepEqual(xfers('ned'), { in: 0, out: 1 });
  assert.deepEqual(xfers('beth'), { in: 1, out: 0 });
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

// Who is on the call now (the softphone's roster).
const roster = async (user, number) => (await sb.api('GET', `/api/v1/calls/${number}`, { token: tok[user] })).body;
const transferTexts = (d) => d.activity.filter((a) => a.kind === 'transfer').map((a) => a.text);
async function away(user) {
  await sb.api('PUT', `/api/v1/agents/${user}/presence`, { token: tok[user], body: { status: 'Away', reason: 'Break' } });
}

test('warm transfer to a queue: Amy waits in Billing ahead of a later caller, Beth is offered it as a transfer, Ned leaves after the consult', async () => {
  const ned = await phone('ned');
  const beth = await phone('beth');
  await away('beth');
  await available('ned');
  const nedEv = await sb.events(tok.ned);
  const bethEv = await sb.events(tok.beth);
  const { amy, ix } = await callNed(await newest());
  phones.push(amy);
  await sleep(1000);
  // Zed calls Billing after Amy's call began: he waits there (Beth is Away).
  const zed = await new Baresip(sb, '15550177', { audio: toneWav(500), register: false }).start();
  phones.push(zed);
  await sleep(300);
  await zed.command('dial', `sip:5001@127.0.0.1:${sb.sipPort}`);
  const zedIx = await until('Zed waits in Billing', async () => {
    const x = (await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok.admin })).body.interactions[0];
    return x && x.number !== ix.number && x.caller_number?.includes('0177') ? x : null;
  });
  const billing = async () => (await sb.api('GET', '/api/v1/queues', { token: tok.admin })).body.queues.find((x) => x.name === 'Billing').live;
  await until('Zed queued', async () => (await billing()).waiting === 1);
  let r = await act('ned', ix.number, 'transfer', { to: { queue: 'Nowhere' } });
  assert.equal(r.status, 404, JSON.stringify(r.body));
  assert.match(r.body.message, /no queue 'Nowhere'/);
  r = await act('ned', ix.number, 'transfer', { to: { queue: 'Billing' }, note: 'refund' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal(r.body.call.phase, 'xfer_queued');
  assert.equal(r.body.call.queue, 'Billing');
  assert.equal(r.body.call.customer_on_hold, true);
  await nedEv.next((m) => m.type === 'call' && m.event === 'transfer_queued' && m.detail === 'Billing');
  const q = await billing();
  assert.equal(q.waiting, 2, JSON.stringify(q));
  const billingToday = async () => (await sb.api('GET', '/api/v1/queues', { token: tok.admin })).body.queues.find((x) => x.name === 'Billing').today;
  const t0 = await billingToday();
  assert.equal(await presence('ned'), 'Busy');
  // Beth comes back: Amy's transfer is offered first (her call began before Zed's).
  await available('beth');
  const pop = await bethEv.next((m) => m.type === 'offer', 8000);
  assert.equal(pop.interaction, ix.number, 'the transfer is ahead of the later caller');
  assert.deepEqual(pop.transfer, { from: 'ned', note: 'refund' });
  await nedEv.next((m) => m.type === 'call' && m.event === 'transfer_ringing' && m.detail === 'beth');
  await bethEv.next((m) => m.type === 'call' && m.event === 'consult', 8000);
  const ro = await roster('beth', ix.number);
  assert.equal(ro.phase, 'consult');
  assert.deepEqual(ro.legs.map((l) => `${l.role}:${l.user_name}:${l.state}`), ['customer:null:up', 'agent:ned:up', 'consult:beth:up']);
  r = await act('ned', ix.number, 'leave');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.call.phase, 'bridged');
  assert.equal(r.body.call.agent, 'beth');
  assert.equal(r.body.call.customer_on_hold, false);
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  const d = await detail(ix.number);
  assert.equal(d.agent, 'beth');
  const texts = transferTexts(d);
  assert.ok(texts.some((t) => /^Transfer to queue Billing started: refund$/.test(t)), JSON.stringify(texts));
  assert.ok(texts.some((t) => /^Reassigned from Ned .* to Beth/.test(t)), JSON.stringify(texts));
  // Zed still waits; the queue counted Amy's transfer as answered (offered when it arrived).
  const t1 = await billingToday();
  assert.equal(t1.answered, t0.answered + 1, JSON.stringify([t0, t1]));
  assert.equal(t1.offered, t0.offered, 'offered once, when the transfer arrived');
  assert.equal((await detail(zedIx.number)).state, 'new');
  await amy.command('hangup');
  await until('Beth in wrap-up', async () => (await presence('beth')) === 'AfterCallWork');
  nedEv.close(); bethEv.close();
  await hangUpAll();
  await reset();
});

test('blind transfers: to a queue Ned leaves at once and the call waits unassigned; to an agent the second answers it directly', async () => {
  const ned = await phone('ned');
  const beth = await phone('beth');
  await away('beth');
  await available('ned');
  const { amy, ix } = await callNed(await newest());
  phones.push(amy);
  await sleep(1000);
  let r = await act('ned', ix.number, 'transfer', { to: { queue: 'Billing' }, mode: 'blind' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await until('Ned in wrap-up at once', async () => (await presence('ned')) === 'AfterCallWork');
  // presence is read from memory, the interaction from the store: wait for its commit
  await until('nobody assigned', async () => (await detail(ix.number)).agent === null);
  let d = await detail(ix.number);
  assert.equal(d.agent, null, 'nobody is assigned while the call waits');
  assert.equal(d.state, 'work_in_progress');
  // Ned's Clear contact adds his note; it does not close the call in transfer.
  r = await clear('ned');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await detail(ix.number)).state, 'work_in_progress');
  await available('beth');
  await until('Beth has the call', async () => (await presence('beth')) === 'Busy');
  d = await detail(ix.number);
  assert.equal(d.agent, 'beth');
  assert.ok(transferTexts(d).some((t) => /^Reassigned from Ned .* to Beth/.test(t)), JSON.stringify(transferTexts(d)));
  assert.equal((await roster('beth', ix.number)).phase, 'bridged');
  // Beth transfers it on, blind, to Ned (Available again): he answers it directly.
  await available('ned');
  r = await act('beth', ix.number, 'transfer', { to: { agent: 'ned' }, mode: 'blind' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await until('Ned has the call', async () => (await detail(ix.number)).agent === 'ned');
  await until('Beth in wrap-up', async () => (await presence('beth')) === 'AfterCallWork');
  assert.equal(await presence('ned'), 'Busy');
  assert.equal((await roster('ned', ix.number)).phase, 'bridged');
  await amy.command('hangup');
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  r = await clear('beth');
  assert.equal((await detail(ix.number)).state, 'work_in_progress');
  r = await clear('ned');
  assert.equal((await detail(ix.number)).state, 'closed_complete');
  await hangUpAll();
  await reset();
});

test('what goes wrong: Beth rejects (Ned resumes), the customer hangs up in the consult, Ned hangs up in the consult (the transfer completes), a cancel, and the customer hanging up in the transfer queue', async () => {
  const ned = await phone('ned');
  const beth = await phone('beth', { answer: 'manual' });
  await available('ned');
  await available('beth');
  const nedEv = await sb.events(tok.ned);
  let { amy, ix } = await callNed(await newest());
  phones.push(amy);
  await sleep(800);
  // 1. Beth rejects from her softphone: Ned is told, Amy stays on hold, Ned resumes.
  let r = await act('ned', ix.number, 'transfer', { to: { agent: 'beth' } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  r = await act('carl', ix.number, 'reject');
  assert.equal(r.status, 403);
  r = await act('beth', ix.number, 'reject');
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const failed = await nedEv.next((m) => m.type === 'call' && m.event === 'transfer_failed');
  assert.match(failed.detail, /^beth: rejected/);
  let ro = await roster('ned', ix.number);
  assert.equal(ro.phase, 'bridged');
  assert.equal(ro.customer_on_hold, true);
  assert.equal(await presence('beth'), 'Missed');
  r = await act('ned', ix.number, 'resume');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await roster('ned', ix.number)).customer_on_hold, false);
  // 2. A cancel before anyone answers: Amy back with Ned, Beth free.
  await available('beth');
  r = await act('ned', ix.number, 'transfer', { to: { agent: 'beth' } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  r = await act('beth', ix.number, 'cancel_transfer');
  assert.equal(r.status, 403, 'only the transferring agent cancels');
  r = await act('ned', ix.number, 'cancel_transfer');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.call.phase, 'bridged');
  assert.equal(r.body.call.second, null);
  assert.equal(await presence('beth'), 'Available');
  r = await act('ned', ix.number, 'join');
  assert.equal(r.status, 403);
  // 3. Ned's phone hangs up during the consult: the transfer completes to Beth.
  r = await act('ned', ix.number, 'transfer', { to: { agent: 'beth' } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  r = await act('beth', ix.number, 'accept');
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await sleep(300);
  await beth.command('accept'); // a phone that ignores auto-answer: answered by hand
  await until('the consult', async () => (await roster('ned', ix.number)).phase === 'consult');
  await ned.command('hangup');
  await until('reassigned to Beth', async () => (await detail(ix.number)).agent === 'beth');
  assert.equal((await roster('beth', ix.number)).phase, 'bridged');
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  await amy.command('hangup');
  await until('Beth in wrap-up', async () => (await presence('beth')) === 'AfterCallWork');
  await clear('ned'); await clear('beth');
  assert.equal((await detail(ix.number)).state, 'closed_complete');
  await hangUpAll();

  // 4. The customer hangs up during a consult: both agents wrap up; Ned closes it.
  const ned2 = await phone('ned');
  const beth2 = await phone('beth');
  await available('ned'); await available('beth');
  ({ amy, ix } = await callNed(ix.number));
  phones.push(amy);
  await sleep(800);
  r = await act('ned', ix.number, 'transfer', { to: { agent: 'beth' } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await until('the consult', async () => (await roster('ned', ix.number)).phase === 'consult');
  await amy.command('hangup');
  await until('both in wrap-up', async () => (await presence('ned')) === 'AfterCallWork' && (await presence('beth')) === 'AfterCallWork');
  await clear('beth');
  assert.equal((await detail(ix.number)).state, 'work_in_progress', 'Beth\'s clear does not close Ned\'s call');
  await clear('ned');
  assert.equal((await detail(ix.number)).state, 'closed_complete');
  await hangUpAll();

  // 5. Blind to a queue nobody answers, and the customer hangs up there: Closed Abandoned.
  await phone('ned');
  await available('ned');
  await away('beth');
  ({ amy, ix } = await callNed(ix.number));
  phones.push(amy);
  await sleep(800);
  r = await act('ned', ix.number, 'transfer', { to: { queue: 'Billing' }, mode: 'blind' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  await amy.command('hangup');
  await until('abandoned in the transfer queue', async () => (await detail(ix.number)).state === 'closed_abandoned');
  await clear('ned');
  assert.equal(await presence('ned'), 'Available');
  nedEv.close();
  await hangUpAll();
  await reset();
  void ned2; void beth2; void beth;
});

test('blind transfer to an external number: the demo customer answers, Ned wraps up, the call goes on without him', async () => {
  await phone('ned');
  await available('ned');
  const { amy, ix } = await callNed(await newest());
  phones.push(amy);
  await sleep(800);
  let r = await act('ned', ix.number, 'transfer', { to: { number: '+15550150' } });
  assert.equal(r.status, 501, JSON.stringify(r.body));
  assert.match(r.body.message, /blind/);
  r = await act('ned', ix.number, 'transfer', { to: { number: 'call me' }, mode: 'blind' });
  assert.equal(r.status, 400);
  r = await act('ned', ix.number, 'transfer', { to: { quick_connect: 999 }, mode: 'blind' });
  assert.equal(r.status, 404, JSON.stringify(r.body));
  // By the quick connect an administrator defined: its name goes to the records.
  const qc = (await sb.api('GET', '/api/v1/quick-connects?q=legal', { token: tok.ned })).body.external[0];
  assert.equal(qc.name, 'Legal desk');
  r = await act('ned', ix.number, 'transfer', { to: { quick_connect: qc.id }, mode: 'blind', note: 'legal question' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  await until('transferred', async () => transferTexts(await detail(ix.number)).some((t) => t === `Transferred to ${qc.number}`));
  const texts = transferTexts(await detail(ix.number));
  assert.ok(texts.some((t) => t.startsWith(`Transfer to Legal desk (${qc.number}) started by Ned`) && t.endsWith(': legal question')), JSON.stringify(texts));
  // Ned took part: he may still read the interaction (carl, who did not, may not).
  assert.equal((await sb.api('GET', `/api/v1/interactions/${ix.number}`, { token: tok.carl })).status, 404);
  await sleep(1500);
  await amy.command('hangup');
  await sleep(500);
  assert.equal((await detail(ix.number)).state, 'work_in_progress', 'Ned wraps it up');
  await clear('ned');
  assert.equal((await detail(ix.number)).state, 'closed_complete');
  await hangUpAll();
  await reset();
});

test('a REFER from a desk phone: unknown → 403 with the reason; to an agent\'s name, blind, with the same records; to a queue\'s number', async () => {
  const ned = await phone('ned');
  const beth = await phone('beth');
  await away('beth');
  await available('ned');
  let { amy, ix } = await callNed(await newest());
  phones.push(amy);
  await sleep(800);
  const uri = (user) => `sip:${user}@127.0.0.1:${sb.sipPort}`;
  // Unknown: the REFER is refused with the reason, which the phone shows.
  // (baresip 1.0 then hangs up its own call after any failed transfer; the
  // server keeps the call up until that BYE: test_callctl checks that.)
  await ned.command('transfer', uri('nobody'));
  await until('the refusal', async () => /action=refer reply 403/.test(sb.log));
  await until('the phone told', async () => /transfer failed: 403 No agent, queue or number 'nobody'/.test(ned.log));
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  await clear('ned');
  await hangUpAll();
  const nedB = await phone('ned');
  await phone('beth');
  await available('ned');
  ({ amy, ix } = await callNed(ix.number));
  phones.push(amy);
  await sleep(800);
  // Beth's user name, blind: she is offered it; reassigned when she answers.
  await available('beth');
  await nedB.command('transfer', uri('beth'));
  await until('reassigned to Beth', async () => (await detail(ix.number)).agent === 'beth');
  assert.equal((await roster('beth', ix.number)).phase, 'bridged');
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  const texts = transferTexts(await detail(ix.number));
  assert.ok(texts.some((t) => /^Transfer to Beth .* started: from the phone$/.test(t)), JSON.stringify(texts));
  assert.ok(texts.some((t) => /^Reassigned from Ned .* to Beth/.test(t)), JSON.stringify(texts));
  await amy.command('hangup');
  await until('Beth in wrap-up', async () => (await presence('beth')) === 'AfterCallWork');
  await clear('ned'); await clear('beth');
  await hangUpAll();
  // A queue's number (5001, Billing): the call waits there; nobody Available.
  const ned2 = await phone('ned');
  await available('ned');
  await away('beth');
  ({ amy, ix } = await callNed(ix.number));
  phones.push(amy);
  await sleep(800);
  await ned2.command('transfer', uri('5001'));
  await until('waiting in Billing', async () => (await roster('ned', ix.number).catch(() => ({}))).queue === 'Billing' || (await detail(ix.number)).agent === null);
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  await until('nobody assigned', async () => (await detail(ix.number)).agent === null);
  await amy.command('hangup');
  await until('abandoned', async () => (await detail(ix.number)).state === 'closed_abandoned');
  await clear('ned');
  await hangUpAll();
  await reset();
  void beth;
});

test('an attended transfer from a desk phone (linphonec): Ned\'s phone holds Amy, calls Beth through the server, then REFERs with Replaces', async () => {
  const ned = await new Linphone(sb, 'ned').start();
  phones.push(ned);
  await waitRegistered(sb, tok.admin, 'ned');
  await phone('beth');
  await away('beth');
  await available('ned');
  const bethEv = await sb.events(tok.beth);
  const { amy, ix } = await callNed(await newest());
  phones.push(amy);
  await sleep(1000);
  await available('beth');
  // Ned's phone calls Beth: the customer's call is held by the phone, and
  // the server makes this call the transfer's consult.
  ned.send('pause 1');
  await until('Amy held by the phone', async () => (await roster('ned', ix.number)).legs.some((l) => l.role === 'agent' && l.state === 'held'));
  ned.send(`call sip:beth@127.0.0.1:${sb.sipPort}`);
  const pop = await bethEv.next((m) => m.type === 'offer' && m.interaction === ix.number, 15000);
  assert.deepEqual(pop.transfer, { from: 'ned', note: 'from the phone' });
  await until('the consult', async () => (await roster('ned', ix.number)).phase === 'consult');
  const ro = await roster('ned', ix.number);
  assert.deepEqual(ro.legs.map((l) => `${l.role}:${l.state}`).sort(), ['agent:held', 'consult:up', 'customer:up', 'transferor:up'].sort(), JSON.stringify(ro));
  await sleep(1000);
  // The attended transfer: Amy's call replaced by Ned's call to Beth.
  ned.send('transfer 1 --to-call 2');
  await until('reassigned to Beth', async () => (await detail(ix.number)).agent === 'beth');
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  const r2 = await roster('beth', ix.number);
  assert.equal(r2.phase, 'bridged');
  assert.deepEqual(r2.legs.map((l) => `${l.role}:${l.user_name}`), ['customer:null', 'agent:beth']);
  const texts = transferTexts(await detail(ix.number));
  assert.ok(texts.some((t) => /^Transfer to Beth .* started: from the phone$/.test(t)), JSON.stringify(texts));
  assert.ok(texts.some((t) => /^Reassigned from Ned .* to Beth/.test(t)), JSON.stringify(texts));
  await amy.command('hangup');
  await until('Beth in wrap-up', async () => (await presence('beth')) === 'AfterCallWork');
  bethEv.close();
  await hangUpAll();
  await reset();
});
