// The API side of `bench/voice.sh conf|xfer`: warm transfers of many calls
// at once, as the agents' softphones would drive them (issue 12).
//
//   node bench/xfer_driver.mjs URL TOKENS CALLS MODE [leave_rate=20] [conf_hold_s=5]
//
// TOKENS: lines "user token", the first CALLS users answer the calls (agent
// A, members of the bench queue), the next CALLS receive them (agent B =
// the user CALLS lines further down; Available, in no queue, so only the
// transfer reaches them). The driver polls GET /api/v1/agents; each A that
// is Busy on a new interaction starts one call's steps:
//   transfer (A: {"to":{"agent":B},"mode":"warm"}) → 202; the phase goes
//   xfer_ring → consult when B's phone (sipp) answers (GET /api/v1/calls/n,
//   polled); join (B) → 200, phase conference: three parties.
// MODE conf stops there. MODE xfer waits until every call has joined (the
// peak: three legs per call), holds conf_hold_s, then has every A leave at
// leave_rate/s → 200, the call is B's (agent B, phase bridged: two parties).
//
// Prints one line per milestone for the shell ("MARK name epoch_ms"), each
// failure ("FAIL n step status body"), and a summary at the end. `roster`
// mode counts the phases of the calls listed in a state file:
//   node bench/xfer_driver.mjs URL TOKENS CALLS roster STATE
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';

