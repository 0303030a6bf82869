// The switchboard program itself: commands, config errors, first start,
// clean shutdown with requests in flight, persistence across restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, Server, tempDir, writeConfig } from './lib/server.mjs';

const run = (...args) => spawnSync(BIN, args, { encoding: 'utf8', timeout: 20000 });

test('usage errors exit 2 with a message', () => {
  const none = run();
  assert.equal(none.status, 2);
  assert.match(none.stderr, /usage: switchboard serve\|demo/);
  const bad = run('fly');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown command 'fly'/);
  const opt = run('serve', '--colour', 'blue');
  assert.equal(opt.status, 2);
  assert.match(opt.stderr, /unknown option '--colour'/);
  const port = run('serve', '--http-port', '99999');
  assert.equal(port.status, 2);
  assert.match(port.stderr, /--http-port must be 1\.\.65535/);
  assert.match(run('version').stdout, /^switchboard \d+\.\d+\.\d+/);
});

test('a config error names file and line', () => {
  const dir = tempDir('sb-cfg-');
  const f = writeConfig(dir, 'http:\n  port: 8080\n  prot: 9\n');
  const r = run('serve', '--config', f, '--data-dir', dir);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').at(-1), `${f}:3: unknown key 'prot' in section 'http' (expected: address, port, max_body, web_root, tls_cert, tls_key, ws_idle)`);
  const g = writeConfig(dir, 'http:\n  port: "8080\n');
  const r2 = run('serve', '--config', g, '--data-dir', dir);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, new RegExp(`${g.replace(/[.]/g, '\\.')}:\\d+: YAML syntax error`));
  const missing = run('serve', '--config', join(dir, 'nope.yaml'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope\.yaml: cannot read/);
});

test('the config file sets the port and data dir; flags override it', async () => {
  const dir = tempDir('sb-cfg-');
  const f = writeConfig(dir, `data_dir: ${join(dir, 'from-file')}\nhttp:\n  address: 127.0.0.1\n  port: 1\n`);
  const sb = new Server({ mode: 'demo', dataDir: join(dir, 'from-flag'), args: ['--config', f] });
  await sb.start(); // --http-port and --data-dir come after --config in Server.start
  assert.ok(existsSync(join(dir, 'from-flag', 'switchboard.db')));
  assert.ok(!existsSync(join(dir, 'from-file')));
  await sb.stop();
});

test('serve on an empty store creates one admin with the given password', async () => {
  const sb = new Server({ mode: 'serve', env: { SWITCHBOARD_ADMIN_PASSWORD: 'first-admin-pw' } });
  await sb.start();
  const t = await sb.login('admin', 'first-admin-pw');
  const users = await sb.api('GET', '/api/v1/users', { token: t });
  assert.deepEqual(users.body.users.map((u) => u.user_name), ['admin']);
  const q = await sb.api('GET', '/api/v1/queues', { token: t });
  assert.deepEqual(q.body.queues, []);
  await sb.stop();
  const random = new Server({ mode: 'serve' });
  await random.start();
  assert.match(random.log, /created user 'admin' with password '[0-9a-f]{24}'/);
  await random.stop();
});

test('SIGTERM lets requests in flight finish, then exits 0', async () => {
  const sb = await new Server().start();
  // A sign-in takes ~0.1 s of argon2id on the worker pool: stop in the middle of a burst.
  const logins = Array.from({ length: 6 }, () =>
    sb.api('POST', '/api/v1/login', { body: { user_name: 'ned', password: 'demo-pass' } }));
  await new Promise((r) => setTimeout(r, 30));
  sb.proc.kill('SIGTERM');
  const results = await Promise.allSettled(logins);
  const ok = results.filter((r) => r.status === 'fulfilled' && r.value.status === 200);
  assert.ok(ok.length >= 1, 'at least the requests already accepted are answered');
  const { code } = await sb.exited;
  assert.equal(code, 0);
  assert.match(sb.log, /finishing in-flight requests/);
  assert.match(sb.log, /stopped/);
  sb.proc = null;
  // Every session the server answered with is stored.
  const stored = Number(sb.sql('SELECT count(*) FROM sessions;'));
  assert.ok(stored >= ok.length, `${stored} sessions stored, ${ok.length} answered`);
});

test('a kill -9 loses no committed change', async () => {
  const sb = await new Server().start();
  const ned = await sb.login('ned');
  for (let i = 0; i < 20; i++) {
    const body = i % 2 ? { status: 'Available' } : { status: 'Away', reason: `Break ${i}` };
    assert.equal((await sb.api('PUT', '/api/v1/agents/ned/presence', { token: ned, body })).status, 200);
  }
  sb.proc.kill('SIGKILL');
  await sb.exited;
  sb.proc = null;
  const rows = Number(sb.sql("SELECT count(*) FROM presence_history h JOIN users u ON u.id=h.user_id WHERE u.user_name='ned';"));
  assert.equal(rows, 21); // Offline→Away at sign-in, then 20 answered changes
  sb.log = '';
  await sb.start();
  const p = await sb.api('GET', '/api/v1/agents/ned/presence', { token: ned });
  assert.equal(p.body.presence, 'Available', 'the signed-in agent keeps the last committed presence');
  await sb.stop();
});
