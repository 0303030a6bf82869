#!/usr/bin/env node
// Offer latency: how soon after an agent becomes Available does the server
// send the INVITE (the offer) to the agent's phone, when a caller is already
// waiting in the queue? Target: within 10 ms.
//
//   make -j2 bin && node bench/offer_latency.mjs [iterations=200]
//
// Starts build/release/switchboard (SB_BIN overrides) in demo mode on free
// loopback ports with a temporary data dir, signs ned in, and registers a
// minimal SIP UA for ned written here (UDP, digest auth, answers INVITE with
// 100/200 + SDP, sends BYE). `iterations + 10` sipp callers dial 5000 and wait
// in queue Support (they hear hold music). Then, per iteration:
//   t0    just before the HTTP request that makes ned Available
//         (PUT presence Available the first time, POST clear afterwards)
//   tHttp when that request's response headers arrive
//   t1    when the INVITE datagram reaches ned's socket
// ned answers, the server ACKs, ned hangs up (BYE) and the loop waits until
// ned is AfterCallWork. Prints percentiles of t1 - t0 and t1 - tHttp
// (negative: the INVITE arrived before the HTTP reply). All times come from
// process.hrtime.bigint(); t1 is taken in the socket's message handler, so
// it includes the time Node needs to get to that datagram.
// Env: SB_BIN (binary), BENCH_LOG_LEVEL (server log level, default warn),
// BENCH_SERVER_LOG (file to keep the server's log in).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = process.env.SB_BIN || join(ROOT, 'build/release/switchboard');
const ITER = Number(process.argv[2] ?? 200);
const EXTRA_CALLERS = 10;
const USER = 'ned';
const PASSWORD = 'demo-pass';
const SERVICE = '5000'; // queue Support (members ned, beth)
const QUEUE = 'Support';
const PCAP = '/usr/share/sip-tester/g711a.pcap';

if (!Number.isInteger(ITER) || ITER < 1) {
  console.error('usage: node bench/offer_latency.mjs [iterations=200]');
  process.exit(2);
}

import { apiBase, api, apiOk, cleanup, freePort, machine, ms, now, sleep, startChild, summary, tempDir, until, within, SipUA, agent } from './lib/harness.mjs';

