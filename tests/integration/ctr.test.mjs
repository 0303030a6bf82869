// Contact trace records (issue 13, SPEC.md §7, docs/CTR.md) with real calls:
// Amy calls from baresip (or sipp), Ned and Beth answer on baresip, the
// bot's flow answers on 5002, click-to-call reaches a sipp UAS behind
// calls.outbound_uri. Each test reads GET /api/v1/interactions/{n}/ctr and
// checks every field of every segment against what the test did and when
// (wall-clock marks taken around each action; the server's clock is the
// same), and the interaction's own sums.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { Baresip, farEnd, freeUdpPort, sipp, spokenUlaw, waitRegistered, wavInfo } from './lib/peers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, tok, farPort;
const phones = {};
const until = (what, fn, timeoutMs = 20000) => sb.until(what, fn, timeoutMs);

const KEYS = ['agent', 'agent_connection_attempts', 'attributes', 'channel', 'connected_to_system_timestamp',
  'contact_id', 'customer_endpoint', 'disconnect_reason', 'disconnect_timestamp', 'initial_contact_id',
  'initiation_method', 'initiation_timestamp', 'intent', 'interaction', 'last_update_timestamp', 'missed_offers',
  'next_contact_id', 'previous_contact_id', 'queue', 'recording', 'segment', 'system_endpoint', 'transferred_to'];
const AGENT_KEYS = ['after_contact_work_duration_seconds', 'after_contact_work_end_timestamp',
  'after_contact_work_start_timestamp', 'connected_to_agent_timestamp', 'customer_hold_duration_seconds',
  'interaction_duration_seconds', 'longest_hold_duration_seconds', 'name', 'number_of_holds', 'user_name',
  'wrap_up_code'];
const QUEUE_KEYS = ['dequeue_timestamp', 'duration_seconds', 'enqueue_timestamp', 'name'];

