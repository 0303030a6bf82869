// Real SIP peers for the voice tests (PEERS.md): sipp as callers and raw
// probes, baresip as agents' softphones that register with digest auth and
// auto-answer, playing a spoken WAV as their microphone.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { freePort, freeUdpPort, tempDir, track, within } from './server.mjs';

const SIPP_DIR = new URL('../sipp/', import.meta.url).pathname;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export { freeUdpPort } from './server.mjs';

// A working dir for sipp with the pcap files it plays and the scenario with
// [caller]/[user]/[expect] filled in (sipp keywords stay as they are).
function sippDir(scenario, vars) {
  const dir = tempDir('sb-sipp-');
  mkdirSync(join(dir, 'pcap'));
  for (const f of readdirSync('/usr/share/sip-tester')) {
    if (f.endsWith('.pcap')) copyFileSync(join('/usr/share/sip-tester', f), join(dir, 'pcap', f));
  }
  let xml = readFileSync(join(SIPP_DIR, scenario), 'utf8');
  for (const [k, v] of Object.entries(vars)) xml = xml.replaceAll(`[${k}]`, String(v));
  writeFileSync(join(dir, scenario), xml);
  return dir;
}

// A far end on `port` (a customer behind calls.outbound_uri, or a flow's
// transfer target): sipp's built-in UAS answering one call and echoing its
// RTP, or a scenario of tests/integration/sipp/ (with -d pauseMs). Resolves
// once sipp has had time to bind; messages() is what it received and sent.
export async function farEnd(port, { scenario = null, pauseMs = 0 } = {}) {
  const dir = tempDir('sb-far-');
  const args = ['-i', '127.0.0.1', '-p', String(port), '-m', '1', '-nostdin', '-trace_msg', '-timeout', '40s'];
  if (scenario) {
    copyFileSync(join(SIPP_DIR, scenario), join(dir, scenario));
    args.push('-sf', scenario);
    if (pauseMs) args.push('-d', String(pauseMs));
  } else {
    args.push('-sn', 'uas', '-mi', '127.0.0.1', '-rtp_echo', '-mp', String(await freeUdpPort(4)));
  }
  const p = track(spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((r) => p.on('exit', (code) => r(code)));
  const messages = () => readdirSync(dir).filter((f) => f.endsWith('messages.log'))
    .map((f) => execFileSync('cat', [join(dir, f)], { encoding: 'utf8' })).join('');
  await sleep(300);
  return { proc: p, exited, messages, out: () => out };
}

// Runs one sipp call; resolves with { code, out } when sipp exits.
export async function sipp(server, scenario, { service = '5000', caller = '15550199', expect = 200,
  user = '', password = '', expires = 120, pauseMs = 3000, transport = 'u1', timeoutS = 30, extra = [],
  ip = '127.0.0.1', digit = '1', waitMs = 1000, speech = null } = {}) {
  const dir = sippDir(scenario, { caller, expect, user, expires, digit, wait_ms: waitMs, pause_ms: pauseMs });
  if (speech) copyFileSync(speech, join(dir, 'speech.ulaw'));
  const port = await freeUdpPort();
  // sipp binds RTP on mport and the ports after it: never next to the SIP
  // port (two probes may return the same free port; seen once in CI).
  let mport = await freeUdpPort(4);
  while (Math.abs(mport - port) < 4) mport = await freeUdpPort(4);
  const args = [`127.0.0.1:${server.sipPort}`, '-sf', scenario, '-s', service, '-m', '1',
    '-i', ip, '-p', String(port), '-mi', ip, '-mp', String(mport),
    '-d', String(pauseMs), '-t', transport, '-timeout', `${timeoutS}s`, '-nostdin',
    '-trace_err', '-trace_msg', ...extra];
  if (user) args.push('-au', user, '-ap', password);
  const p = track(spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  const code = await new Promise((r) => p.on('exit', (c) => r(c)));
  const msgs = existsSync(dir) ? execFileSync('sh', ['-c', `cat ${dir}/*messages.log 2>/dev/null || true`], { encoding: 'utf8' }) : '';
  return { code, out, messages: msgs, dir };
}

// What a caller says, as sipp's rtp_stream plays it: espeak-ng at 8 kHz,
// G.711 µ-law, raw, with a second of silence after it.
export function spokenUlaw(text) {
  const dir = tempDir('sb-speech-');
  const raw = join(dir, 'raw.wav');
  const out = join(dir, 'speech.ulaw');
  execFileSync('espeak-ng', ['-v', 'en-us', '-w', raw, text]);
  execFileSync('sox', [raw, '-r', '8000', '-c', '1', '-e', 'u-law', '-t', 'raw', out, 'pad', '0', '1']);
  return out;
}

let promptCache = null;
// A spoken prompt at 8 kHz, padded with silence so baresip does not hang up early.
export function agentPrompt() {
  if (promptCache) return promptCache;
  const dir = tempDir('sb-audio-');
  const raw = join(dir, 'raw.wav');
  const out = join(dir, 'agent8k.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-w', raw, 'Hello, this is your agent speaking. How can I help you today? I can hear you clearly.']);
  execFileSync('sox', [raw, '-r', '8000', '-c', '1', '-b', '16', out, 'repeat', '3', 'pad', '0', '30']);
  promptCache = out;
  return out;
}

export class Baresip {
  // audio: the WAV it sends as its microphone; register: false for a caller
  // that only dials out (through the server's loopback trunk).
  constructor(server, user, { password = 'demo-pass', answer = 'auto', audio = null, register = true, verbose = false } = {}) {
    Object.assign(this, { server, user, password, answer, audio, register, verbose, log: '' });
  }

  // Ports are probed free, then bound by baresip a moment later: another
  // peer (in this file or a parallel one) may take one in between, and
  // baresip then exits at once ("Address already in use"). Such a start is
  // retried on fresh ports; any other failure to come up is reported with
  // baresip's own output.
  async start() {
    for (let attempt = 1; ; attempt++) {
      await this.startOnce();
      const t0 = Date.now();
      while (!this.log.includes('baresip is ready') && this.proc.exitCode === null && Date.now() - t0 < 10000) await sleep(50);
      if (this.log.includes('baresip is ready') && this.proc.exitCode === null) return this;
      const why = this.log;
      await this.stop();
      if (attempt >= 3 || !/already in use/i.test(why)) throw new Error(`baresip ${this.user} did not start:\n${why}`);
      this.log = '';
    }
  }

  async startOnce() {
    this.dir = tempDir(`sb-baresip-${this.user}-`);
    this.port = await freeUdpPort();
    this.ctrl = await freePort();
    mkdirSync(join(this.dir, 'snd'));
    writeFileSync(join(this.dir, 'config'), [
      `sip_listen 127.0.0.1:${this.port}`,
      'net_interface 127.0.0.1',
      `audio_source aufile,${this.audio || agentPrompt()}`,
      'audio_player aufile,/dev/null',
      'module_path /usr/lib/baresip/modules',
      'module g711.so', 'module aufile.so', 'module sndfile.so',
      `snd_path ${join(this.dir, 'snd')}`,
      'module_app account.so', 'module_app menu.so', 'module ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${this.ctrl}`,
      'sip_transports udp',
      '',
    ].join('\n'));
    writeFileSync(join(this.dir, 'accounts'),
      `<sip:${this.user}@127.0.0.1>;outbound="sip:127.0.0.1:${this.server.sipPort}";auth_pass=${this.password};answermode=${this.answer};regint=${this.register ? 600 : 0};audio_codecs=PCMU,PCMA\n`);
    this.proc = track(spawn('baresip', ['-f', this.dir, ...(this.verbose ? ['-v'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.proc.stdout.on('data', (d) => { this.log += d; });
    this.proc.stderr.on('data', (d) => { this.log += d; });
    this.exited = new Promise((r) => this.proc.on('exit', r));
  }

  // Sends a command over ctrl_tcp (a JSON netstring), e.g. 'hold', 'resume';
  // resolves with baresip's JSON reply.
  async command(command, params = '') {
    // ctrl_tcp listens a moment after baresip starts: retry a refused
    // connection for up to 5 s.
    for (let t0 = Date.now(); ; await sleep(100)) {
      try {
        return await this.commandOnce(command, params);
      } catch (e) {
        if (e.code !== 'ECONNREFUSED' || Date.now() - t0 > 5000) throw e;
      }
    }
  }

  async commandOnce(command, params) {
    const net = await import('node:net');
    const body = JSON.stringify({ command, params, token: String(Date.now()) });
    return new Promise((ok, fail) => {
      const s = net.connect(this.ctrl, '127.0.0.1', () => s.write(`${Buffer.byteLength(body)}:${body},`));
      let got = '';
      s.on('data', (d) => {
        got += d;
        const m = got.match(/^(\d+):/);
        if (m && got.length >= m[0].length + Number(m[1])) {
          s.destroy();
          try { ok(JSON.parse(got.slice(m[0].length, m[0].length + Number(m[1])))); } catch (e) { fail(e); }
        }
      });
      s.on('error', fail);
      setTimeout(() => { s.destroy(); fail(new Error(`baresip ${command}: no reply`)); }, 3000);
    });
  }

  // Answers the call from `caller` once baresip has it: an 'accept' sent
  // before the INVITE arrived answers nothing (and baresip still says ok).
  async acceptFrom(caller, timeoutMs = 10000) {
    const seen = () => this.log.indexOf(`Incoming call from: ${caller}`, this.acceptedAt || 0);
    for (const t0 = Date.now(); seen() < 0; await sleep(50)) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`baresip ${this.user}: no incoming call from ${caller}:\n${this.log.slice(-3000)}`);
    }
    this.acceptedAt = seen() + 1;
    return this.command('accept');
  }

  // What it received in its calls so far (sndfile's dump-*-dec.wav files).
  receivedWavs() {
    const snd = join(this.dir, 'snd');
    return readdirSync(snd).filter((f) => f.endsWith('-dec.wav')).map((f) => join(snd, f));
  }

  async stop() {
    if (!this.proc) return;
    this.proc.kill('SIGTERM');
    await within(this.exited, 3000);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    this.proc = null;
  }
}

// Waits until the server reports the agent's device registered.
export async function waitRegistered(server, token, user, timeoutMs = 10000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const r = await server.api('GET', `/api/v1/agents/${user}/presence`, { token });
    if (r.body?.registered) return;
    await sleep(100);
  }
  throw new Error(`${user} did not register`);
}

// Length in seconds and RMS amplitude of a WAV, or of one channel of it
// (sox prints `stat` on stderr).
export function wavInfo(path, channel) {
  const args = [path, '-n', ...(channel ? ['remix', String(channel)] : []), 'stat'];
  const r = spawnSync('sox', args, { encoding: 'utf8' });
  const text = `${r.stdout || ''}${r.stderr || ''}`;
  const num = (re) => Number((text.match(re) || [])[1]);
  return { seconds: num(/Length \(seconds\):\s+([\d.]+)/), rms: num(/RMS\s+amplitude:\s+([\d.]+)/) };
}

export async function sendRaw(port, payloads, transport = 'udp') {
  const net = await import('node:net');
  for (const p of payloads) {
    if (transport === 'udp') {
      await new Promise((r) => {
        const s = createSocket('udp4');
        s.send(Buffer.from(p, 'binary'), port, '127.0.0.1', () => s.close(r));
      });
    } else {
      await new Promise((r) => {
        const s = net.connect(port, '127.0.0.1', () => s.end(Buffer.from(p, 'binary')));
        s.on('close', r); s.on('error', r); s.on('data', () => {});
        setTimeout(() => { s.destroy(); r(); }, 1500);
      });
    }
  }
}

// linphonec (Debian's linphone-cli) as an agent's desk phone, for what
// baresip 1.0 cannot do: an attended transfer (`transfer 1 --to-call 2`).
// Driven through its stdin; it auto-answers (-a) and plays `audio` as its
// microphone. Its own HOME keeps its database away from others'.
export class Linphone {
  constructor(server, user, { password = 'demo-pass', audio = null } = {}) {
    Object.assign(this, { server, user, password, audio, log: '' });
  }

  async start() {
    this.dir = tempDir(`sb-linphone-${this.user}-`);
    this.port = await freeUdpPort(3); // SIP, then RTP and RTCP after it
    mkdirSync(join(this.dir, '.local/share/linphone'), { recursive: true });
    writeFileSync(join(this.dir, 'rc'), `[sip]\nsip_port=${this.port}\nsip_tcp_port=-1\nbind_address=127.0.0.1\n[net]\nnat_policy_ref=\n[rtp]\naudio_rtp_port=${this.port + 1}\n`);
    this.proc = track(spawn('linphonec', ['-c', join(this.dir, 'rc'), '-a', '-d', '0'],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: this.dir } }));
    this.proc.stdout.on('data', (d) => { this.log += d; });
    this.proc.stderr.on('data', (d) => { this.log += d; });
    this.exited = new Promise((r) => this.proc.on('exit', r));
    this.send('soundcard use files');
    if (this.audio) this.send(`play ${this.audio}`);
    this.send(`record ${join(this.dir, 'rx.wav')}`);
    this.send(`register sip:${this.user}@127.0.0.1 sip:127.0.0.1:${this.server.sipPort} ${this.password}`);
    return this;
  }

  send(line) { this.proc.stdin.write(`${line}\n`); }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.send('terminate all');
    this.send('quit');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(t);
  }
}
