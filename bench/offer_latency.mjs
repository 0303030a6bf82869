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
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
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
const T1 = 500; // SIP timer T1, ms

if (!Number.isInteger(ITER) || ITER < 1) {
  console.error('usage: node bench/offer_latency.mjs [iterations=200]');
  process.exit(2);
}

const now = () => process.hrtime.bigint();
const ms = (ns) => Number(ns) / 1e6;
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const hex = (n) => randomBytes(n).toString('hex');
const md5 = (s) => createHash('md5').update(s).digest('hex');

// Rejects with a clear message if p does not settle within t ms.
function within(p, t, what) {
  let timer;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`timed out after ${t} ms: ${what}`)), t); }),
  ]);
}

// ---- cleanup: everything started here is stopped, whatever happens ----
const tempDirs = [];
const children = [];
function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}
let cleaning = null;
function cleanup() {
  cleaning ??= (async () => {
    // The server first, so that sipp is still there to answer its BYEs.
    for (const c of children.filter((x) => x.name === 'server')) await stopChild(c, 'SIGTERM', 10000);
    for (const c of children.filter((x) => x.name !== 'server')) await stopChild(c, 'SIGTERM', 2000);
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  })();
  return cleaning;
}
async function stopChild(c, sig, graceMs) {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill(sig);
  const done = await Promise.race([c.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    console.error(`${c.name} (pid ${c.proc.pid}) ignored ${sig}; sending SIGKILL`);
    c.proc.kill('SIGKILL');
    await c.exited;
  }
}
function startChild(name, cmd, args, opts = {}) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const c = { name, proc, log: '' };
  const keep = (d) => { c.log = (c.log + d).slice(-5000000); };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  c.exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  proc.on('error', (e) => { c.log += `\nspawn error: ${e.message}`; });
  children.push(c);
  return c;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { console.error(`\n${sig}: stopping`); cleanup().finally(() => process.exit(130)); });
}

// ---- ports ----
async function freePort() {
  for (;;) {
    const p = await new Promise((ok, fail) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
      s.on('error', fail);
    });
    const udpFree = await new Promise((r) => {
      const s = createSocket('udp4');
      s.on('error', () => r(false));
      s.bind(p, '127.0.0.1', () => s.close(() => r(true)));
    });
    if (udpFree) return p;
  }
}

// ---- HTTP (one keep-alive connection, so t0..tHttp is one round trip) ----
let base;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function api(method, path, { token, body, timeoutMs = 5000 } = {}) {
  return within(new Promise((ok, fail) => {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers = { 'content-length': Buffer.byteLength(payload) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const req = httpRequest(`${base}${path}`, { method, headers, agent }, (res) => {
      const at = now();
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { json = { unparsable: text }; }
        ok({ status: res.statusCode, body: json, at });
      });
      res.on('error', fail);
    });
    req.on('error', (e) => fail(new Error(`${method} ${path}: ${e.message}`)));
    req.end(payload);
  }), timeoutMs, `HTTP ${method} ${path}`);
}
async function apiOk(method, path, opts) {
  const r = await api(method, path, opts);
  if (r.status !== 200) throw new Error(`${method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}
async function until(what, check, timeoutMs, everyMs = 2) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last.done) return last;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last.info})`);
    await sleep(everyMs);
  }
}

// ---- a minimal SIP UA over UDP ----
const COMPACT = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type', k: 'supported' };

function parseSip(buf) {
  const s = buf.toString('latin1');
  const end = s.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = s.slice(0, end).split('\r\n').reduce((acc, l) => {
    if (/^[ \t]/.test(l) && acc.length) acc[acc.length - 1] += ` ${l.trim()}`;
    else acc.push(l);
    return acc;
  }, []);
  const start = lines.shift();
  const msg = { headers: [], body: s.slice(end + 4) };
  const st = start.match(/^SIP\/2\.0 (\d{3}) ?(.*)$/);
  if (st) { msg.status = Number(st[1]); msg.reason = st[2]; } else {
    const rq = start.match(/^([A-Z]+) (\S+) SIP\/2\.0$/);
    if (!rq) return null;
    msg.method = rq[1]; msg.uri = rq[2];
  }
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i <= 0) continue;
    const n = l.slice(0, i).trim().toLowerCase();
    msg.headers.push([COMPACT[n] || n, l.slice(i + 1).trim()]);
  }
  msg.all = (n) => msg.headers.filter(([k]) => k === n).map(([, v]) => v);
  msg.get = (n) => msg.all(n)[0];
  msg.cseq = (msg.get('cseq') || '').split(/\s+/);
  msg.branch = ((msg.get('via') || '').match(/;\s*branch=([^;,\s]+)/i) || [])[1];
  return msg;
}
const tagOf = (h) => ((h || '').match(/;\s*tag=([^;\s]+)/i) || [])[1];
const uriOf = (h) => { const m = (h || '').match(/<([^>]+)>/); return m ? m[1] : (h || '').split(';')[0].trim(); };

