// Starts the real switchboard binary (SB_BIN, the ASan build by default) on a
// free loopback port with a fresh data dir, and talks to it over HTTP and
// WebSocket (HTTPS and wss:// when given tls: { ca }, the certificate to
// trust; fetch() takes no CA, so those requests go through node:https). stop() sends SIGTERM and fails the test if the process did not
// exit 0 or a sanitizer reported anything.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';

export const BIN = process.env.SB_BIN || resolve('build/asan/switchboard');
export const DEMO_PASSWORD = 'demo-pass';

// Ports handed out, across the test files that run at the same time: a
// file per port in one directory, created exclusively, holding the pid of
// the test process that took it (one whose process is gone is taken over),
// removed when that process exits. Within a process, a Set.
const givenPorts = new Set();
const portDir = join(tmpdir(), 'sb-test-ports');
mkdirSync(portDir, { recursive: true });
process.on('exit', () => {
  for (const p of givenPorts) {
    try { if (readFileSync(join(portDir, String(p)), 'utf8') === String(process.pid)) unlinkSync(join(portDir, String(p))); } catch { /* gone */ }
  }
});
function claimPort(port) {
  if (givenPorts.has(port)) return false;
  const f = join(portDir, String(port));
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(f, String(process.pid), { flag: 'wx' });
      givenPorts.add(port);
      return true;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner = 0;
      try { owner = Number(readFileSync(f, 'utf8')); } catch { /* just removed */ }
      try { if (owner) process.kill(owner, 0); else continue; } catch { /* its process is gone */
        try { unlinkSync(f); } catch { /* taken over by another */ }
        continue;
      }
      return false; /* another test process has it */
    }
  }
  return false;
}

// A port the OS calls free now, that no test process running now was given
// before (the peer it went to may not have bound it yet).
export async function freePort() {
  for (;;) {
    const port = await new Promise((ok, fail) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => { const { port: p } = s.address(); s.close(() => ok(p)); });
      s.on('error', fail);
    });
    if (claimPort(port)) return port;
  }
}

// Marks ports as handed out (ports a peer binds beyond the one asked for);
// false when one of them was handed out already (those claimed here are
// released again).
export function claimPorts(ports) {
  const got = [];
  for (const p of ports) {
    if (!claimPort(p)) {
      for (const q of got) {
        givenPorts.delete(q);
        try { unlinkSync(join(portDir, String(q))); } catch { /* gone */ }
      }
      return false;
    }
    got.push(p);
  }
  return true;
}

// A UDP port free now (and `span` - 1 after it: sipp binds RTP on mport and
// the three after it, audio and video with their RTCP), none handed out
// before by this process.
export async function freeUdpPort(span = 1) {
  for (;;) {
    const p = await freePort();
    if (p + span > 65535) continue;
    const ports = Array.from({ length: span }, (_, i) => p + i);
    const socks = [];
    const ok = (await Promise.all(ports.map((port) => new Promise((r) => {
      const s = createSocket('udp4');
      socks.push(s);
      s.on('error', () => r(false));
      s.bind(port, '127.0.0.1', () => r(true));
    })))).every(Boolean);
    await Promise.all(socks.map((s) => new Promise((r) => { try { s.close(() => r()); } catch { r(); } })));
    if (ok && claimPorts(ports.slice(1))) return p;
  }
}

// Every process a test starts is killed when the test file's process exits
// (node --test-force-exit ends a file whose failed test left a peer running).
const children = new Set();
export function track(proc) {
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  return proc;
}
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

