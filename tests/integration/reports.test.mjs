// Historical reports (issue 14 points 5-6, docs/REPORTS.md) from a scripted
// day of real calls: sipp callers dial Support (5000), Ned and Beth answer
// on baresip. Support's service-level threshold is set to 4 s. The day:
//   A  Ned Available first: answered at once (within the threshold)
//   B  nobody Available for 6 s, then Ned: answered past the threshold
//   C  nobody Available; the caller hangs up after 1 s: abandoned early
//   D  nobody Available; the caller hangs up after 6 s: abandoned late
//   E  Ned and Beth Available; Ned is offered it first and rejects (a
//      missed offer, Ned goes Missed), Beth answers within the threshold
//   F  Ned answers at once and sends it to Billing (blind); Beth takes it
//      there: Support's transfer out, Billing's transfer in
// The report's figures are then checked metric by metric against what the
// script did: counts exactly, times against the script's own clock marks
// and against the sums of the calls' contact trace records (GET …/ctr).
// Then: the same totals by 15 minutes, hour and day; CSV (Accept and
// format=csv); the drill-down lists exactly these calls' segments; roles
// and bad parameters; and after a restart that rebuilds the aggregates
// from the records (rep_state.built = 0), the same figures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { Baresip, sipp, waitRegistered } from './lib/peers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SL = 4; // Support's threshold for this test, s
let sb, tok, tStart, nedEv;
const phones = {};
const marks = {}; // per call: when the script made it answerable, and when answered
const until = (what, fn, timeoutMs = 20000) => sb.until(what, fn, timeoutMs);