class SipUA {
  constructor(user, password, serverPort) {
    Object.assign(this, { user, password, serverPort, cseq: 1, pending: new Map(), invites: new Map(),
      dialogs: new Map(), offers: [], offerWaiters: [], log: [] });
    this.regCallId = `${hex(8)}@127.0.0.1`;
    this.fromTag = hex(4);
  }

  async start() {
    this.sock = createSocket('udp4');
    this.rtp = createSocket('udp4'); // where the server may send RTP once bridged; drained, never answered
    this.rtp.on('message', () => {});
    await new Promise((ok, fail) => { this.sock.once('error', fail); this.sock.bind(0, '127.0.0.1', ok); });
    await new Promise((ok, fail) => { this.rtp.once('error', fail); this.rtp.bind(0, '127.0.0.1', ok); });
    this.port = this.sock.address().port;
    this.rtpPort = this.rtp.address().port;
    this.contact = `<sip:${this.user}@127.0.0.1:${this.port}>`;
    this.sock.on('message', (buf, rinfo) => {
      const at = now();
      const m = parseSip(buf);
      if (!m) { this.trace(`unparsable datagram from ${rinfo.port}: ${buf.toString('latin1').slice(0, 200)}`); return; }
      m.at = at; m.rinfo = rinfo;
      if (m.method) this.onRequest(m); else this.onResponse(m);
    });
  }

  close() { this.sock?.close(); this.rtp?.close(); for (const p of this.pending.values()) clearTimeout(p.timer); }

  trace(s) { this.log.push(s); if (this.log.length > 50) this.log.shift(); }

  send(text, port = this.serverPort) { this.sock.send(Buffer.from(text, 'latin1'), port, '127.0.0.1'); }

  // A request we originate (REGISTER, BYE): retransmitted from T1 doubling
  // up to 4 s until a response, settled by the first final response.
  request(method, uri, { headers = [], callId, cseq = this.cseq++, body = '', port, timeoutMs = 8000 } = {}) {
    const branch = `z9hG4bK${hex(8)}`;
    const text = [`${method} ${uri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=${branch};rport`,
      'Max-Forwards: 70', ...headers, `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`,
      'User-Agent: offer-latency-bench', `Content-Length: ${Buffer.byteLength(body, 'latin1')}`, '', body].join('\r\n');
    return within(new Promise((ok) => {
      const p = { ok, interval: T1 };
      const resend = () => {
        this.send(text, port);
        p.timer = setTimeout(resend, p.interval);
        p.interval = Math.min(p.interval * 2, 4000);
      };
      this.pending.set(branch, p);
      resend();
    }), timeoutMs, `final response to ${method} ${uri}`).finally(() => {
      clearTimeout(this.pending.get(branch)?.timer);
      this.pending.delete(branch);
    });
  }

  onResponse(m) {
    const p = this.pending.get(m.branch);
    if (!p) return;
    clearTimeout(p.timer);
    if (m.status >= 200) p.ok(m);
  }

  // UAS responses copy Via, Record-Route, From, To (with our tag), Call-ID, CSeq.
  respond(req, status, reason, { toTag, extra = [], body = '' } = {}) {
    let to = req.get('to');
    if (toTag && !tagOf(to)) to += `;tag=${toTag}`;
    const text = [`SIP/2.0 ${status} ${reason}`, ...req.all('via').map((v) => `Via: ${v}`),
      ...req.all('record-route').map((v) => `Record-Route: ${v}`), `From: ${req.get('from')}`, `To: ${to}`,
      `Call-ID: ${req.get('call-id')}`, `CSeq: ${req.get('cseq')}`, ...extra,
      `Content-Length: ${Buffer.byteLength(body, 'latin1')}`, '', body].join('\r\n');
    this.send(text, req.rinfo.port);
    return text;
  }

  onRequest(m) {
    const callId = m.get('call-id');
    if (m.method === 'INVITE') {
      const key = `${callId} ${m.branch}`;
      const known = this.invites.get(key);
      if (known) { if (known.last) this.send(known.last, m.rinfo.port); return; } // retransmission
      const d = { callId, invite: m, at: m.at, localTag: hex(4), acked: null, ended: false };
      d.last = this.respond(m, 100, 'Trying');
      this.invites.set(key, d);
      this.dialogs.set(callId, d);
      const w = this.offerWaiters.shift();
      if (w) w(d); else this.offers.push(d);
      return;
    }
    const d = this.dialogs.get(callId);
    if (m.method === 'ACK') {
      if (d && d.onAck) d.onAck(m);
      return;
    }
    if (m.method === 'CANCEL') {
      this.respond(m, 200, 'OK');
      if (d && !d.answered) {
        d.ended = 'cancelled';
        d.last = this.respond(d.invite, 487, 'Request Terminated', { toTag: d.localTag });
      }
      return;
    }
    if (m.method === 'BYE') {
      this.respond(m, 200, 'OK', { toTag: d?.localTag });
      if (d) d.ended = 'bye from server';
      this.trace(`BYE from the server for ${callId}`);
      return;
    }
    this.respond(m, 200, 'OK', { toTag: hex(4) }); // OPTIONS and anything else
  }

