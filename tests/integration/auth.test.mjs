// Sign-in, tokens and sign-out against the real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';

let sb;
before(async () => { sb = await new Server().start(); });
after(async () => { await sb.stop(); });

test('health answers without a token', async () => {
  const r = await sb.api('GET', '/api/v1/health');
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'ok');
  assert.equal(r.body.store, 'sqlite');
});

test('sign-in returns a random bearer token and the user with roles', async () => {
  const a = await sb.api('POST', '/api/v1/login', { body: { user_name: 'ned', password: 'demo-pass' } });
  const b = await sb.api('POST', '/api/v1/login', { body: { user_name: 'ned', password: 'demo-pass' } });
  assert.equal(a.status, 200);
  assert.match(a.body.token, /^[0-9a-f]{64}$/);
  assert.notEqual(a.body.token, b.body.token);
  assert.equal(a.body.token_type, 'Bearer');
  assert.equal(a.body.user.user_name, 'ned');
  assert.ok(a.body.user.roles.includes('awa_agent'));
  assert.equal(a.body.user.can_handle_calls, true);
  assert.ok(!('password_hash' in a.body.user));
});

test('wrong password and unknown user get the same 401', async () => {
  const a = await sb.api('POST', '/api/v1/login', { body: { user_name: 'ned', password: 'nope-nope' } });
  const b = await sb.api('POST', '/api/v1/login', { body: { user_name: 'nobody', password: 'nope-nope' } });
  assert.equal(a.status, 401);
  assert.equal(b.status, 401);
  assert.deepEqual(a.body, b.body);
  assert.equal(a.body.error, 'bad_credentials');
});

test('a missing token and a bad token are told apart', async () => {
  const none = await sb.api('GET', '/api/v1/me');
  assert.equal(none.status, 401);
  assert.equal(none.body.error, 'no_token');
  const bad = await sb.api('GET', '/api/v1/me', { token: 'f'.repeat(64) });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.error, 'bad_token');
  const basic = await sb.api('GET', '/api/v1/me', { headers: { authorization: 'Basic bmVkOng=' } });
  assert.equal(basic.status, 401);
});

test('sign-out ends the session', async () => {
  const t = await sb.login('beth');
  assert.equal((await sb.api('GET', '/api/v1/me', { token: t })).status, 200);
  const out = await sb.api('POST', '/api/v1/logout', { token: t });
  assert.equal(out.status, 200);
  const again = await sb.api('GET', '/api/v1/me', { token: t });
  assert.equal(again.status, 401);
});

test('passwords are stored as argon2id hashes, tokens only as hashes', async () => {
  const t = await sb.login('mia');
  const hashes = sb.sql("SELECT password_hash FROM users WHERE user_name='mia';");
  assert.match(hashes, /^\$argon2id\$/);
  const sessions = sb.sql('SELECT token_hash FROM sessions;');
  assert.ok(!sessions.includes(t), 'the raw token must not be stored');
});

test('sessions survive a restart', async () => {
  const t = await sb.login('mia');
  await sb.restart();
  const r = await sb.api('GET', '/api/v1/me', { token: t });
  assert.equal(r.status, 200);
  assert.equal(r.body.user_name, 'mia');
});