// ---- time checks ----
const ms = (iso) => (iso === null ? null : Date.parse(iso));
const SLACK = 30; // the server writes ms; marks are taken a moment before or after
function within(iso, lo, hi, what) {
  const v = ms(iso);
  assert.ok(v !== null, `${what}: null`);
  assert.ok(v >= lo - SLACK && v <= hi + SLACK,
    `${what} ${iso} not within [${new Date(lo).toISOString()}, ${new Date(hi).toISOString()}]`);
  return v;
}
// A duration in whole seconds against the times it spans (rounding: ±1 s).
function seconds(sec, spanMs, what) {
  assert.ok(Number.isInteger(sec), `${what}: ${sec} is not whole seconds`);
  assert.ok(Math.abs(sec - spanMs / 1000) <= 1, `${what}: ${sec} s for ${spanMs} ms`);
}
function near(a, b, tol, what) {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (±${tol} ms)`);
}

// ---- the API ----
async function ctrOf(number, user = 'mia') {
  const r = await sb.api('GET', `/api/v1/interactions/${number}/ctr`, { token: tok[user] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.interaction, number);
  for (const s of r.body.segments) {
    assert.deepEqual(Object.keys(s).sort(), KEYS, 'every field of a segment, no other');
    if (s.agent) assert.deepEqual(Object.keys(s.agent).sort(), AGENT_KEYS);
    if (s.queue) assert.deepEqual(Object.keys(s.queue).sort(), QUEUE_KEYS);
    assert.equal(s.interaction, number);
    assert.equal(s.channel, 'VOICE');
    assert.equal(s.initial_contact_id, `${number}-1`);
    assert.equal(s.contact_id, `${number}-${s.segment}`);
  }
  return r.body;
}
const detail = async (number) => (await sb.api('GET', `/api/v1/interactions/${number}`, { token: tok.mia })).body;
const presence = async (u) => (await sb.api('GET', `/api/v1/agents/${u}/presence`, { token: tok.admin })).body.presence;
async function available(u) {
  const r = await sb.api('PUT', `/api/v1/agents/${u}/presence`, { token: tok[u], body: { status: 'Available' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}
async function away(u) {
  await sb.api('PUT', `/api/v1/agents/${u}/presence`, { token: tok[u], body: { status: 'Away', reason: 'Break' } });
}
const act = (u, number, action, body) => sb.api('POST', `/api/v1/calls/${number}/${action}`, { token: tok[u], body });
// Clear contact with a wrap-up code; the marks around it.
async function clear(u, code) {
  const t0 = Date.now();
  const r = await sb.api('POST', `/api/v1/agents/${u}/clear`, { token: tok[u], body: { wrap_up_code: code, note: `${u} done` } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return [t0, Date.now()];
}
async function newest() {
  return (await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok.admin })).body.interactions[0]?.number || '';
}
async function latestAfter(prev, pred) {
  return until('the interaction', async () => {
    const x = (await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok.admin })).body.interactions[0];
    return x && x.number !== prev && pred(x) ? x : null;
  });
}
async function reset() {
  for (const u of ['ned', 'beth']) {
    if ((await presence(u)) === 'AfterCallWork') await clear(u, '');
    await away(u);
  }
}
// Amy calls 5000 from baresip (not registered: through the loopback trunk).
async function amyCalls() {
  const amy = await new Baresip(sb, '15550199', { register: false }).start();
  await sleep(300);
  const prev = await newest();
  const t0 = Date.now();
  await amy.command('dial', `sip:5000@127.0.0.1:${sb.sipPort}`);
  return { amy, prev, t0 };
}
async function hangUp(amy) {
  const t0 = Date.now();
  await amy.command('hangup');
  const t1 = Date.now();
  await amy.stop();
  return [t0, t1];
}
// What the activity stream says about the records.
async function ctrActivity(number) {
  return (await detail(number)).activity.filter((a) => a.kind === 'ctr').map((a) => a.text);
}
const ENDPOINT = (address) => ({ type: 'TELEPHONE_NUMBER', address });
const RECORDING = (number) => ({ location: `/api/v1/interactions/${number}/recording` });

before(async () => {
  farPort = await freeUdpPort();
  const cfg = writeConfig(tempDir('sb-cfg-'),
    `calls:\n  greeting_ms: 300\n  offer_timeout: 6\n  outbound_uri: "sip:127.0.0.1:${farPort}"\n  dial_timeout: 6\n`);
  sb = await new Server({ args: ['--config', cfg] }).start();
  tok = {};
  for (const u of ['admin', 'mia', 'ned', 'beth']) tok[u] = await sb.login(u);
  for (const u of ['ned', 'beth']) {
    phones[u] = await new Baresip(sb, u).start();
    await waitRegistered(sb, tok.admin, u);
  }
});
// Ned and Beth away with nothing to wrap up after every test, passed or
// failed: a failed test must not leave the next one a different agent.
afterEach(() => reset());
after(async () => {
  for (const p of Object.values(phones)) await p.stop();
  await sb.stop();
});

test('an inbound call: one segment from the greeting through the queue, Ned, the hang-up and his wrap-up', async () => {
  await available('ned');
  const { amy, prev, t0 } = await amyCalls();
  const ix = await latestAfter(prev, (x) => x.state === 'work_in_progress');
  const tAssigned = Date.now();
  // While the call goes on nothing is written yet.
  let c = await ctrOf(ix.number);
  assert.deepEqual(c.segments, []);
  assert.equal(c.state, 'work_in_progress');
  await sleep(2000);
  const [h0, h1] = await hangUp(amy);
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  // Written when the contact ended; final after the wrap-up.
  c = await ctrOf(ix.number);
  assert.equal(c.segments.length, 1);
  assert.equal(c.segments[0].agent.after_contact_work_end_timestamp, null);
  assert.equal(c.segments[0].agent.after_contact_work_duration_seconds, null);
  assert.deepEqual(await ctrActivity(ix.number), [], 'the activity entry comes with the final record');
  await sleep(1200);
  const [c0, c1] = await clear('ned', 'Resolved');

  c = await ctrOf(ix.number);
  assert.equal(c.state, 'closed_complete');
  assert.equal(c.segments.length, 1);
  const s = c.segments[0];
  assert.equal(s.segment, 1);
  assert.equal(s.previous_contact_id, null);
  assert.equal(s.next_contact_id, null);
  assert.equal(s.initiation_method, 'inbound');
  assert.deepEqual(s.customer_endpoint, ENDPOINT('15550199'));
  assert.deepEqual(s.system_endpoint, ENDPOINT('5000'));
  assert.equal(s.transferred_to, null);
  const init = within(s.initiation_timestamp, t0, tAssigned, 'initiation');
  assert.equal(s.initiation_timestamp, (await detail(ix.number)).opened_at);
  assert.equal(s.connected_to_system_timestamp, s.initiation_timestamp, 'answered at once');
  // the greeting (300 ms), then Support; Ned's phone answers from there
  const enq = within(s.queue.enqueue_timestamp, init + 250, tAssigned, 'enqueue');
  assert.equal(s.queue.name, 'Support');
  const deq = within(s.queue.dequeue_timestamp, enq, tAssigned, 'dequeue');
  seconds(s.queue.duration_seconds, deq - enq, 'queue duration');
  assert.equal(s.agent.user_name, 'ned');
  assert.equal(s.agent.name, 'Ned Agent');
  const conn = within(s.agent.connected_to_agent_timestamp, deq, tAssigned, 'connected to agent');
  near(conn, deq, 50, 'answered when it left the queue');
  const disc = within(s.disconnect_timestamp, h0, h1 + 1500, 'disconnect');
  assert.equal(s.disconnect_reason, 'customer');
  seconds(s.agent.interaction_duration_seconds, disc - conn, 'talk');
  assert.ok(s.agent.interaction_duration_seconds >= 2);
  assert.equal(s.agent.customer_hold_duration_seconds, 0);
  assert.equal(s.agent.number_of_holds, 0);
  assert.equal(s.agent.longest_hold_duration_seconds, 0);
  const acw0 = within(s.agent.after_contact_work_start_timestamp, disc, h1 + 2000, 'after-contact work start');
  near(acw0, disc, 200, 'wrap-up begins when the call ends');
  const acw1 = within(s.agent.after_contact_work_end_timestamp, c0, c1, 'after-contact work end');
  seconds(s.agent.after_contact_work_duration_seconds, acw1 - acw0, 'after-contact work');
  assert.ok(s.agent.after_contact_work_duration_seconds >= 1);
  assert.equal(s.agent.wrap_up_code, 'Resolved');
  assert.equal(s.agent_connection_attempts, 1);
  assert.equal(s.missed_offers, 0);
  assert.deepEqual(s.attributes, {}, 'no flow on 5000');
  assert.equal(s.intent, null);
  assert.deepEqual(s.recording, RECORDING(ix.number));
  assert.equal(s.last_update_timestamp, s.agent.after_contact_work_end_timestamp);

  // The interaction shows the sums and the code as fields; the activity, the record.
  const d = await detail(ix.number);
  assert.equal(d.talk_seconds, s.agent.interaction_duration_seconds);
  assert.equal(d.hold_seconds, 0);
  assert.equal(d.queue_wait_seconds, s.queue.duration_seconds);
  assert.equal(d.after_call_work_seconds, s.agent.after_contact_work_duration_seconds);
  assert.equal(d.wrap_up_code, 'Resolved');
  const acts = await ctrActivity(ix.number);
  assert.equal(acts.length, 1);
  assert.match(acts[0], new RegExp(`^Contact trace record ${ix.number}-1 \\(inbound\\): queue Support, waited \\d+ s; agent ned, talk \\d+ s, hold 0 s \\(0\\), after-call work \\d+ s, wrap-up Resolved; disconnect: customer$`));
  const listed = (await sb.api('GET', `/api/v1/interactions?phone=15550199&limit=5`, { token: tok.ned })).body.interactions
    .find((x) => x.number === ix.number);
  assert.equal(listed.talk_seconds, d.talk_seconds, 'lists carry the sums too');

  // Who may read them: the interaction's rule (its agent, managers); others 404.
  assert.equal((await sb.api('GET', `/api/v1/interactions/${ix.number}/ctr`, { token: tok.ned })).status, 200);
  let r = await sb.api('GET', `/api/v1/interactions/${ix.number}/ctr`, { token: tok.beth });
  assert.equal(r.status, 404);
  assert.equal(r.body.error, 'not_found');
  r = await sb.api('GET', '/api/v1/interactions/INT9999999/ctr', { token: tok.admin });
  assert.equal(r.status, 404);
  r = await sb.api('GET', `/api/v1/interactions/${ix.number}/ctr?x=1`, { token: tok.admin });
  assert.equal(r.status, 400);
  r = await sb.api('GET', `/api/v1/interactions/${ix.number}/ctr`);
  assert.equal(r.status, 401);
  // Stored: the row as the store keeps it.
  assert.equal(sb.sql(`SELECT contact_id||'|'||disconnect_reason||'|'||wrap_up_code FROM ctr WHERE interaction_id=${Number(ix.number.slice(3)) - 1000}`),
    `${ix.number}-1|customer|Resolved`);
});

test('an abandoned call: the queue wait and the customer\'s hang-up, no agent', async () => {
  const prev = await newest();
  const t0 = Date.now();
  const r = await sipp(sb, 'caller.xml', { service: '5000', pauseMs: 2500 });
  const t1 = Date.now();
  assert.equal(r.code, 0, r.out);
  const ix = await latestAfter(prev, (x) => x.state !== 'new');
  assert.equal(ix.state, 'closed_abandoned');
  const c = await ctrOf(ix.number);
  assert.equal(c.segments.length, 1);
  const s = c.segments[0];
  assert.equal(s.segment, 1);
  assert.equal(s.previous_contact_id, null);
  assert.equal(s.next_contact_id, null);
  assert.equal(s.initiation_method, 'inbound');
  assert.deepEqual(s.customer_endpoint, ENDPOINT('15550199'));
  assert.deepEqual(s.system_endpoint, ENDPOINT('5000'));
  assert.equal(s.transferred_to, null);
  const init = within(s.initiation_timestamp, t0, t1, 'initiation');
  assert.equal(s.connected_to_system_timestamp, s.initiation_timestamp);
  assert.equal(s.queue.name, 'Support');
  const enq = within(s.queue.enqueue_timestamp, init + 250, t1, 'enqueue');
  const disc = within(s.disconnect_timestamp, enq + 1500, t1, 'disconnect');
  assert.equal(s.queue.dequeue_timestamp, s.disconnect_timestamp, 'left the queue when the caller hung up');
  seconds(s.queue.duration_seconds, disc - enq, 'queue duration');
  assert.ok(s.queue.duration_seconds >= 2);
  assert.equal(s.agent, null);
  assert.equal(s.agent_connection_attempts, 0);
  assert.equal(s.missed_offers, 0);
  assert.deepEqual(s.attributes, {});
  assert.equal(s.intent, null);
  assert.equal(s.recording, null, 'never answered by an agent: not recorded');
  assert.equal(s.disconnect_reason, 'customer');
  near(ms(s.last_update_timestamp), disc, 100, 'final when it closed');
  const d = await detail(ix.number);
  assert.deepEqual([d.talk_seconds, d.hold_seconds, d.after_call_work_seconds], [0, 0, 0]);
  assert.equal(d.queue_wait_seconds, s.queue.duration_seconds);
  assert.equal(d.wrap_up_code, null);
  assert.deepEqual(await ctrActivity(ix.number),
    [`Contact trace record ${ix.number}-1 (inbound): queue Support, waited ${s.queue.duration_seconds} s; disconnect: customer`]);
});

// How long espeak-ng speaks a text (the server renders prompts with the
// same voice), so the caller answers the bot's question after it.
function spokenSeconds(text) {
  const w = join(tempDir('sb-len-'), 'x.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-w', w, text]);
  return wavInfo(w).seconds;
}

test('a deflected call: the bot answers Amy\'s question; the flow\'s attributes and intent, no queue, no agent', async () => {
  const prev = await newest();
  const speech = spokenUlaw('what is the status of my case');
  const wait = Math.round((spokenSeconds('Hello Amy, thank you for calling Switchboard.') +
    spokenSeconds('In a few words, how can I help you? For support, press 1. For billing, press 2.')) * 1000) + 700;
  const t0 = Date.now();
  const r = await sipp(sb, 'caller_speech.xml', { service: '5002', caller: '15550199', speech, waitMs: wait,
    pauseMs: 20000, timeoutS: 45 });
  const t1 = Date.now();
  assert.equal(r.code, 0, r.out + sb.log.slice(-3000));
  const ix = await latestAfter(prev, (x) => x.state !== 'new');
  assert.equal(ix.state, 'closed_complete');
  const c = await ctrOf(ix.number);
  assert.equal(c.segments.length, 1);
  const s = c.segments[0];
  assert.equal(s.segment, 1);
  assert.equal(s.previous_contact_id, null);
  assert.equal(s.next_contact_id, null);
  assert.equal(s.initiation_method, 'inbound');
  assert.deepEqual(s.customer_endpoint, ENDPOINT('15550199'));
  assert.deepEqual(s.system_endpoint, ENDPOINT('5002'));
  assert.equal(s.transferred_to, null);
  const init = within(s.initiation_timestamp, t0, t1, 'initiation');
  assert.equal(s.connected_to_system_timestamp, s.initiation_timestamp);
  within(s.disconnect_timestamp, init + wait, t1, 'disconnect: the server hung up after the answer');
  assert.equal(s.disconnect_reason, 'system', 'the flow ended the call');
  assert.equal(s.queue, null, 'never queued');
  assert.equal(s.agent, null);
  assert.equal(s.agent_connection_attempts, 0);
  assert.equal(s.missed_offers, 0);
  assert.equal(s.intent, 'status');
  assert.deepEqual(s.attributes, {
    'caller.number': '15550199',
    'caller.user_name': 'amy',
    'caller.name': 'Amy Customer',
    'caller.first_name': 'Amy',
    'case.number': 'CS0001002',
    'case.state': 'In Progress',
    'case.short_description': s.attributes['case.short_description'],
    intent: 'status',
  });
  assert.ok(s.attributes['case.short_description'].length > 0);
  assert.equal(s.recording, null);
  near(ms(s.last_update_timestamp), ms(s.disconnect_timestamp), 100, 'final when it closed');
  const d = await detail(ix.number);
  assert.deepEqual([d.talk_seconds, d.hold_seconds, d.queue_wait_seconds, d.after_call_work_seconds], [0, 0, 0, 0]);
  assert.deepEqual(await ctrActivity(ix.number), [`Contact trace record ${ix.number}-1 (inbound); disconnect: system`]);
});

test('a click-to-call: outbound, the caller id Amy sees, connected when she answers, ended by Ned, his wrap-up', async () => {
  await available('ned');
  const far = await farEnd(farPort);
  const t0 = Date.now();
  const r = await sb.api('POST', '/api/v1/calls', { token: tok.ned, body: { record: { table: 'user', key: 'amy' }, phone: 'mobile' } });
  const t1 = Date.now();
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const num = r.body.interaction;
  await until('Busy', async () => (await presence('ned')) === 'Busy');
  const tBusy = Date.now();
  await sleep(2000);
  const e0 = Date.now();
  assert.equal((await act('ned', num, 'end')).status, 202);
  const e1 = Date.now();
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  assert.equal(await far.exited, 0, far.out());
  await sleep(1000);
  const [c0, c1] = await clear('ned', 'Callback needed');

  const c = await ctrOf(num);
  assert.equal(c.segments.length, 1);
  const s = c.segments[0];
  assert.equal(s.segment, 1);
  assert.equal(s.previous_contact_id, null);
  assert.equal(s.next_contact_id, null);
  assert.equal(s.initiation_method, 'outbound');
  assert.deepEqual(s.customer_endpoint, ENDPOINT('+15550199'), 'amy\'s mobile, as digits');
  assert.deepEqual(s.system_endpoint, ENDPOINT('15550112'), 'what Amy\'s phone shows: Ned\'s business phone');
  assert.equal(s.transferred_to, null);
  const init = within(s.initiation_timestamp, t0, t1, 'initiation: the API call');
  const conn = within(s.connected_to_system_timestamp, init, tBusy, 'connected: Amy answered');
  assert.ok(conn > init, 'the agent\'s phone rings first');
  assert.equal(s.queue, null);
  assert.equal(s.agent.user_name, 'ned');
  assert.equal(s.agent.name, 'Ned Agent');
  assert.equal(s.agent.connected_to_agent_timestamp, s.connected_to_system_timestamp);
  const disc = within(s.disconnect_timestamp, e0, e1, 'disconnect: End call');
  assert.equal(s.disconnect_reason, 'agent');
  seconds(s.agent.interaction_duration_seconds, disc - conn, 'talk');
  assert.ok(s.agent.interaction_duration_seconds >= 2);
  assert.equal(s.agent.customer_hold_duration_seconds, 0);
  assert.equal(s.agent.number_of_holds, 0);
  assert.equal(s.agent.longest_hold_duration_seconds, 0);
  const acw0 = within(s.agent.after_contact_work_start_timestamp, disc, e1 + 500, 'after-contact work start');
  const acw1 = within(s.agent.after_contact_work_end_timestamp, c0, c1, 'after-contact work end');
  seconds(s.agent.after_contact_work_duration_seconds, acw1 - acw0, 'after-contact work');
  assert.equal(s.agent.wrap_up_code, 'Callback needed');
  assert.equal(s.agent_connection_attempts, 0, 'no offers: the agent placed it');
  assert.equal(s.missed_offers, 0);
  assert.deepEqual(s.attributes, {});
  assert.equal(s.intent, null);
  assert.deepEqual(s.recording, RECORDING(num));
  assert.equal(s.last_update_timestamp, s.agent.after_contact_work_end_timestamp);
  const d = await detail(num);
  assert.equal(d.talk_seconds, s.agent.interaction_duration_seconds);
  assert.equal(d.after_call_work_seconds, s.agent.after_contact_work_duration_seconds);
  assert.deepEqual([d.hold_seconds, d.queue_wait_seconds], [0, 0]);
  assert.equal(d.wrap_up_code, 'Callback needed');
  assert.equal((await ctrActivity(num)).length, 1);
});

test('holds and a missed offer: Ned rejects, Beth answers and holds Amy twice from the API', async () => {
  await available('ned');
  await sleep(50);
  await available('beth'); // Ned has been idle longer: offered first
  const nedEv = await sb.events(tok.ned);
  const { amy, prev, t0 } = await amyCalls();
  const offer = await nedEv.next((m) => m.type === 'offer' && m.interaction !== prev, 10000);
  const num = offer.interaction;
  const rj = await act('ned', num, 'reject');
  assert.equal(rj.status, 202, JSON.stringify(rj.body));
  await until('Beth has it', async () => (await detail(num)).agent === 'beth');
  const tAssigned = Date.now();
  assert.equal(await presence('ned'), 'Missed');
  await sleep(1000);
  const holds = [];
  for (const len of [1500, 1000]) {
    const a0 = Date.now();
    assert.equal((await act('beth', num, 'hold')).status, 200);
    const a1 = Date.now();
    await sleep(len);
    const b0 = Date.now();
    assert.equal((await act('beth', num, 'resume')).status, 200);
    holds.push([a0, a1, b0, Date.now()]);
    await sleep(700);
  }
  const [h0, h1] = await hangUp(amy);
  await until('Beth in wrap-up', async () => (await presence('beth')) === 'AfterCallWork');
  const [c0, c1] = await clear('beth', 'Resolved');
  nedEv.close();

  const c = await ctrOf(num);
  assert.equal(c.segments.length, 1);
  const s = c.segments[0];
  assert.equal(s.segment, 1);
  assert.equal(s.previous_contact_id, null);
  assert.equal(s.next_contact_id, null);
  assert.equal(s.initiation_method, 'inbound');
  assert.deepEqual(s.customer_endpoint, ENDPOINT('15550199'));
  assert.deepEqual(s.system_endpoint, ENDPOINT('5000'));
  assert.equal(s.transferred_to, null);
  within(s.initiation_timestamp, t0, tAssigned, 'initiation');
  assert.equal(s.connected_to_system_timestamp, s.initiation_timestamp);
  assert.equal(s.queue.name, 'Support');
  const enq = within(s.queue.enqueue_timestamp, t0, tAssigned, 'enqueue');
  const deq = within(s.queue.dequeue_timestamp, enq, tAssigned, 'dequeue: Beth answered');
  seconds(s.queue.duration_seconds, deq - enq, 'queue duration (the missed offer included)');
  assert.equal(s.agent.user_name, 'beth');
  assert.equal(s.agent.name, 'Beth Agent');
  const conn = within(s.agent.connected_to_agent_timestamp, deq, tAssigned, 'connected to Beth');
  // (CI once counted 3 here under load, not reproduced alone: the offers' log says whose)
  assert.equal(s.agent_connection_attempts, 2, `Ned's phone, then Beth's; activity: ${JSON.stringify((await detail(num)).activity)}\n${sb.log.split('\n').filter((l) => l.includes(num) && /offer|bridged|agent=/.test(l)).join('\n')}`);
  assert.equal(s.missed_offers, 1, 'Ned rejected');
  // holds: two, as long as the test held them (each between its marks)
  assert.equal(s.agent.number_of_holds, 2);
  const [lo, hi] = holds.reduce(([l, h], [a0, a1, b0, b1]) => [l + (b0 - a1), h + (b1 - a0)], [0, 0]);
  assert.ok(s.agent.customer_hold_duration_seconds >= Math.floor(lo / 1000) - 1 &&
    s.agent.customer_hold_duration_seconds <= Math.ceil(hi / 1000) + 1, `hold ${s.agent.customer_hold_duration_seconds} s, held ${lo}-${hi} ms`);
  // rounded, not truncated: the server's held time lies between lo and hi,
  // so its rounding lies between theirs (CI once had lo just under 2,500 ms:
  // a timer may fire a millisecond early; the server's 3 s was right)
  const held = s.agent.customer_hold_duration_seconds;
  assert.ok(held >= Math.round(lo / 1000) && held <= Math.round(hi / 1000), `hold ${held} s: rounded, held ${lo}-${hi} ms`);
  seconds(s.agent.longest_hold_duration_seconds, holds[0][2] - holds[0][1], 'the longest: the first');
  const disc = within(s.disconnect_timestamp, h0, h1 + 1500, 'disconnect');
  assert.equal(s.disconnect_reason, 'customer');
  const talkMs = disc - conn - s.agent.customer_hold_duration_seconds * 1000;
  seconds(s.agent.interaction_duration_seconds, talkMs, 'talk, holds excluded');
  const acw0 = within(s.agent.after_contact_work_start_timestamp, disc, h1 + 2000, 'after-contact work start');
  const acw1 = within(s.agent.after_contact_work_end_timestamp, c0, c1, 'after-contact work end');
  seconds(s.agent.after_contact_work_duration_seconds, acw1 - acw0, 'after-contact work');
  assert.equal(s.agent.wrap_up_code, 'Resolved');
  assert.deepEqual(s.attributes, {});
  assert.equal(s.intent, null);
  assert.deepEqual(s.recording, RECORDING(num));
  assert.equal(s.last_update_timestamp, s.agent.after_contact_work_end_timestamp);
  const d = await detail(num);
  assert.equal(d.hold_seconds, s.agent.customer_hold_duration_seconds);
  assert.equal(d.talk_seconds, s.agent.interaction_duration_seconds);
  assert.equal(d.queue_wait_seconds, s.queue.duration_seconds);
  assert.match((await ctrActivity(num))[0], /agent beth, talk \d+ s, hold \d+ s \(2\), after-call work \d+ s, wrap-up Resolved; missed offers 1; disconnect: customer$/);
});

test('a warm transfer: two segments chained by their ids — Ned\'s ends by the transfer, Beth\'s begins with it', async () => {
  await available('ned');
  const { amy, prev, t0 } = await amyCalls();
  const ix = await latestAfter(prev, (x) => x.state === 'work_in_progress' && x.agent === 'ned');
  const tAssigned = Date.now();
  await available('beth');
  await sleep(1500);
  const bethEv = await sb.events(tok.beth);
  const x0 = Date.now();
  let r = await act('ned', ix.number, 'transfer', { to: { agent: 'beth' }, note: 'billing question' });
  const x1 = Date.now();
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await bethEv.next((m) => m.type === 'call' && m.event === 'consult', 10000);
  const tConsult = Date.now();
  await sleep(1000);
  assert.equal((await act('beth', ix.number, 'join')).status, 200);
  await sleep(1000);
  const l0 = Date.now();
  r = await act('ned', ix.number, 'leave');
  const l1 = Date.now();
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  // Ned's segment is written at the reassignment (his wrap-up still open).
  let c = await ctrOf(ix.number, 'beth');
  assert.equal(c.segments.length, 1);
  assert.equal(c.segments[0].agent.user_name, 'ned');
  assert.equal(c.segments[0].disconnect_reason, 'transfer');
  assert.equal(c.segments[0].agent.after_contact_work_end_timestamp, null);
  // Ned's is final with his Clear contact, while Beth still talks.
  await sleep(800);
  const [n0, n1] = await clear('ned', 'Escalated');
  assert.equal((await ctrActivity(ix.number)).length, 1);
  await sleep(1500);
  const [h0, h1] = await hangUp(amy);
  await until('Beth in wrap-up', async () => (await presence('beth')) === 'AfterCallWork');
  const [b0, b1] = await clear('beth', 'Resolved');
  bethEv.close();

  c = await ctrOf(ix.number, 'beth');
  assert.equal(c.segments.length, 2);
  const [s1, s2] = c.segments;
  // the chain
  assert.deepEqual([s1.segment, s1.previous_contact_id, s1.next_contact_id], [1, null, `${ix.number}-2`]);
  assert.deepEqual([s2.segment, s2.previous_contact_id, s2.next_contact_id], [2, `${ix.number}-1`, null]);
  assert.equal(s1.initiation_method, 'inbound');
  assert.equal(s2.initiation_method, 'transfer');
  assert.equal(s1.disconnect_reason, 'transfer');
  assert.equal(s2.disconnect_reason, 'customer');
  assert.deepEqual(s1.transferred_to, { type: 'agent', address: 'beth' });
  assert.equal(s2.transferred_to, null);
  for (const s of [s1, s2]) {
    assert.deepEqual(s.customer_endpoint, ENDPOINT('15550199'));
    assert.deepEqual(s.system_endpoint, ENDPOINT('5000'));
    assert.deepEqual(s.attributes, {});
    assert.equal(s.intent, null);
    assert.deepEqual(s.recording, RECORDING(ix.number), 'one recording across the call');
  }
  // Ned's segment: from Amy's call to his leaving
  const init1 = within(s1.initiation_timestamp, t0, tAssigned, 'initiation 1');
  assert.equal(s1.connected_to_system_timestamp, s1.initiation_timestamp);
  assert.equal(s1.queue.name, 'Support');
  const enq = within(s1.queue.enqueue_timestamp, init1, tAssigned, 'enqueue');
  const deq = within(s1.queue.dequeue_timestamp, enq, tAssigned, 'dequeue');
  seconds(s1.queue.duration_seconds, deq - enq, 'queue duration');
  assert.equal(s1.agent.user_name, 'ned');
  assert.equal(s1.agent.name, 'Ned Agent');
  const conn1 = within(s1.agent.connected_to_agent_timestamp, deq, tAssigned, 'connected to Ned');
  const disc1 = within(s1.disconnect_timestamp, l0, l1, 'disconnect 1: Ned left');
  seconds(s1.agent.interaction_duration_seconds, disc1 - conn1, 'Ned\'s part (the consult in it)');
  assert.deepEqual([s1.agent.customer_hold_duration_seconds, s1.agent.number_of_holds, s1.agent.longest_hold_duration_seconds], [0, 0, 0],
    'a transfer\'s hold is not the agent\'s hold');
  assert.equal(s1.agent.after_contact_work_start_timestamp, s1.disconnect_timestamp);
  const acw1 = within(s1.agent.after_contact_work_end_timestamp, n0, n1, 'Ned\'s wrap-up end');
  seconds(s1.agent.after_contact_work_duration_seconds, acw1 - disc1, 'Ned\'s wrap-up');
  assert.equal(s1.agent.wrap_up_code, 'Escalated');
  assert.equal(s1.agent_connection_attempts, 1);
  assert.equal(s1.missed_offers, 0);
  assert.equal(s1.last_update_timestamp, s1.agent.after_contact_work_end_timestamp);
  // Beth's segment: from the transfer to Amy's hang-up
  const init2 = within(s2.initiation_timestamp, x0, x1, 'initiation 2: the transfer began');
  assert.equal(s2.connected_to_system_timestamp, s2.initiation_timestamp);
  assert.equal(s2.queue, null);
  assert.equal(s2.agent.user_name, 'beth');
  assert.equal(s2.agent.name, 'Beth Agent');
  const conn2 = within(s2.agent.connected_to_agent_timestamp, init2, tConsult, 'connected to Beth: her phone answered');
  const disc2 = within(s2.disconnect_timestamp, h0, h1 + 1500, 'disconnect 2');
  seconds(s2.agent.interaction_duration_seconds, disc2 - conn2, 'Beth\'s part');
  assert.deepEqual([s2.agent.customer_hold_duration_seconds, s2.agent.number_of_holds, s2.agent.longest_hold_duration_seconds], [0, 0, 0]);
  const acw20 = within(s2.agent.after_contact_work_start_timestamp, disc2, h1 + 2000, 'Beth\'s wrap-up start');
  const acw21 = within(s2.agent.after_contact_work_end_timestamp, b0, b1, 'Beth\'s wrap-up end');
  seconds(s2.agent.after_contact_work_duration_seconds, acw21 - acw20, 'Beth\'s wrap-up');
  assert.equal(s2.agent.wrap_up_code, 'Resolved');
  assert.equal(s2.agent_connection_attempts, 1, 'Beth\'s phone rang once');
  assert.equal(s2.missed_offers, 0);
  assert.equal(s2.last_update_timestamp, s2.agent.after_contact_work_end_timestamp);
  // overlapping: Beth was connected before Ned left (consult and conference)
  assert.ok(conn2 < disc1);

  // the interaction: the sums of both; the last agent's code
  const d = await detail(ix.number);
  assert.equal(d.agent, 'beth');
  assert.equal(d.wrap_up_code, 'Resolved');
  near(d.talk_seconds, s1.agent.interaction_duration_seconds + s2.agent.interaction_duration_seconds, 1000, 'talk sum');
  near(d.after_call_work_seconds, s1.agent.after_contact_work_duration_seconds + s2.agent.after_contact_work_duration_seconds, 1000, 'wrap-up sum');
  assert.equal(d.queue_wait_seconds, s1.queue.duration_seconds);
  assert.equal(d.hold_seconds, 0);
  const acts = await ctrActivity(ix.number);
  assert.equal(acts.length, 2);
  assert.match(acts[0], new RegExp(`^Contact trace record ${ix.number}-1 \\(inbound\\): queue Support, waited \\d+ s; agent ned, .*wrap-up Escalated; transferred to agent beth; disconnect: transfer$`));
  assert.match(acts[1], new RegExp(`^Contact trace record ${ix.number}-2 \\(transfer\\): agent beth, .*wrap-up Resolved; disconnect: customer$`));
  // The interaction is Beth's now: Ned no longer reads it (the same rule as the interaction).
  assert.equal((await sb.api('GET', `/api/v1/interactions/${ix.number}/ctr`, { token: tok.ned })).status, 404);
});

test('a queue transfer: Ned sends Amy to Billing (blind); the queue\'s segment waits there, then is Beth\'s', async () => {
  await away('beth');
  await available('ned');
  const { amy, prev, t0 } = await amyCalls();
  const ix = await latestAfter(prev, (x) => x.state === 'work_in_progress' && x.agent === 'ned');
  const tAssigned = Date.now();
  await sleep(1500);
  const x0 = Date.now();
  const r = await act('ned', ix.number, 'transfer', { to: { queue: 'Billing' }, mode: 'blind' });
  const x1 = Date.now();
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await until('Ned in wrap-up at once', async () => (await presence('ned')) === 'AfterCallWork');
  await sleep(1500); // Amy waits in Billing: nobody there is Available
  const a0 = Date.now();
  await available('beth');
  await until('Beth has it', async () => (await detail(ix.number)).agent === 'beth');
  const a1 = Date.now();
  const [n0, n1] = await clear('ned', 'Escalated');
  await sleep(1500);
  const [h0, h1] = await hangUp(amy);
  await until('Beth in wrap-up', async () => (await presence('beth')) === 'AfterCallWork');
  const [b0, b1] = await clear('beth', 'Refund issued');

  const c = await ctrOf(ix.number, 'beth');
  assert.equal(c.segments.length, 2);
  const [s1, s2] = c.segments;
  assert.deepEqual([s1.segment, s1.previous_contact_id, s1.next_contact_id], [1, null, `${ix.number}-2`]);
  assert.deepEqual([s2.segment, s2.previous_contact_id, s2.next_contact_id], [2, `${ix.number}-1`, null]);
  assert.equal(s1.initiation_method, 'inbound');
  assert.equal(s2.initiation_method, 'queue_transfer');
  assert.deepEqual(s1.transferred_to, { type: 'queue', address: 'Billing' });
  assert.equal(s2.transferred_to, null);
  assert.equal(s1.disconnect_reason, 'transfer');
  assert.equal(s2.disconnect_reason, 'customer');
  for (const s of [s1, s2]) {
    assert.deepEqual(s.customer_endpoint, ENDPOINT('15550199'));
    assert.deepEqual(s.system_endpoint, ENDPOINT('5000'));
    assert.deepEqual(s.attributes, {});
    assert.equal(s.intent, null);
    assert.deepEqual(s.recording, RECORDING(ix.number));
  }
  // Ned's: Support, then his part until the blind transfer
  within(s1.initiation_timestamp, t0, tAssigned, 'initiation 1');
  assert.equal(s1.connected_to_system_timestamp, s1.initiation_timestamp);
  assert.equal(s1.queue.name, 'Support');
  const deq1 = within(s1.queue.dequeue_timestamp, ms(s1.queue.enqueue_timestamp), tAssigned, 'dequeue 1');
  seconds(s1.queue.duration_seconds, deq1 - ms(s1.queue.enqueue_timestamp), 'Support wait');
  assert.equal(s1.agent.user_name, 'ned');
  const conn1 = within(s1.agent.connected_to_agent_timestamp, deq1, tAssigned, 'connected to Ned');
  const disc1 = within(s1.disconnect_timestamp, x0, x1, 'disconnect 1: the blind transfer');
  seconds(s1.agent.interaction_duration_seconds, disc1 - conn1, 'Ned\'s part');
  assert.deepEqual([s1.agent.customer_hold_duration_seconds, s1.agent.number_of_holds, s1.agent.longest_hold_duration_seconds], [0, 0, 0]);
  assert.equal(s1.agent.after_contact_work_start_timestamp, s1.disconnect_timestamp);
  const acw1 = within(s1.agent.after_contact_work_end_timestamp, n0, n1, 'Ned\'s wrap-up end');
  seconds(s1.agent.after_contact_work_duration_seconds, acw1 - disc1, 'Ned\'s wrap-up');
  assert.equal(s1.agent.wrap_up_code, 'Escalated');
  assert.equal(s1.agent_connection_attempts, 1);
  assert.equal(s1.missed_offers, 0);
  assert.equal(s1.last_update_timestamp, s1.agent.after_contact_work_end_timestamp);
  // the queue's: Billing from the transfer until Beth took it
  const init2 = within(s2.initiation_timestamp, x0, x1, 'initiation 2: the transfer');
  assert.equal(s2.connected_to_system_timestamp, s2.initiation_timestamp);
  assert.equal(s2.queue.name, 'Billing');
  const enq2 = within(s2.queue.enqueue_timestamp, x0, x1, 'enqueue in Billing');
  near(enq2, init2, 50, 'enqueued as the transfer began');
  const deq2 = within(s2.queue.dequeue_timestamp, a0, a1, 'dequeue: Beth took it');
  seconds(s2.queue.duration_seconds, deq2 - enq2, 'Billing wait');
  assert.ok(s2.queue.duration_seconds >= 1);
  assert.equal(s2.agent.user_name, 'beth');
  const conn2 = within(s2.agent.connected_to_agent_timestamp, deq2, a1, 'connected to Beth');
  near(conn2, deq2, 50, 'answered as it left the queue');
  const disc2 = within(s2.disconnect_timestamp, h0, h1 + 1500, 'disconnect 2');
  seconds(s2.agent.interaction_duration_seconds, disc2 - conn2, 'Beth\'s part');
  const acw20 = within(s2.agent.after_contact_work_start_timestamp, disc2, h1 + 2000, 'Beth\'s wrap-up start');
  const acw21 = within(s2.agent.after_contact_work_end_timestamp, b0, b1, 'Beth\'s wrap-up end');
  seconds(s2.agent.after_contact_work_duration_seconds, acw21 - acw20, 'Beth\'s wrap-up');
  assert.equal(s2.agent.wrap_up_code, 'Refund issued');
  assert.equal(s2.agent_connection_attempts, 1);
  assert.equal(s2.missed_offers, 0);
  assert.equal(s2.last_update_timestamp, s2.agent.after_contact_work_end_timestamp);
  const d = await detail(ix.number);
  near(d.queue_wait_seconds, s1.queue.duration_seconds + s2.queue.duration_seconds, 1000, 'both queues\' waits');
  assert.equal(d.wrap_up_code, 'Refund issued');
  const acts = await ctrActivity(ix.number);
  assert.equal(acts.length, 2);
  assert.match(acts[0], /transferred to queue Billing; disconnect: transfer$/);
  assert.match(acts[1], new RegExp(`^Contact trace record ${ix.number}-2 \\(queue_transfer\\): queue Billing, waited \\d+ s; agent beth, `));
});
