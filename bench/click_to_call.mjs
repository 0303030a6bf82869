#!/usr/bin/env node
// Click-to-call setup time: from the API call (POST /api/v1/calls) to the
// customer's phone ringing (the INVITE reaching the customer), with both
// phones on loopback and answering at once. Target: under 50 ms, the far
// end's answer excluded.
//
//   make -j2 bin && node bench/click_to_call.mjs [iterations=100]
//
// Starts build/release/switchboard (SB_BIN overrides) in demo mode with
// calls.outbound_uri pointing at a "customer" UA of this script, signs ned
// in and registers ned's phone (a minimal SIP UA: digest REGISTER, answers
// every INVITE 200 + SDP at once; the same code as bench/offer_latency.mjs).
// Per iteration, ned is Available and:
//   t0  just before the HTTP request POST /api/v1/calls {user amy, mobile}
//   t1  the INVITE reaches ned's phone (with Call-Info answer-after=0)
//   tA  ned's phone sends 200 OK
//   t2  the INVITE reaches the customer (sip:+15550199@127.0.0.1:port)
// The customer answers, the script sends End call and Clear contact and
// waits for Available. Prints percentiles of t1 - t0 (API → agent INVITE),
// t2 - tA (agent answer → customer INVITE) and t2 - t0 (total, which
// includes the agent phone's own answer time on loopback).
// Env: SB_BIN, BENCH_LOG_LEVEL (default warn), BENCH_SERVER_LOG.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = process.env.SB_BIN || join(ROOT, 'build/release/switchboard');
const ITER = Number(process.argv[2] ?? 100);
const USER = 'ned';
const PASSWORD = 'demo-pass';

if (!Number.isInteger(ITER) || ITER < 1) {
  console.error('usage: node bench/click_to_call.mjs [iterations=100]');
  process.exit(2);
}

import { apiBase, api, apiOk, cleanup, freePort, machine, ms, now, startChild, summary, tempDir, until, within, SipUA, agent } from './lib/harness.mjs';

// ---- the run ----
let server; let ua; let customer;
async function main() {
  if (!existsSync(BIN)) throw new Error(`${BIN} not found; build it first: make -j2 bin`);
  const work = tempDir('sb-c2c-');
  const httpPort = await freePort();
  const sipPort = await freePort();
  apiBase(`http://127.0.0.1:${httpPort}`);
  customer = new SipUA('customer', '', sipPort, 'click-to-call-bench');
  await customer.start();
  const cfg = join(work, 'switchboard.yaml');
  writeFileSync(cfg, `calls:\n  greeting_ms: 0\n  outbound_uri: "sip:127.0.0.1:${customer.port}"\n`
    + `log:\n  level: ${process.env.BENCH_LOG_LEVEL || 'warn'}\n`);
  server = startChild('server', BIN, ['demo', '--http-port', String(httpPort), '--sip-port', String(sipPort),
    '--data-dir', join(work, 'data'), '--config', cfg]);
  await until('the server to answer GET /api/v1/health', async () => {
    if (server.proc.exitCode !== null) throw new Error(`server exited with ${server.proc.exitCode}:\n${server.log}`);
    try { return { done: (await api('GET', '/api/v1/health', { timeoutMs: 1000 })).status === 200 }; } catch (e) { return { done: false, info: e.message }; }
  }, 10000, 50);
  const token = (await apiOk('POST', '/api/v1/login', { body: { user_name: USER, password: PASSWORD } })).body.token;
  const presence = async () => (await apiOk('GET', `/api/v1/agents/${USER}/presence`, { token })).body;
  ua = new SipUA(USER, PASSWORD, sipPort, 'click-to-call-bench');
  await ua.start();
  await ua.register();
  await until(`${USER}'s phone to show as registered`, async () => {
    const p = await presence();
    return { done: p.registered === true, info: JSON.stringify(p) };
  }, 5000, 20);
  await apiOk('PUT', `/api/v1/agents/${USER}/presence`, { token, body: { status: 'Available' } });

  const toAgent = []; const answerToCustomer = []; const total = []; const http = [];
  let autoAnswerHeader = 0;
  for (let i = 0; i < ITER; i++) {
    const agentInvite = ua.nextOffer();
    const customerInvite = customer.nextOffer();
    const t0 = now();
    const r = await api('POST', '/api/v1/calls', { token, body: { record: { table: 'user', key: 'amy' }, phone: 'mobile' } });
    if (r.status !== 202) throw new Error(`POST /api/v1/calls -> ${r.status} ${JSON.stringify(r.body)}`);
    const d1 = await within(agentInvite, 5000, 'the INVITE to the agent');
    if (/answer-after=0/.test(d1.invite.get('call-info') || '')) autoAnswerHeader++;
    const tA = now();
    const acked = ua.answer(d1);
    const d2 = await within(customerInvite, 5000, 'the INVITE to the customer');
    await acked;
    await customer.answer(d2);
    toAgent.push(ms(d1.at - t0)); answerToCustomer.push(ms(d2.at - tA)); total.push(ms(d2.at - t0));
    http.push(ms(r.at - t0));
    await until('Busy', async () => { const p = await presence(); return { done: p.presence === 'Busy', info: p.presence }; }, 5000);
    const e = await api('POST', `/api/v1/calls/${r.body.interaction}/end`, { token });
    if (e.status !== 202) throw new Error(`end -> ${e.status} ${JSON.stringify(e.body)}`);
    await until('AfterCallWork', async () => { const p = await presence(); return { done: p.presence === 'AfterCallWork', info: p.presence }; }, 5000);
    await apiOk('POST', `/api/v1/agents/${USER}/clear`, { token });
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`click-to-call setup, ${ITER} calls, ${new Date().toISOString()}, ${machine()}, load ${load}`);
  console.log(summary('API → agent INVITE', toAgent));
  console.log(summary('agent 200 → cust INVITE', answerToCustomer));
  console.log(summary('API → customer INVITE', total));
  console.log(summary('HTTP 202 round trip', http));
  console.log(`agent INVITEs with Call-Info answer-after=0: ${autoAnswerHeader} of ${ITER}`);
}

main().then(() => 0, (e) => { console.error(e.stack || e.message); if (server) console.error(server.log.slice(-4000)); return 1; })
  .then(async (code) => {
    if (process.env.BENCH_SERVER_LOG && server) writeFileSync(process.env.BENCH_SERVER_LOG, server.log);
    ua?.close(); customer?.close();
    await cleanup();
    process.exit(code);
  });
