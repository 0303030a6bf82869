// SPEC.md §10: every kind of bad input gets a 4xx with a JSON body naming the
// problem; the server keeps running and writes nothing half-done.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Server } from './lib/server.mjs';

let sb, admin, ned;
before(async () => {
  sb = await new Server().start();
  admin = await sb.login('admin');
  ned = await sb.login('ned');
});
after(async () => { await sb.stop(); });

function assertError(r, status, code, re) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(typeof r.body.error, 'string');
  assert.equal(typeof r.body.message, 'string');
  if (code) assert.equal(r.body.error, code);
  if (re) assert.match(r.body.message, re);
}

const presence = (opts) => sb.api('PUT', '/api/v1/agents/ned/presence', { token: ned, ...opts });

test('malformed JSON names line and column', async () => {
  assertError(await presence({ raw: '{"status": "Available",' }), 400, 'invalid_body', /invalid JSON at line 1, column \d+/);
  assertError(await presence({ raw: '[1,2]' }), 400, 'invalid_body', /JSON object/);
  assertError(await presence({ raw: '"Available"' }), 400, 'invalid_body');
  assertError(await sb.api('POST', '/api/v1/login', { raw: '' }), 400, 'invalid_body', /empty/);
  assertError(await presence({ raw: '{"status":"Available","status":"Away"}' }), 400, 'invalid_body', /duplicate/i);
});

test('wrong types and unknown fields are refused', async () => {
  assertError(await presence({ body: { status: 1 } }), 400, 'invalid_body', /'status' must be a string/);
  assertError(await presence({ body: { status: 'Available', mood: 'happy' } }), 400, 'invalid_body', /unknown field 'mood'/);
  assertError(await sb.api('POST', '/api/v1/login', { body: { user_name: 'ned' } }), 400, 'invalid_body', /'password' is required/);
  assertError(await sb.api('POST', '/api/v1/users', { token: admin, body: { user_name: 'q', name: 'Q', password: 'password1', roles: 'admin' } }), 400, 'invalid_body', /roles/);
  assertError(await sb.api('POST', '/api/v1/users', { token: admin, body: { user_name: 'q', name: 'Q', password: 'password1', roles: ['king'] } }), 400, 'invalid_body', /unknown role 'king'/);
  assertError(await sb.api('POST', '/api/v1/users', { token: admin, body: { user_name: 'Bad Name!', name: 'Q', password: 'password1' } }), 400, 'invalid_body', /user_name/);
  assertError(await sb.api('POST', '/api/v1/users', { token: admin, body: { user_name: 'q', name: 'Q', password: 'short' } }), 400, 'invalid_body', /8 characters/);
  assertError(await sb.api('POST', '/api/v1/users', { token: admin, body: { user_name: 'q', name: 'Q', password: 'password1', mobile_phone: 'call me' } }), 400, 'invalid_body', /phone/);
  assertError(await sb.api('PATCH', '/api/v1/users/ned', { token: admin, body: { user_name: 'ned2' } }), 400, 'invalid_body', /cannot be changed/);
});

test('a refused create writes nothing', async () => {
  const before = sb.sql('SELECT count(*) FROM users;') + '/' + sb.sql('SELECT count(*) FROM user_roles;');
  await sb.api('POST', '/api/v1/users', { token: admin, body: { user_name: 'half', name: 'H', password: 'password1', roles: ['admin', 'nope'] } });
  await sb.api('POST', '/api/v1/users', { token: admin, body: { user_name: 'ned', name: 'Dup', password: 'password1' } });
  const after = sb.sql('SELECT count(*) FROM users;') + '/' + sb.sql('SELECT count(*) FROM user_roles;');
  assert.equal(after, before);
  assert.equal(sb.sql("SELECT count(*) FROM users WHERE user_name='half';"), '0');
});

