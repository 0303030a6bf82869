// Every command block of the README runs as written (issue 10), in order,
// bounded in time, on a fresh data dir, so the README cannot rot again (its
// sipp line once failed with "Unsupported keyword 'caller'").
//
// How each line is run (from the project's root, as a newcomer would):
// - a line that starts a server (scripts/demo.sh, switchboard serve|demo)
//   runs in the background with `--data-dir` pointed at a fresh folder, and
//   counts as done when its port answers /api/v1/health; it keeps running
//   for the blocks after it (the README's curl, phone and sipp lines talk to
//   the demo) until the next server line (they are alternatives: HTTP and
//   SIP ports are the same) or the end;
// - scripts/phone.sh (a baresip that runs until stopped) counts as done when
//   its phone is registered, with PHONE_DIR in a fresh folder;
// - every other line runs to completion, with the lines of its block in one
//   bash (so `TOKEN=$(...)` carries over), and must exit 0 without printing
//   an API error.
// The one block not run is `bash scripts/test.sh`: it is the command that
// runs this test (CI runs it as .ci/run).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import { tempDir } from './lib/server.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const running = []; // { proc, port, what, out() }

function blocks() {
  const text = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l && !l.startsWith('#')));
}

const isServer = (l) => /(^|\s)(bash scripts\/demo\.sh|\.\/build\/release\/switchboard (serve|demo))(\s|$)/.test(l);
const isPhone = (l) => /^bash scripts\/phone\.sh /.test(l);

function portOf(line) {
  const m = line.match(/--http-port (\d+)/);
  return m ? Number(m[1]) : 8080;
}

function withFreshDataDir(line) {
  const dir = tempDir('sb-readme-data-');
  return /--data-dir \S+/.test(line) ? line.replace(/--data-dir \S+/, `--data-dir ${dir}`) : `${line} --data-dir ${dir}`;
}

function startBackground(line, env = {}) {
  const proc = spawn('bash', ['-c', line], { cwd: ROOT, detached: true, env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((r) => proc.on('exit', (code, sig) => r({ code, sig })));
  return { proc, exited, out: () => out };
}

async function stop(r) {
  try { process.kill(-r.proc.pid, 'SIGTERM'); } catch { /* gone */ }
  const done = await Promise.race([r.exited, sleep(10000).then(() => null)]);
  if (!done) try { process.kill(-r.proc.pid, 'SIGKILL'); } catch { /* gone */ }
}

async function stopAll() {
  for (const r of running.splice(0)) await stop(r);
}

function portFree(port) {
  return new Promise((ok) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); ok(false); });
    s.on('error', () => ok(true));
  });
}

async function until(what, fn, ms, out) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await fn()) return;
    await sleep(250);
  }
  throw new Error(`${what} not within ${ms / 1000} s:\n${out().slice(-4000)}`);
}

async function runServer(line) {
  const port = portOf(line);
  await stopAll(); // the README's server lines are alternatives: one site at a time
  assert.ok(await portFree(port), `port ${port} is taken by something else: the README's commands need it`);
  const r = startBackground(withFreshDataDir(line));
  running.push({ ...r, port, what: line });
  await until(`"${line}" answering on port ${port}`, async () => {
    if (r.proc.exitCode !== null) throw new Error(`"${line}" exited:\n${r.out().slice(-4000)}`);
    try { return (await fetch(`http://127.0.0.1:${port}/api/v1/health`)).ok; } catch { return false; }
  }, 240000, r.out);
}

async function runPhone(line) {
  const r = startBackground(line, { PHONE_DIR: tempDir('sb-readme-phone-') });
  running.push({ ...r, port: 0, what: line });
  await until(`"${line}" registered`, async () => {
    if (r.proc.exitCode !== null) throw new Error(`"${line}" exited:\n${r.out().slice(-4000)}`);
    return /200 OK/.test(r.out());
  }, 30000, r.out);
}

function runScript(lines) {
  const script = ['set -euo pipefail', ...lines].join('\n');
  return new Promise((ok) => {
    const p = spawn('bash', ['-c', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const t = setTimeout(() => { p.kill('SIGKILL'); }, 120000);
    p.on('exit', (code, sig) => { clearTimeout(t); ok({ code, sig, out }); });
  });
}

after(stopAll);

test('every command block of the README runs as written', { timeout: 900000 }, async () => {
  const all = blocks();
  assert.ok(all.length >= 5, `found ${all.length} command blocks`);
  let ran = 0;
  for (const lines of all) {
    if (lines.some((l) => /scripts\/test\.sh/.test(l))) continue; // the command that runs this test
    let batch = [];
    const flush = async () => {
      if (!batch.length) return;
      const r = await runScript(batch);
      assert.equal(r.code, 0, `README lines failed:\n${batch.join('\n')}\n---\n${r.out.slice(-4000)}`);
      assert.doesNotMatch(r.out, /"error":"/, `an API error from:\n${batch.join('\n')}\n---\n${r.out.slice(-2000)}`);
      batch = [];
    };
    for (const line of lines) {
      if (isServer(line)) { await flush(); await runServer(line); }
      else if (isPhone(line)) { await flush(); await runPhone(line); }
      else batch.push(line);
      ran++;
    }
    await flush();
  }
  assert.ok(ran >= 8, `ran ${ran} README lines`);
});
