// The web workspace's files (src/api/static.c): content types, index.html for
// the app's own routes, no directory listing, no way out of http.web_root
// (dot segments, encoded ones, symlinks, hidden files), and /api/ untouched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Server, tempDir, writeConfig } from './lib/server.mjs';

let sb, root, outside;
const INDEX = '<!doctype html><title>workspace</title>';

// A raw GET: fetch() would normalise "/../" before sending it.
function rawGet(port, path, method = 'GET') {
  return new Promise((ok, fail) => {
    const r = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body }));
    });
    r.on('error', fail);
    r.end();
  });
}

before(async () => {
  const dir = tempDir('sb-web-');
  root = join(dir, 'dist');
  mkdirSync(join(root, 'assets'), { recursive: true });
  mkdirSync(join(root, '.hidden'));
  writeFileSync(join(root, 'index.html'), INDEX);
  writeFileSync(join(root, 'assets', 'app-1a2b.js'), 'export const x = 1;\n');
  writeFileSync(join(root, 'assets', 'app-1a2b.css'), 'body{}\n');
  writeFileSync(join(root, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(root, '.hidden', 'x.txt'), 'hidden');
  writeFileSync(join(root, '.env'), 'SECRET=1');
  outside = join(dir, 'secret.txt');
  writeFileSync(outside, 'the secret');
  symlinkSync(outside, join(root, 'escape.txt'));
  symlinkSync(dir, join(root, 'up'));
  const cfg = writeConfig(dir, `http:\n  web_root: ${root}\n`);
  sb = await new Server({ args: ['--config', cfg] }).start();
});

after(async () => { await sb.stop(); });

test('files are served with their content types; hashed assets are cached, index.html is not', async () => {
  const cases = [
    ['/', 'text/html; charset=utf-8', INDEX],
    ['/index.html', 'text/html; charset=utf-8', INDEX],
    ['/assets/app-1a2b.js', 'text/javascript; charset=utf-8', 'export const x = 1;\n'],
    ['/assets/app-1a2b.css', 'text/css; charset=utf-8', 'body{}\n'],
    ['/logo.svg', 'image/svg+xml', null],
  ];
  for (const [path, type, body] of cases) {
    const r = await rawGet(sb.port, path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['content-type'], type, path);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    if (body !== null) assert.equal(r.body, body, path);
  }
  assert.match((await rawGet(sb.port, '/assets/app-1a2b.js')).headers['cache-control'], /immutable/);
  assert.equal((await rawGet(sb.port, '/')).headers['cache-control'], 'no-cache');
});

test("the app's own routes get index.html; missing assets are 404; folders are never listed", async () => {
  for (const path of ['/signin', '/records/case/CS0001001', '/users/john.doe', '/assets', '/assets/', '/up/']) {
    const r = await rawGet(sb.port, path);
    assert.equal(r.status, 200, path);
    assert.equal(r.body, INDEX, path);
  }
  for (const path of ['/assets/gone-123.js', '/favicon.ico', '/assets/nothing']) {
    const r = await rawGet(sb.port, path);
    assert.equal(r.status, 404, path);
    assert.equal(JSON.parse(r.body).error, 'not_found', path);
  }
});

test('no path leads out of the web root', async () => {
  const attempts = ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/%2E%2E/secret.txt',
    '/assets/..%2f..%2fsecret.txt', '/escape.txt', '/up/secret.txt', '/..', '/./index.html', '/.env',
    '/.hidden/x.txt', '/a\\..\\secret.txt', '/%5c..%5csecret.txt', '/%252e%252e/secret.txt',
    '//etc/passwd', '/etc/passwd'];
  for (const path of attempts) {
    const r = await rawGet(sb.port, path);
    assert.ok(!r.body.includes('the secret'), `${path} leaked the file`);
    assert.ok(r.status === 200 ? r.body === INDEX : r.status >= 400 && r.status < 500,
      `${path}: ${r.status} ${r.body.slice(0, 80)}`);
    if (r.status !== 200) assert.ok(JSON.parse(r.body).message, path);
  }
  // Malformed: a dot segment that reaches the handler, a backslash, a control character.
  assert.equal((await rawGet(sb.port, '/a%5cb')).status, 400);
  assert.equal((await rawGet(sb.port, '/a%01b')).status, 400);
  assert.equal((await rawGet(sb.port, `/${'a'.repeat(400)}`)).status, 414);
  // A dot segment libwebsockets folds away stays inside the root.
  assert.equal((await rawGet(sb.port, '/assets/%2e/app-1a2b.js')).body, 'export const x = 1;\n');
  // Still alive and serving.
  assert.equal((await rawGet(sb.port, '/')).status, 200);
});

test('HEAD answers like GET without the body (issue 10)', async () => {
  for (const path of ['/', '/assets/app-1a2b.js', '/api/v1/health']) {
    const get = await rawGet(sb.port, path);
    const head = await rawGet(sb.port, path, 'HEAD');
    assert.equal(head.status, get.status, path);
    assert.equal(head.headers['content-type'], get.headers['content-type'], path);
    assert.equal(head.headers['content-length'], String(Buffer.byteLength(get.body)), path);
    assert.equal(head.body, '', path);
  }
  const missing = await rawGet(sb.port, '/api/v1/me', 'HEAD');
  assert.equal(missing.status, 401);
  assert.equal(missing.body, '');
});

test('the HTTP port listens on 127.0.0.1 only unless configured (issue 10)', async () => {
  // 127.0.0.2 is this machine too, but not the address the server bound.
  const other = await rawGet(sb.port, '/api/v1/health').then(() => new Promise((ok) => {
    const r = request({ host: '127.0.0.2', port: sb.port, path: '/api/v1/health' }, () => ok('answered'));
    r.on('error', (e) => ok(e.code));
    r.end();
  }));
  assert.equal(other, 'ECONNREFUSED');
});

test('only GET is served; /api/ paths stay JSON routes', async () => {
  const post = await rawGet(sb.port, '/index.html', 'POST');
  assert.equal(post.status, 405);
  assert.equal(JSON.parse(post.body).error, 'method_not_allowed');
  const api = await rawGet(sb.port, '/api/v1/nothing');
  assert.equal(api.status, 404);
  assert.equal(JSON.parse(api.body).error, 'not_found');
  assert.equal((await rawGet(sb.port, '/api')).status, 404);
  assert.equal((await rawGet(sb.port, '/api/v1/health')).status, 200);
  assert.equal((await rawGet(sb.port, '/api/v1/me')).status, 401);
});

test('without a built workspace, pages answer 404 web_not_built and the API works', async () => {
  const dir = tempDir('sb-noweb-');
  const cfg = writeConfig(dir, `http:\n  web_root: ${join(dir, 'missing')}\n`);
  const bare = await new Server({ args: ['--config', cfg] }).start();
  try {
    const r = await rawGet(bare.port, '/');
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).error, 'web_not_built');
    assert.equal((await rawGet(bare.port, '/api/v1/health')).status, 200);
  } finally {
    await bare.stop();
  }
});