export function tempDir(prefix = 'sb-test-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Resolves with what p gives, or null after ms; the timer is cleared once p
// settles (a pending 30 s timer would keep the test file's process alive
// that long after its last test: 30 s of wall time per file).
export async function within(p, ms) {
  let timer;
  try {
    return await Promise.race([p, new Promise((r) => { timer = setTimeout(() => r(null), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

// fetch()'s answer shape (status, ok, headers, text()) from node:https,
// trusting `ca`; redirects are not followed.
export function httpsFetch(url, { method = 'GET', headers = {}, body, ca } = {}) {
  return new Promise((ok, fail) => {
    const req = httpsRequest(url, { method, headers, ca, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) h.set(k, [].concat(v).join(', '));
        ok({ status: res.statusCode, ok: res.statusCode >= 200 && res.statusCode < 300, headers: h,
          text: async () => text, json: async () => JSON.parse(text) });
      });
    });
    req.on('error', fail);
    req.end(body);
  });
}

export class Server {
  constructor({ mode = 'demo', dataDir = tempDir(), args = [], env = {}, tls = null } = {}) {
    Object.assign(this, { mode, dataDir, args, env, tls, log: '' });
  }

  get dbPath() { return join(this.dataDir, 'switchboard.db'); }
  get url() { return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`; }

  fetch(url, opts = {}) {
    return this.tls ? httpsFetch(url, { ...opts, ca: this.tls.ca }) : fetch(url, opts);
  }

  async start() {
    this.port = this.port || await freePort();
    this.sipPort = this.sipPort || await freeUdpPort(); // SIP listens on UDP and TCP
    const argv = [this.mode, '--http-port', String(this.port), '--sip-port', String(this.sipPort),
      '--data-dir', this.dataDir, ...this.args];
    const lsan = `suppressions=${resolve(new URL('../../lsan.supp', import.meta.url).pathname)}:print_suppressions=0`;
    this.proc = track(spawn(BIN, argv, { env: { LSAN_OPTIONS: lsan, ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'] }));
    this.proc.stdout.on('data', (d) => { this.log += d; });
    this.proc.stderr.on('data', (d) => { this.log += d; });
    this.exited = new Promise((r) => this.proc.on('exit', (code, sig) => r({ code, sig })));
    for (let i = 0; i < 200; i++) {
      if (this.proc.exitCode !== null) break;
      try {
        const r = await this.fetch(`${this.url}/api/v1/health`);
        if (r.ok) return this;
      } catch { /* not yet listening */ }
      await sleep(50);
    }
    throw new Error(`server did not start:\n${this.log}`);
  }

  async stop({ keep = false } = {}) {
    if (!this.proc) return;
    this.proc.kill('SIGTERM');
    // A server that does not exit on SIGTERM is a bug to report, not a test
    // run to hang: after 30 s its threads' stacks go into the failure.
    let hung = '';
    const done = await within(this.exited, 30000);
    if (!done) {
      try {
        hung = execFileSync('gdb', ['-p', String(this.proc.pid), '-batch', '-ex', 'thread apply all bt'],
          { encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) { hung = `(gdb: ${e.message})`; }
      this.proc.kill('SIGKILL');
    }
    const { code, sig } = await this.exited;
    this.proc = null;
    if (process.env.SB_LOG_DIR) {
      writeFileSync(join(process.env.SB_LOG_DIR, `server-${this.port}.log`), this.log);
    }
    const bad = /AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer/.test(this.log);
    if (!keep) rmSync(this.dataDir, { recursive: true, force: true });
    if (hung) throw new Error(`server did not exit within 30 s of SIGTERM; threads:\n${hung}\nlog:\n${this.log.slice(-6000)}`);
    if (code !== 0 || bad) {
      throw new Error(`server exit code=${code} signal=${sig}; log:\n${this.log.slice(-6000)}`);
    }
  }

  // Polls fn until it returns something truthy; fails with the end of the
  // server's log after timeoutMs.
  async until(what, fn, timeoutMs = 15000) {
    const t0 = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}\n${this.log.slice(-5000)}`);
      await sleep(100);
    }
  }

  async restart() {
    await this.stop({ keep: true });
    this.log = '';
    return this.start();
  }

  sql(statements) {
    return execFileSync('sqlite3', ['-batch', '-cmd', '.timeout 5000', this.dbPath, statements],
      { encoding: 'utf8' }).trim();
  }

  async api(method, path, { token, body, raw, headers = {} } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    let payload;
    if (raw !== undefined) payload = raw;
    else if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] = 'application/json'; }
    let r;
    try {
      r = await this.fetch(`${this.url}${path}`, { method, headers: h, body: payload });
    } catch (e) {
      throw new Error(`${method} ${path}: ${e.message} (${e.cause?.code || ''}); server log:\n${this.log.slice(-4000)}`);
    }
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = { unparsable: text }; }
    return { status: r.status, body: json, headers: r.headers };
  }

  async login(user, password = DEMO_PASSWORD) {
    const r = await this.api('POST', '/api/v1/login', { body: { user_name: user, password } });
    if (r.status !== 200) throw new Error(`login ${user}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token;
  }

  // Opens the event stream; resolves after the hello message.
  async events(token) {
    const ws = new WebSocket(`${this.tls ? 'wss' : 'ws'}://127.0.0.1:${this.port}/api/v1/events?access_token=${token}`,
      this.tls ? { ca: this.tls.ca } : {});
    const stream = new EventStream(ws);
    await stream.next((m) => m.type === 'hello');
    return stream;
  }
}

export class EventStream {
  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    this.waiters = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => !w.check());
    });
    this.closed = new Promise((r) => ws.on('close', (code) => r(code)));
    this.opened = new Promise((ok, fail) => { ws.on('open', ok); ws.on('error', fail); });
  }

  // Waits for the first message (from the start of the stream) matching pred.
  next(pred, timeoutMs = 5000) {
    return new Promise((ok, fail) => {
      const w = {
        check: () => {
          const m = this.messages.find((x) => !x.seen && pred(x));
          if (m) { m.seen = true; clearTimeout(w.t); ok(m); return true; }
          return false;
        },
      };
      if (w.check()) return;
      w.t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        fail(new Error(`no matching event in ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  close() { this.ws.close(); }
}

export function writeConfig(dir, text) {
  const p = join(dir, 'switchboard.yaml');
  writeFileSync(p, text);
  return p;
}