  // Resolves with the next INVITE (one that may already have arrived).
  nextOffer() {
    const d = this.offers.shift();
    if (d) return Promise.resolve(d);
    return new Promise((r) => this.offerWaiters.push(r));
  }

  async register() {
    const aor = `sip:${this.user}@127.0.0.1`;
    const uri = `sip:127.0.0.1:${this.serverPort}`;
    const headers = [`From: <${aor}>;tag=${this.fromTag}`, `To: <${aor}>`, `Contact: ${this.contact}`, 'Expires: 600'];
    let r = await this.request('REGISTER', uri, { headers, callId: this.regCallId });
    if (r.status === 401) {
      const ch = r.get('www-authenticate') || '';
      const param = (k) => (ch.match(new RegExp(`${k}="?([^",]+)"?`, 'i')) || [])[1];
      const realm = param('realm'); const nonce = param('nonce'); const qop = param('qop');
      const cnonce = hex(8); const nc = '00000001';
      const ha1 = md5(`${this.user}:${realm}:${this.password}`);
      const ha2 = md5(`REGISTER:${uri}`);
      const resp = qop ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
      const auth = `Authorization: Digest username="${this.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", `
        + `response="${resp}", algorithm=MD5${qop ? `, qop=auth, nc=${nc}, cnonce="${cnonce}"` : ''}`;
      r = await this.request('REGISTER', uri, { headers: [...headers, auth], callId: this.regCallId });
    }
    if (r.status !== 200) throw new Error(`REGISTER ${this.user}: ${r.status} ${r.reason}`);
  }

  // Answers with 200 + SDP (PCMU), retransmitted until the ACK; resolves on ACK.
  answer(d, timeoutMs = 5000) {
    const sdp = ['v=0', `o=${this.user} ${Date.now()} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
      `m=audio ${this.rtpPort} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');
    d.answered = true;
    d.last = this.respond(d.invite, 200, 'OK', { toTag: d.localTag, body: sdp,
      extra: [`Contact: ${this.contact}`, 'Content-Type: application/sdp'] });
    let timer; let interval = T1;
    const resend = () => {
      this.send(d.last, d.invite.rinfo.port);
      interval = Math.min(interval * 2, 4000);
      timer = setTimeout(resend, interval);
    };
    timer = setTimeout(resend, interval);
    return within(new Promise((ok) => { d.onAck = ok; }), timeoutMs, `ACK for call ${d.callId}`)
      .finally(() => { clearTimeout(timer); d.onAck = null; });
  }

  // Hangs up an answered call: in-dialog BYE to the server's Contact,
  // through its Record-Route set if any (the B2BUA is always the next hop).
  async bye(d) {
    const inv = d.invite;
    const routes = inv.all('record-route').map((v) => `Route: ${v}`);
    const r = await this.request('BYE', uriOf(inv.get('contact')), {
      callId: d.callId, cseq: 1, port: inv.rinfo.port,
      headers: [`From: ${inv.get('to')};tag=${d.localTag}`, `To: ${inv.get('from')}`, ...routes],
    });
    if (r.status !== 200) throw new Error(`BYE for ${d.callId}: ${r.status} ${r.reason}`);
    this.dialogs.delete(d.callId);
  }
}

// ---- statistics ----
function pct(sorted, p) { return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]; }
function summary(name, xs) {
  const s = [...xs].sort((a, b) => a - b);
  const f = (v) => `${v.toFixed(2)} ms`;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `${name.padEnd(22)} p50 ${f(pct(s, 50))}  p90 ${f(pct(s, 90))}  p99 ${f(pct(s, 99))}  max ${f(s[s.length - 1])}`
    + `  (min ${f(s[0])}, mean ${f(mean)}, n=${s.length})`;
}
function machine() {
  let cpu = 'unknown CPU';
  try { cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || cpu; } catch { /* not Linux */ }
  let cores = '?';
  try { cores = execFileSync('nproc', { encoding: 'utf8' }).trim(); } catch { /* no coreutils */ }
  return `${cores} cores, ${cpu}`;
}

// ---- the run ----
let server; let sipp; let ua;
async function main() {
  if (!existsSync(BIN)) throw new Error(`${BIN} not found; build it first: make -j2 bin`);
  if (!existsSync(PCAP)) throw new Error(`${PCAP} not found (package sip-tester)`);
  const work = tempDir('sb-offer-');
  const httpPort = await freePort();
  const sipPort = await freePort();
  base = `http://127.0.0.1:${httpPort}`;
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

  ua = new SipUA(USER, PASSWORD, sipPort);
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
