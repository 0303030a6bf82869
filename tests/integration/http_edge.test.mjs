// The HTTP edge under attack (issue 17, src/api/edge.c): request smuggling
// (CL.TE, TE.CL, an invalid Content-Length, bodies on GET), framing errors,
// bad bytes and NULs in the path, h2c, and what libwebsockets cannot parse.
// Each case goes over a raw socket; the test reads everything the server
// sends until it closes and checks that exactly one reply came, that it is
// JSON with an error and a reason, and that the bytes after the headers were
// never answered as a second request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Server } from './lib/server.mjs';

let sb, admin;
before(async () => {
  sb = await new Server().start();
  admin = await sb.login('admin');
});
after(async () => { await sb.stop(); });

// Sends `raw` (latin1) and collects the replies until the server closes
// (or 3 s): [{ status, headers, body }].
function exchange(raw) {
  return new Promise((ok) => {
    const chunks = [];
    const s = net.connect(sb.port, '127.0.0.1', () => s.write(Buffer.from(raw, 'latin1')));
    const done = (closed) => { s.destroy(); ok({ replies: parse(Buffer.concat(chunks).toString('latin1')), closed }); };
    const t = setTimeout(() => done(false), 3000);
    s.on('data', (d) => chunks.push(d));
    s.on('close', () => { clearTimeout(t); done(true); });
    s.on('error', () => {});
  });
}

function parse(text) {
  const out = [];
  let rest = text;
  while (rest.startsWith('HTTP/')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [line, ...hs] = rest.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(hs.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
    const len = Number(headers['content-length'] || 0);
    const body = rest.slice(end + 4, end + 4 + len);
    out.push({ status: Number(line.split(' ')[1]), headers, body });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

function assertOneJsonError({ replies, closed }, status, code, re) {
  assert.equal(replies.length, 1, `exactly one reply: ${JSON.stringify(replies)}`);
  const [r] = replies;
  assert.equal(r.status, status, r.body);
  assert.match(r.headers['content-type'], /application\/json/);
  const b = JSON.parse(r.body);
  assert.equal(b.error, code);
  assert.equal(typeof b.message, 'string');
  if (re) assert.match(b.message, re);
  assert.equal(closed, true, 'the connection is closed after a refusal');
}

// What a smuggler hides after the headers: a second request for a static
// file and one for the health route. Neither may be answered.
const SMUGGLED = 'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n';

test('CL.TE and TE.CL: both framing headers are refused, nothing after them is answered', async () => {
  const body = `0\r\n\r\n${SMUGGLED}`;
  assertOneJsonError(await exchange(`POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n${body}`),
    400, 'bad_framing', /both Content-Length and Transfer-Encoding/);
  assertOneJsonError(await exchange(`POST /api/v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
    400, 'bad_framing', /both/);
  assertOneJsonError(await exchange(`POST /api/v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}`),
    400, 'bad_framing', /Transfer-Encoding is not accepted/);
});

test('an invalid Content-Length is 400 and its body never becomes a request', async () => {
  // (An empty value is no length: lws keeps no empty header, so the request
  // has no body, and the next bytes are framed the same way by anyone.)
  for (const cl of ['0x2', '+5', '-1', '5 5', '1e3', '2,2']) {
    assertOneJsonError(await exchange(`POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: ${cl}\r\n\r\n${SMUGGLED}`),
      400, 'bad_framing', /Content-Length must be one decimal number/);
  }
});

test('a GET with a body (chunked or by length) is refused, not parsed as a second request', async () => {
  const chunked = `${(SMUGGLED.length).toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`;
  assertOneJsonError(await exchange(`GET /api/v1/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`),
    400, 'bad_framing');
  assertOneJsonError(await exchange(`GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`),
    400, 'bad_framing', /takes no request body/);
  // A zero length on a GET is harmless and keeps the connection.
  const ok = await exchange('GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.deepEqual(ok.replies.map((r) => r.status), [200, 200]);
});

test('a valid body with keep-alive still carries the next request', async () => {
  const body = JSON.stringify({ user_name: 'ned', password: 'demo-pass' });
  const r = await exchange(`POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`
    + 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.deepEqual(r.replies.map((x) => x.status), [200, 200]);
  assert.ok(JSON.parse(r.replies[0].body).token);
});

test('malformed request lines and headers get a JSON error, not an HTML page', async () => {
  for (const raw of [`${'A'.repeat(40)} /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n`,
    'GET /api/v1/%zz HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /api/v1/%g1 HTTP/1.1\r\nHost: x\r\n\r\n']) {
    const { replies, closed } = await exchange(raw);
    assert.equal(replies.length, 1, raw);
    assert.equal(replies[0].status, 400, raw);
    assert.match(replies[0].headers['content-type'], /application\/json/, raw);
    assert.doesNotMatch(replies[0].body, /<html/i);
    assert.equal(JSON.parse(replies[0].body).error.length > 0, true);
    assert.equal(closed, true);
  }
  // A decoded NUL inside a path segment: libwebsockets itself drops the
  // connection without a reply, which is allowed (no reply, no HTML).
  const nul = await exchange('GET /api/v1/x%00y HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(nul.replies.length, 0);
  assert.equal(nul.closed, true);
});

test('bytes >= 0x80, control bytes and NULs in the path are 400 invalid_path', async () => {
  const auth = `Authorization: Bearer ${admin}\r\n`;
  assertOneJsonError(await exchange(`GET /api/v1/users/%ff%fe HTTP/1.1\r\nHost: x\r\n${auth}\r\n`), 400, 'invalid_path', /UTF-8/);
  assertOneJsonError(await exchange(`GET /api/v1/users/\xff\xfe HTTP/1.1\r\nHost: x\r\n${auth}\r\n`), 400, 'invalid_path', /UTF-8/);
  assertOneJsonError(await exchange(`GET /api/v1/us\x01ers HTTP/1.1\r\nHost: x\r\n${auth}\r\n`), 400, 'invalid_path', /control/);
  assertOneJsonError(await exchange(`GET /api/v1/users/%00/roles HTTP/1.1\r\nHost: x\r\n${auth}\r\n`), 400, 'invalid_path', /NUL/);
  // A NUL at the very end is not counted by libwebsockets: the path reads
  // "/api/v1/users/", which is no route (never the user list).
  const end = await exchange(`GET /api/v1/users/%00 HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`);
  assert.equal(end.replies.length, 1);
  assert.equal(end.replies[0].status, 404);
  assert.equal(JSON.parse(end.replies[0].body).error, 'not_found');
  assert.doesNotMatch(end.replies[0].body, /user_name/);
  // Valid UTF-8 in a path is fine: an unknown user, a JSON 404 with the name.
  const utf = await sb.api('GET', '/api/v1/users/%C3%A9mile', { token: admin });
  assert.equal(utf.status, 404);
  assert.match(utf.body.message, /émile|not found|no user/i);
});

test('an h2c upgrade on an API route is refused in JSON, never 101', async () => {
  const r = await exchange('GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n');
  assertOneJsonError(r, 400, 'upgrade_refused', /WebSocket/);
  const other = await exchange('GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: irc/6.9\r\n\r\n');
  assert.equal(other.replies.length, 1);
  assert.equal(other.replies[0].status, 400);
  assert.match(other.replies[0].headers['content-type'], /application\/json/);
  const h = await sb.api('GET', '/api/v1/health');
  assert.equal(h.status, 200);
});