const [url, tokFile, callsArg, mode, arg5, arg6] = process.argv.slice(2);
const N = Number(callsArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const tokens = new Map(readFileSync(tokFile, 'utf8').trim().split('\n').map((l) => l.split(' ')));
const users = [...tokens.keys()];
const firsts = users.slice(0, N), partner = new Map(firsts.map((u, i) => [u, users[N + i]]));
const mark = (name) => console.log(`MARK ${name} ${Date.now()}`);

function api(method, path, token, body) {
  return new Promise((ok) => {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers = { 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const t0 = performance.now();
    const req = http.request(`${url}${path}`, { method, headers, agent, timeout: 10000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { json = { unparsable: text }; }
        ok({ status: res.statusCode, body: json, ms: performance.now() - t0 });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => ok({ status: 0, body: { error: e.message }, ms: performance.now() - t0 }));
    req.end(payload);
  });
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] : NaN;
}
const fmt = (xs) => xs.length
  ? `p50 ${pct(xs, 50).toFixed(1)} / p90 ${pct(xs, 90).toFixed(1)} / max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`
  : 'n=0';

if (mode === 'roster') {
  const state = JSON.parse(readFileSync(arg5, 'utf8'));
  const phases = {}, legs = {};
  await Promise.all(state.calls.map(async (c) => {
    let r = await api('GET', `/api/v1/calls/${c.n}`, tokens.get(c.a)); // the call's agents only
    if (r.status === 404) r = await api('GET', `/api/v1/calls/${c.n}`, tokens.get(c.b));
    const ph = r.status === 200 ? r.body.phase : `http_${r.status}`;
    phases[ph] = (phases[ph] || 0) + 1;
    const up = r.status === 200 ? r.body.legs.filter((l) => l.state === 'up').length : 0;
    legs[up] = (legs[up] || 0) + 1;
  }));
  console.log(`roster: phases ${JSON.stringify(phases)}; calls by legs up ${JSON.stringify(legs)}`);
  process.exit(0);
}

const leaveRate = Number(arg5 || 20), confHold = Number(arg6 || 5) * 1000;
const calls = new Map(); // interaction → its record
const lat = { transfer: [], consult: [], join: [], leave: [] };
let failed = 0, joined = 0, left = 0, started = 0;
const fail = (c, step, r) => {
  failed++;
  c.failed = step;
  console.log(`FAIL ${c.n} ${step} ${r.status} ${JSON.stringify(r.body)}`);
};
let allJoined;
const allJoinedP = new Promise((r) => { allJoined = r; });

async function phaseOf(c, token) {
  const r = await api('GET', `/api/v1/calls/${c.n}`, token);
  return r.status === 200 ? r.body.phase : `http_${r.status}`;
}

async function oneCall(c) {
  const ta = tokens.get(c.a), tb = tokens.get(c.b);
  // The call is Busy on A's side once A's phone answered: bridged (a few
  // ms later at most).
  let r, t0 = performance.now();
  for (let i = 0; ; i++) {
    r = await api('POST', `/api/v1/calls/${c.n}/transfer`, ta, { to: { agent: c.b }, mode: 'warm' });
    if (r.status === 202 || r.status !== 409 || r.body?.error !== 'illegal_state' || i >= 50) break;
    await sleep(100);
  }
  if (r.status !== 202) return fail(c, 'transfer', r);
  lat.transfer.push(r.ms);
  let ph;
  for (const end = performance.now() + 15000; performance.now() < end;) {
    ph = await phaseOf(c, ta);
    if (ph !== 'xfer_ring') break;
    await sleep(20);
  }
  if (ph !== 'consult') return fail(c, 'consult', { status: 0, body: { phase: ph } });
  lat.consult.push(performance.now() - t0);
  r = await api('POST', `/api/v1/calls/${c.n}/join`, tb);
  if (r.status !== 200 || r.body.call?.phase !== 'conference') return fail(c, 'join', r);
  lat.join.push(r.ms);
  c.joinedAt = Date.now();
  if (++joined + failed === N) allJoined();
  if (mode !== 'xfer') return;
  await allJoinedP;
  await sleep(confHold + c.k * (1000 / leaveRate));
  r = await api('POST', `/api/v1/calls/${c.n}/leave`, ta);
  if (r.status !== 200 || r.body.call?.agent !== c.b || r.body.call?.phase !== 'bridged') return fail(c, 'leave', r);
  lat.leave.push(r.ms);
  left++;
}

const tStart = Date.now();
const runs = [];
const watch = tokens.get(users[0]);
let lastSeen = Date.now();
while (started < N && Date.now() - lastSeen < 60000) {
  const r = await api('GET', '/api/v1/agents', watch);
  if (r.status === 200) {
    for (const a of r.body.agents) {
      if (!partner.has(a.user_name) || a.presence !== 'Busy' || !a.interaction || calls.has(a.interaction)) continue;
      const c = { n: a.interaction, a: a.user_name, b: partner.get(a.user_name), k: started++ };
      if (started === 1) mark('first_answered');
      calls.set(c.n, c);
      lastSeen = Date.now();
      runs.push(oneCall(c));
    }
  }
  await sleep(100);
}
if (started < N) console.log(`only ${started} of ${N} calls were answered by an A agent within 60 s of the last one`);
const stuck = setTimeout(() => allJoined(), 30000); // a stuck step must not hold the leaves forever
await Promise.race([allJoinedP, Promise.all(runs)]);
clearTimeout(stuck);
allJoined();
mark('all_joined');
await Promise.all(runs);
if (mode === 'xfer') mark('all_left');
writeFileSync(`${tokFile}.state.json`, JSON.stringify({ calls: [...calls.values()] }));
console.log(`calls answered by A: ${started}; reached three parties: ${joined}; ` +
  (mode === 'xfer' ? `transferred (A left, B has it): ${left}; ` : '') + `failed: ${failed + (N - started)}` +
  ` (${[...calls.values()].filter((c) => c.failed).map((c) => `${c.n}@${c.failed}`).join(' ') || 'none'})`);
console.log(`transfer request (202): ${fmt(lat.transfer)}`);
console.log(`transfer request -> consult seen (B's phone answered, polled every 20 ms): ${fmt(lat.consult)}`);
console.log(`join request (200, phase conference): ${fmt(lat.join)}`);
if (mode === 'xfer') console.log(`leave request (200, reassigned, phase bridged): ${fmt(lat.leave)}`);
console.log(`driver ran ${((Date.now() - tStart) / 1000).toFixed(1)} s`);
process.exit(0);