const presence = async (u) => (await sb.api('GET', `/api/v1/agents/${u}/presence`, { token: tok.admin })).body.presence;
async function set(u, status) {
  const r = await sb.api('PUT', `/api/v1/agents/${u}/presence`, { token: tok[u], body: status === 'Away' ? { status, reason: 'Break' } : { status } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}
async function clear(u) {
  await until(`${u} in wrap-up`, async () => (await presence(u)) === 'AfterCallWork');
  const r = await sb.api('POST', `/api/v1/agents/${u}/clear`, { token: tok[u], body: { wrap_up_code: '' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}
const ixOf = async (caller) => until(`the call from ${caller}`, async () => {
  const r = await sb.api('GET', `/api/v1/interactions?limit=20&from=${tStart}`, { token: tok.mia });
  return r.body.interactions.find((x) => x.caller_number === caller) || null;
});
// Ned's phone rings with the caller's call: he answers it on the phone.
async function nedAnswers(caller) {
  await nedEv.next((m) => m.type === 'offer' && m.caller?.number === caller, 15000);
  await phones.ned.acceptFrom(caller);
}
const assigned = async (caller, agent) => until(`${caller} with ${agent}`, async () => {
  const x = await ixOf(caller);
  return x.agent === agent ? x : null;
});
// A sipp caller that hangs up pauseMs after Switchboard answers.
const dial = (caller, pauseMs) => sipp(sb, 'caller.xml', { service: '5000', caller, pauseMs, timeoutS: 40 });
const report = (kind, qs, user = 'mia') => sb.api('GET', `/api/v1/reports/${kind}?${qs}`, { token: tok[user] });

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'calls:\n  greeting_ms: 0\n  offer_timeout: 8\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
  tok = {};
  for (const u of ['admin', 'mia', 'ned', 'beth']) tok[u] = await sb.login(u);
  const r = await sb.api('PATCH', '/api/v1/queues/Support', { token: tok.admin, body: { service_level_seconds: SL } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // Ned answers by hand (each offer below), so that his phone is still
  // ringing when he rejects E; Beth's phone answers by itself.
  for (const u of ['ned', 'beth']) {
    phones[u] = await new Baresip(sb, u, { answer: u === 'ned' ? 'manual' : 'auto' }).start();
    await waitRegistered(sb, tok.admin, u);
    await set(u, 'Away');
  }
  nedEv = await sb.events(tok.ned);
  tStart = Date.now() - 1000;
});
after(async () => {
  nedEv?.close();
  for (const p of Object.values(phones)) await p?.stop();
  await sb.stop();
});

test('the scripted day of calls', async () => {
  // A: answered at once by Ned
  await set('ned', 'Available');
  let call = dial('15550601', 2500);
  await nedAnswers('15550601');
  await assigned('15550601', 'ned');
  assert.equal((await call).code, 0);
  await clear('ned');
  await set('ned', 'Away');

  // B: waits 6 s with nobody there, then Ned
  call = dial('15550602', 9500); // the pause runs from Switchboard's answer: 6 s queued, then talk
  await ixOf('15550602');
  const b0 = Date.now();
  await sleep(6000);
  await set('ned', 'Available');
  await nedAnswers('15550602');
  await assigned('15550602', 'ned');
  marks.B = Date.now() - b0;
  assert.equal((await call).code, 0);
  await clear('ned');
  await set('ned', 'Away');

  // C and D: nobody there; the callers give up after 1 s and 6 s
  assert.equal((await dial('15550603', 1000)).code, 0);
  assert.equal((await dial('15550604', 6000)).code, 0);

  // E: Ned rejects, Beth answers
  await set('ned', 'Available');
  await sleep(50);
  await set('beth', 'Available');
  call = dial('15550605', 5000);
  const offer = await nedEv.next((m) => m.type === 'offer' && m.caller?.number === '15550605', 10000);
  marks.missed0 = Date.now();
  const rj = await sb.api('POST', `/api/v1/calls/${offer.interaction}/reject`, { token: tok.ned });
  assert.equal(rj.status, 202, JSON.stringify(rj.body));
  await assigned('15550605', 'beth');
  assert.equal(await presence('ned'), 'Missed');
  await set('ned', 'Away');
  marks.missed1 = Date.now();
  assert.equal((await call).code, 0);
  await clear('beth');
  await set('beth', 'Away');

  // F: Ned answers, transfers to Billing (blind); Beth takes it there
  await set('ned', 'Available');
  call = dial('15550606', 6000);
  await nedAnswers('15550606');
  const f = await assigned('15550606', 'ned');
  await sleep(1000);
  await set('beth', 'Available');
  const x = await sb.api('POST', `/api/v1/calls/${f.number}/transfer`, { token: tok.ned, body: { to: { queue: 'Billing' }, mode: 'blind' } });
  assert.equal(x.status, 202, JSON.stringify(x.body));
  await assigned('15550606', 'beth');
  await clear('ned');
  await set('ned', 'Away');
  assert.equal((await call).code, 0);
  await clear('beth');
  await set('beth', 'Away');
});

// Every segment of the day's calls, by caller.
async function records() {
  const out = {};
  for (const c of ['15550601', '15550602', '15550603', '15550604', '15550605', '15550606']) {
    const ix = await ixOf(c);
    const r = await sb.api('GET', `/api/v1/interactions/${ix.number}/ctr`, { token: tok.mia });
    assert.equal(r.status, 200);
    out[c] = { number: ix.number, segments: r.body.segments };
  }
  return out;
}

const span = () => `from=${tStart}&to=${Date.now() + 60000}`;
const total = (body, name) => body.totals.find((t) => (t.queue || t.agent) === name);
// seconds (one decimal) against ms sums: within rounding of n values
const near = (got, wantS, tol, what) => assert.ok(Math.abs(got - wantS) <= tol, `${what}: ${got} s, expected ${wantS} s (±${tol})`);

test('queues: each figure as the script made it', async () => {
  const rec = await records();
  const r = await report('queues', `interval=15min&${span()}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const s = total(r.body, 'Support');
  assert.equal(s.service_level_threshold_seconds, SL);
  // counts, by hand
  assert.equal(s.offered, 6, 'A B C D E F');
  assert.equal(s.answered, 4, 'A B E F');
  assert.equal(s.answered_within_threshold, 3, 'A E F (B waited 6 s)');
  assert.equal(s.abandoned, 2, 'C D');
  assert.equal(s.abandoned_within_threshold, 1, 'C (1 s); D waited 6 s');
  assert.equal(s.abandonment_rate, 0.3333);
  assert.equal(s.service_level, 0.5);
  assert.equal(s.missed_offers, 1, 'Ned rejected E');
  assert.equal(s.transfers_out, 1, 'F');
  assert.equal(s.transfers_in, 0);
  assert.equal(s.holds, 0);
  assert.equal(s.hold_seconds, 0);
  // times: the records' sums (whole seconds each) and the script's marks
  const seg1 = (c) => rec[c].segments[0];
  const answered = ['15550601', '15550602', '15550605', '15550606'].map(seg1);
  const waits = answered.map((g) => g.queue.duration_seconds);
  near(s.average_speed_of_answer_seconds, waits.reduce((a, b) => a + b) / 4, 0.5, 'ASA against the records');
  assert.ok(seg1('15550602').queue.duration_seconds >= 6, 'B waited the 6 s the script held it');
  near(seg1('15550602').queue.duration_seconds, marks.B / 1000, 1.5, 'B\'s wait against the script');
  const abandons = ['15550603', '15550604'].map((c) => seg1(c).queue.duration_seconds);
  near(s.average_abandon_time_seconds, (abandons[0] + abandons[1]) / 2, 0.5, 'abandon time');
  near(abandons[0], 1, 1, 'C hung up after 1 s');
  near(abandons[1], 6, 1, 'D hung up after 6 s');
  const talk = answered.reduce((a, g) => a + g.agent.interaction_duration_seconds, 0);
  const acw = answered.reduce((a, g) => a + g.agent.after_contact_work_duration_seconds, 0);
  near(s.talk_seconds, talk, 2, 'talk');
  near(s.after_call_work_seconds, acw, 2, 'after-call work');
  near(s.average_after_call_work_seconds, acw / 4, 0.5, 'average after-call work');
  near(s.average_handle_time_seconds, (talk + acw) / 4, 1, 'AHT = (talk + hold + ACW) / answered');
  // A's talk: the caller's 2.5 s after the answer
  near(seg1('15550601').agent.interaction_duration_seconds, 2.5, 1.5, 'A\'s talk against the script');
  // Billing: F's second segment
  const b = total(r.body, 'Billing');
  assert.deepEqual([b.offered, b.answered, b.transfers_in, b.abandoned], [1, 1, 1, 0]);
  const f2 = rec['15550606'].segments[1];
  assert.equal(f2.initiation_method, 'queue_transfer');
  near(b.average_speed_of_answer_seconds, f2.queue.duration_seconds, 0.5, 'Billing ASA');
  // the whole
  assert.equal(r.body.total.queues, 2);
  assert.equal(r.body.total.offered, 7);
  assert.equal(r.body.total.answered, 5);
});

test('agents: handled, transfers, missed offers and time in each state', async () => {
  const rec = await records();
  const r = await report('agents', `interval=hour&${span()}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const ned = total(r.body, 'ned');
  const beth = total(r.body, 'beth');
  assert.equal(ned.agent_name, 'Ned Agent');
  assert.deepEqual([ned.handled, ned.answered, ned.outbound, ned.transfers_out, ned.transfers_in, ned.missed_offers],
    [3, 3, 0, 1, 0, 1], 'Ned: A B F, F out, E missed');
  assert.deepEqual([beth.handled, beth.answered, beth.transfers_in, beth.transfers_out, beth.missed_offers],
    [2, 2, 1, 0, 0], 'Beth: E, F in');
  const nedSegs = [rec['15550601'].segments[0], rec['15550602'].segments[0], rec['15550606'].segments[0]];
  near(ned.talk_seconds, nedSegs.reduce((a, g) => a + g.agent.interaction_duration_seconds, 0), 2, 'Ned\'s talk');
  // Ned was Missed from the reject until the script set him Away
  near(ned.missed_seconds, (marks.missed1 - marks.missed0) / 1000, 1, 'Ned\'s time Missed');
  assert.ok(ned.busy_seconds > 0 && ned.after_call_work_state_seconds > 0 && ned.available_seconds > 0 && ned.away_seconds > 0);
  const states = ['available_seconds', 'away_seconds', 'calling_customer_seconds', 'busy_seconds',
    'after_call_work_state_seconds', 'failed_connect_seconds', 'missed_seconds'];
  near(ned.staffed_seconds, states.reduce((a, k) => a + ned[k], 0), 0.5, 'staffed = the states\' sum');
  const on = ned.busy_seconds + ned.after_call_work_state_seconds + ned.calling_customer_seconds;
  // from the seconds as shown, each rounded to 0.1 s (±0.05): the exact
  // value lies between the extremes those roundings allow (a few thousandths
  // when Ned was Available long; more when a loaded run left him little)
  const av = ned.available_seconds;
  const lo = Math.max(0, on - 0.15) / (Math.max(0, on - 0.15) + av + 0.05);
  const hi = (on + 0.15) / (on + 0.15 + Math.max(0, av - 0.05));
  assert.ok(ned.occupancy >= lo - 0.0005 && ned.occupancy <= hi + 0.0005,
    `occupancy ${ned.occupancy}: from the shown seconds between ${lo.toFixed(4)} and ${hi.toFixed(4)} (busy+ACW+calling ${on} s, available ${av} s)`);
  // the agent filter
  const one = await report('agents', `agent=beth&interval=day&${span()}`);
  assert.deepEqual(one.body.totals.map((t) => t.agent), ['beth']);
  assert.equal(one.body.totals[0].handled, 2);
});

test('15 minutes, hour and day give the same totals; the rows add up to them', async () => {
  const get = async (iv) => (await report('queues', `interval=${iv}&${span()}`)).body;
  const [q15, qh, qd] = [await get('15min'), await get('hour'), await get('day')];
  const pick = (t) => [t.queue, t.offered, t.answered, t.abandoned, t.answered_within_threshold, t.talk_seconds, t.missed_offers];
  assert.deepEqual(qh.totals.map(pick), q15.totals.map(pick));
  assert.deepEqual(qd.totals.map(pick), q15.totals.map(pick));
  for (const body of [q15, qh, qd]) {
    const support = body.rows.filter((x) => x.queue === 'Support');
    assert.equal(support.reduce((a, x) => a + x.offered, 0), 6);
    for (const x of support) assert.equal(Date.parse(x.interval_start) % (body.interval === '15min' ? 900000 : 3600000), 0);
  }
});

test('CSV: Accept: text/csv and format=csv give the JSON\'s rows', async () => {
  const qs = `interval=15min&${span()}`;
  const json = (await report('queues', qs)).body;
  const r = await fetch(`${sb.url}/api/v1/reports/queues?${qs}`, { headers: { authorization: `Bearer ${tok.mia}`, accept: 'text/csv' } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/csv/);
  assert.match(r.headers.get('content-disposition'), /^attachment; filename="queues-15min-\d{4}-\d\d-\d\d\.csv"$/);
  const lines = (await r.text()).trim().split('\r\n');
  const head = lines[0].split(',');
  assert.deepEqual(head.slice(0, 3), ['queue', 'interval_start', 'offered']);
  assert.equal(lines.length - 1, json.rows.length);
  const rows = lines.slice(1).map((l) => l.split(','));
  const offered = rows.filter((x) => x[0] === 'Support').reduce((a, x) => a + Number(x[head.indexOf('offered')]), 0);
  assert.equal(offered, 6);
  const r2 = await fetch(`${sb.url}/api/v1/reports/agents?format=csv&${span()}`, { headers: { authorization: `Bearer ${tok.mia}` } });
  assert.equal(r2.status, 200);
  const text = await r2.text();
  assert.match(text.split('\r\n')[0], /^agent,agent_name,interval_start,handled,/);
  assert.ok(text.includes('ned,Ned Agent,'));
});

test('the drill-down lists exactly the segments behind a row', async () => {
  const rec = await records();
  const r = await sb.api('GET', `/api/v1/reports/queues/interactions?queue=Support&${span()}`, { token: tok.mia });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const ids = r.body.segments.map((g) => g.contact_id).sort();
  assert.deepEqual(ids, Object.values(rec).map((x) => `${x.number}-1`).sort());
  const byCaller = (c) => r.body.segments.find((g) => g.interaction === rec[c].number);
  assert.equal(byCaller('15550603').outcome, 'abandoned');
  assert.equal(byCaller('15550602').outcome, 'answered');
  assert.equal(r.body.next_cursor, null);
  // paged: 4 then 2
  const p1 = await sb.api('GET', `/api/v1/reports/queues/interactions?queue=Support&limit=4&${span()}`, { token: tok.mia });
  assert.equal(p1.body.segments.length, 4);
  const p2 = await sb.api('GET', `/api/v1/reports/queues/interactions?queue=Support&limit=4&cursor=${p1.body.next_cursor}&${span()}`, { token: tok.mia });
  assert.equal(p2.body.segments.length, 2);
  assert.equal(p2.body.next_cursor, null);
  // Beth's: E and F's Billing segment
  const a = await sb.api('GET', `/api/v1/reports/agents/interactions?agent=beth&${span()}`, { token: tok.mia });
  assert.deepEqual(a.body.segments.map((g) => g.contact_id).sort(),
    [`${rec['15550605'].number}-1`, `${rec['15550606'].number}-2`].sort());
});

test('roles and bad parameters', async () => {
  for (const path of ['queues', 'agents', 'queues/interactions?queue=Support', 'agents/interactions?agent=ned']) {
    const r = await sb.api('GET', `/api/v1/reports/${path}`, { token: tok.ned });
    assert.equal(r.status, 403, path);
    assert.equal(r.body.error, 'forbidden');
  }
  assert.equal((await sb.api('GET', '/api/v1/reports/queues')).status, 401);
  assert.equal((await report('queues', 'interval=day', 'admin')).status, 200, 'admins read reports too');
  const bad = [
    ['interval=minute', 'invalid_parameter', /interval/],
    ['from=2026-12-05&to=2026-12-01', 'invalid_period', /before/],
    ['interval=15min&from=2026-01-01&to=2026-06-01', 'period_too_long', /at most 31 days/],
    ['interval=hour&from=2025-01-01&to=2026-01-01', 'period_too_long', /at most 92 days/],
    ['queue=Nowhere', 'invalid_parameter', /no queue named 'Nowhere'/],
    ['tz_offset=20', 'invalid_parameter', /multiple of 15/],
    ['tz_offset=900', 'invalid_parameter', /tz_offset/],
    ['from=yesterday', 'invalid_parameter', /'from'/],
    ['format=xml', 'invalid_parameter', /json or csv/],
    ['agent=ned', 'unknown_parameter', /agent/],
  ];
  for (const [qs, code, msg] of bad) {
    const r = await report('queues', qs);
    assert.equal(r.status, 400, qs);
    assert.equal(r.body.error, code, qs);
    assert.match(r.body.message, msg, qs);
  }
  const d = await sb.api('GET', '/api/v1/reports/queues/interactions', { token: tok.mia });
  assert.equal(d.status, 400);
  assert.equal(d.body.error, 'missing_parameter');
  assert.equal((await sb.api('GET', '/api/v1/reports/agents/interactions?agent=nobody', { token: tok.mia })).body.error, 'invalid_parameter');
});

test('a restart that rebuilds the aggregates from the records gives the same report', async () => {
  const qs = `interval=hour&${span()}`;
  const before1 = (await report('queues', qs)).body;
  const before2 = (await report('agents', qs)).body;
  for (const p of Object.values(phones)) await p?.stop();
  phones.ned = null;
  phones.beth = null;
  await sb.stop({ keep: true });
  execFileSync('sqlite3', [sb.dbPath, 'UPDATE rep_state SET built=0; DELETE FROM rep_agg;']);
  const logAt = sb.log.length;
  await sb.start();
  assert.match(sb.log.slice(logAt), /report aggregates built from 7 records/);
  for (const u of ['mia']) tok[u] = await sb.login(u);
  const after1 = (await report('queues', qs)).body;
  assert.deepEqual(after1.totals, before1.totals);
  assert.deepEqual(after1.rows, before1.rows);
  const after2 = (await report('agents', qs)).body;
  const pick = (t) => [t.agent, t.handled, t.transfers_in, t.transfers_out, t.missed_offers, t.talk_seconds, t.missed_seconds, t.busy_seconds];
  assert.deepEqual(after2.totals.map(pick), before2.totals.map(pick));
});
