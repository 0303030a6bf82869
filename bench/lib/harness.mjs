// Shared by the latency benchmarks (offer_latency.mjs, click_to_call.mjs):
// clocks and percentiles, the child processes they start and always stop,
// free ports, the HTTP API client, and a minimal SIP UA (digest REGISTER,
// answers INVITEs at once) that plays an agent's or a customer's phone.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const T1 = 500; // SIP timer T1, ms
export const now = () => process.hrtime.bigint();
export const ms = (ns) => Number(ns) / 1e6;
export const sleep = (t) => new Promise((r) => setTimeout(r, t));
export const hex = (n) => randomBytes(n).toString('hex');
export const md5 = (s) => createHash('md5').update(s).digest('hex');

// Rejects with a clear message if p does not settle within t ms.
export function within(p, t, what) {
  let timer;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`timed out after ${t} ms: ${what}`)), t); }),
  ]);
}

// ---- cleanup: everything started here is stopped, whatever happens ----
export const tempDirs = [];
export const children = [];
export function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}
let cleaning = null;
export function cleanup() {
  cleaning ??= (async () => {
    // The server first, so that the peers are still there to answer its BYEs.
    for (const c of children.filter((x) => x.name === 'server')) await stopChild(c, 'SIGTERM', 10000);
    for (const c of children.filter((x) => x.name !== 'server')) await stopChild(c, 'SIGTERM', 2000);
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  })();
  return cleaning;
}
export async function stopChild(c, sig, graceMs) {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill(sig);
  const done = await Promise.race([c.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    console.error(`${c.name} (pid ${c.proc.pid}) ignored ${sig}; sending SIGKILL`);
    c.proc.kill('SIGKILL');
    await c.exited;
  }
}
export function startChild(name, cmd, args, opts = {}) {
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
export async function freePort() {
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
export function apiBase(url) { base = url; }
export const agent = new Agent({ keepAlive: true, maxSockets: 1 });
export function api(method, path, { token, body, timeoutMs = 5000 } = {}) {
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
export async function apiOk(method, path, opts) {
  const r = await api(method, path, opts);
  if (r.status !== 200) throw new Error(`${method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}
export async function until(what, check, timeoutMs, everyMs = 2) {
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
export const COMPACT = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type', k: 'supported' };

export function parseSip(buf) {
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
export const tagOf = (h) => ((h || '').match(/;\s*tag=([^;\s]+)/i) || [])[1];
export const uriOf = (h) => { const m = (h || '').match(/<([^>]+)>/); return m ? m[1] : (h || '').split(';')[0].trim(); };

export class SipUA {
  constructor(user, password, serverPort, userAgent = 'switchboard-bench') {
    Object.assign(this, { user, password, serverPort, userAgent, cseq: 1, pending: new Map(), invites: new Map(),
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
      `User-Agent: ${this.userAgent}`, `Content-Length: ${Buffer.byteLength(body, 'latin1')}`, '', body].join('\r\n');
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
export function pct(sorted, p) { return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]; }
export function summary(name, xs) {
  const s = [...xs].sort((a, b) => a - b);
  const f = (v) => `${v.toFixed(2)} ms`;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `${name.padEnd(22)} p50 ${f(pct(s, 50))}  p90 ${f(pct(s, 90))}  p99 ${f(pct(s, 99))}  max ${f(s[s.length - 1])}`
    + `  (min ${f(s[0])}, mean ${f(mean)}, n=${s.length})`;
}
export function machine() {
  let cpu = 'unknown CPU';
  try { cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || cpu; } catch { /* not Linux */ }
  let cores = '?';
  try { cores = execFileSync('nproc', { encoding: 'utf8' }).trim(); } catch { /* no coreutils */ }
  return `${cores} cores, ${cpu}`;
}