test('oversized bodies get 413 before they are read', async () => {
  const big = JSON.stringify({ status: 'Away', reason: 'x'.repeat(70000) });
  assertError(await presence({ raw: big }), 413, 'body_too_large', /larger than 65536 bytes/);
  const ok = await sb.api('GET', '/api/v1/health');
  assert.equal(ok.status, 200);
});

test('unknown routes, methods and query parameters', async () => {
  assertError(await sb.api('GET', '/api/v1/nothing', { token: ned }), 404, 'not_found');
  assertError(await sb.api('GET', '/api', {}), 404, 'not_found'); // '/' is the web workspace (static.test.mjs)
  assertError(await sb.api('GET', '/api/', {}), 404, 'not_found');
  assertError(await sb.api('DELETE', '/api/v1/queues', { token: ned }), 405, 'method_not_allowed');
  assertError(await sb.api('GET', '/api/v1/queues?x=1', { token: ned }), 400, 'unknown_parameter', /'x'/);
  assertError(await sb.api('GET', '/api/v1/interactions?limit=0', { token: ned }), 400, 'invalid_parameter', /limit/);
  assertError(await sb.api('GET', '/api/v1/interactions?limit=abc', { token: ned }), 400, 'invalid_parameter');
  assertError(await sb.api('GET', '/api/v1/interactions?state=open', { token: ned }), 400, 'invalid_parameter', /state/);
  assertError(await sb.api('GET', '/api/v1/interactions?from=yesterday', { token: ned }), 400, 'invalid_parameter', /from/);
  assertError(await sb.api('GET', '/api/v1/interactions?agent=ghost', { token: admin }), 400, 'invalid_parameter', /agent/);
  assertError(await sb.api('GET', '/api/v1/interactions?queue=Nope', { token: admin }), 400, 'invalid_parameter', /queue/);
  assertError(await sb.api('GET', '/api/v1/agents/ghost/presence', { token: admin }), 404, 'not_found');
  assertError(await sb.api('PUT', '/api/v1/users/ned/roles/king', { token: admin }), 404, 'not_found', /role/);
});

test('garbage on the socket does not hurt the server', async () => {
  const junk = ['GARBAGE\r\n\r\n', 'GET /api/v1/health HTTP/9.9\r\n\r\n', '\x00\x01\x02\xff'.repeat(100),
    'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
    'GET /' + 'a'.repeat(10000) + ' HTTP/1.1\r\n\r\n',
    'GET /api/v1/me HTTP/1.1\r\nAuthorization: Bearer ' + 'z'.repeat(5000) + '\r\n\r\n'];
  for (const j of junk) {
    await new Promise((ok) => {
      const s = net.connect(sb.port, '127.0.0.1', () => s.end(j));
      s.on('data', () => {}); s.on('close', ok); s.on('error', ok);
      setTimeout(() => { s.destroy(); ok(); }, 2000);
    });
  }
  const r = await sb.api('GET', '/api/v1/health');
  assert.equal(r.status, 200);
});

test('a WebSocket without a valid token is refused', async () => {
  const { default: WebSocket } = await import('ws');
  for (const url of [`ws://127.0.0.1:${sb.port}/api/v1/events`, `ws://127.0.0.1:${sb.port}/api/v1/events?access_token=bad`,
    `ws://127.0.0.1:${sb.port}/api/v1/other?access_token=${ned}`]) {
    const ws = new WebSocket(url);
    const outcome = await new Promise((ok) => {
      ws.on('open', () => ok('open')); ws.on('error', () => ok('refused'));
      ws.on('unexpected-response', (_q, res) => ok(`http ${res.statusCode}`));
    });
    assert.notEqual(outcome, 'open', url);
    ws.terminate();
  }
  const ev = await sb.events(ned);
  ev.ws.send('not json');
  const e = await ev.next((m) => m.type === 'error');
  assert.match(e.message, /server-to-client/);
  ev.ws.send('{"type":"ping"}');
  await ev.next((m) => m.type === 'pong');
  ev.close();
});