// ---- the run ----
let server; let sipp; let ua;
async function main() {
  if (!existsSync(BIN)) throw new Error(`${BIN} not found; build it first: make -j2 bin`);
  if (!existsSync(PCAP)) throw new Error(`${PCAP} not found (package sip-tester)`);
  const work = tempDir('sb-offer-');
  const httpPort = await freePort();
  const sipPort = await freePort();
  apiBase(`http://127.0.0.1:${httpPort}`);
  const cfg = join(work, 'switchboard.yaml');
  writeFileSync(cfg, `calls:\n  greeting_ms: 0\n  offer_timeout: 10\nlog:\n  level: ${process.env.BENCH_LOG_LEVEL || 'warn'}\n`);
  server = startChild('server', BIN, ['demo', '--http-port', String(httpPort), '--sip-port', String(sipPort),
    '--data-dir', join(work, 'data'), '--config', cfg]);
  await until('the server to answer GET /api/v1/health', async () => {
    if (server.proc.exitCode !== null) throw new Error(`server exited with ${server.proc.exitCode}:\n${server.log}`);
    try { return { done: (await api('GET', '/api/v1/health', { timeoutMs: 1000 })).status === 200 }; } catch (e) { return { done: false, info: e.message }; }
  }, 10000, 50);

  const token = (await apiOk('POST', '/api/v1/login', { body: { user_name: USER, password: PASSWORD } })).body.token;
  const presence = async () => (await apiOk('GET', `/api/v1/agents/${USER}/presence`, { token })).body;

  ua = new SipUA(USER, PASSWORD, sipPort, 'offer-latency-bench');
  await ua.start();
  await ua.register();
  await until(`${USER}'s phone to show as registered`, async () => {
    const p = await presence();
    return { done: p.registered === true, info: JSON.stringify(p) };
  }, 5000, 20);
  const p0 = await presence();
  if (p0.presence !== 'Away') throw new Error(`${USER} should start Away, is ${p0.presence}`);

  // Callers: iterations + 10, all waiting in Support until the end.
  const callers = ITER + EXTRA_CALLERS;
  const sdir = tempDir('sb-offer-sipp-');
  mkdirSync(join(sdir, 'pcap'));
  copyFileSync(PCAP, join(sdir, 'pcap', 'g711a.pcap'));
  const xml = readFileSync(join(ROOT, 'tests/integration/sipp/caller.xml'), 'utf8').replaceAll('[caller]', '15550199');
  writeFileSync(join(sdir, 'caller.xml'), xml);
  const holdS = 1800;
  sipp = startChild('sipp', 'sipp', [`127.0.0.1:${sipPort}`, '-sf', 'caller.xml', '-s', SERVICE,
    '-m', String(callers), '-r', '50', '-l', String(callers), '-d', String(holdS * 1000),
    '-i', '127.0.0.1', '-p', String(await freePort()), '-mi', '127.0.0.1', '-mp', String(await freePort()),
    '-t', 'u1', '-aa', '-nostdin', '-timeout', `${holdS + 60}s`, '-trace_err'], { cwd: sdir });
  const queue = async () => {
    if (sipp.proc.exitCode !== null) throw new Error(`sipp exited with ${sipp.proc.exitCode}:\n${sipp.log.slice(-3000)}`);
    const q = (await apiOk('GET', '/api/v1/queues', { token })).body.queues.find((x) => x.name === QUEUE);
    if (!q) throw new Error(`no queue ${QUEUE}`);
    return q.live;
  };
  await until(`${callers} callers waiting in ${QUEUE}`, async () => {
    const l = await queue();
    return { done: l.waiting >= callers, info: JSON.stringify(l) };
  }, 20000 + callers * 100, 100);
  // Each caller streams ~6.8 s of speech after it is answered; let that end
  // so that only the hold music (server -> callers) runs during the loop.
  await sleep(8000);
  console.log(`${callers} callers waiting in ${QUEUE}; ${ITER} iterations`);

  const sinceT0 = []; const sinceHttp = []; const httpRtt = [];
  for (let i = 0; i < ITER; i++) {
    const offer = ua.nextOffer();
    const first = i === 0;
    const t0 = now();
    const r = first
      ? await api('PUT', `/api/v1/agents/${USER}/presence`, { token, body: { status: 'Available' } })
      : await api('POST', `/api/v1/agents/${USER}/clear`, { token });
    if (r.status !== 200) throw new Error(`iteration ${i}: ${first ? 'PUT presence Available' : 'POST clear'} -> ${r.status} ${JSON.stringify(r.body)}`);
    const d = await within(offer, 3000, `iteration ${i}: INVITE to ${USER}'s phone after ${first ? 'Available' : 'clear'}`)
      .catch(async (e) => { // the queue is read only now, so as not to disturb the measurement
        throw new Error(`${e.message} (presence ${JSON.stringify(r.body)}; queue ${JSON.stringify(await queue().catch((x) => x.message))})`);
      });
    sinceT0.push(ms(d.at - t0));
    sinceHttp.push(ms(d.at - r.at));
    httpRtt.push(ms(r.at - t0));
    await ua.answer(d);
    if (d.ended) throw new Error(`iteration ${i}: call ended before the BYE (${d.ended})`);
    await ua.bye(d);
    await until(`iteration ${i}: ${USER} AfterCallWork after the BYE`, async () => {
      const p = await presence();
      return { done: p.presence === 'AfterCallWork', info: JSON.stringify(p) };
    }, 5000, 2);
  }

  const left = (await queue()).waiting;
  console.log(summary('offer - request sent', sinceT0));
  console.log(summary('offer - HTTP reply', sinceHttp));
  console.log(summary('HTTP reply - sent', httpRtt));
  const over = sinceT0.filter((x) => x > 10).length;
  console.log(`over the 10 ms target: ${over} of ${ITER}; callers still waiting: ${left}`);
  console.log(`machine: ${machine()}`);
  const noise = server.log.split('\n').filter((l) => /^\S+ (WARN|ERROR) +\[/.test(l));
  if (noise.length) console.log(`server warnings/errors (${noise.length}), last ones:\n  ${noise.slice(-15).join('\n  ')}`);
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  console.error(`offer_latency: ${e.message}`);
  if (ua?.log.length) console.error(`SIP UA trace:\n  ${ua.log.join('\n  ')}`);
  if (server) console.error(`server log (tail):\n${server.log.slice(-4000)}`);
} finally {
  ua?.close();
  agent.destroy();
  await cleanup();
  const srv = server && await server.exited;
  if (server && process.env.BENCH_SERVER_LOG) writeFileSync(process.env.BENCH_SERVER_LOG, server.log);
  if (srv && srv.code !== 0) { failed = true; console.error(`server exited with code ${srv.code} signal ${srv.signal}`); }
}
process.exit(failed ? 1 : 0);
