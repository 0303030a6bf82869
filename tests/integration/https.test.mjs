// HTTPS (docs/WEB.md "HTTPS"): with http.tls_cert and http.tls_key the server
// speaks TLS — sign-in, the API and the wss:// event stream — with a
// self-signed certificate made by openssl at test time and trusted as the CA;
// plain HTTP on that port is redirected to https://; bad certificate or key
// files are config errors naming file and line, before anything listens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { BIN, Server, tempDir, writeConfig } from './lib/server.mjs';

const run = (...args) => spawnSync(BIN, args, { encoding: 'utf8', timeout: 20000 });

// A self-signed certificate for 127.0.0.1 and its key (P-256: quick to make).
function selfSigned(dir, name) {
  const cert = join(dir, `${name}.crt`), key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  chmodSync(key, 0o600);
  return { cert, key };
}

const tlsConfig = (dir, cert, key) =>
  writeConfig(dir, `# HTTPS\nhttp:\n  tls_cert: ${cert}\n  tls_key: ${key}\n`);

test('over HTTPS: sign-in, an API call and the wss:// event stream; plain HTTP is redirected', async () => {
  const dir = tempDir('sb-tls-');
  const { cert, key } = selfSigned(dir, 'site');
  const sb = new Server({ args: ['--config', tlsConfig(dir, cert, key)], tls: { ca: readFileSync(cert) } });
  await sb.start(); // polls https://…/api/v1/health, trusting only this certificate
  try {
    assert.match(sb.log, new RegExp(`listening on https://127\\.0\\.0\\.1:${sb.port}`));
    const token = await sb.login('mia');
    const me = await sb.api('GET', '/api/v1/me', { token });
    assert.equal(me.status, 200);
    assert.equal(me.body.user_name, 'mia');
    const queues = await sb.api('GET', '/api/v1/queues', { token });
    assert.equal(queues.status, 200);
    assert.ok(queues.body.queues.length > 0);

    // The event stream over wss://: hello, then a presence change it causes.
    const ev = await sb.events(token);
    assert.equal(ev.ws.url.slice(0, 6), 'wss://');
    const ned = await sb.login('ned');
    const put = await sb.api('PUT', '/api/v1/agents/ned/presence', { token: ned, body: { status: 'Available' } });
    assert.equal(put.status, 200);
    await ev.next((m) => m.type === 'presence' && m.user_name === 'ned' && m.to === 'Available');
    ev.close();

    // Plain HTTP on the same port: 308 to the same path over https://; a
    // POST (a password) is not served either; a ws:// upgrade is refused.
    const plain = await fetch(`http://127.0.0.1:${sb.port}/agent/queue`, { redirect: 'manual' });
    assert.equal(plain.status, 308);
    assert.equal(plain.headers.get('location'), `https://127.0.0.1:${sb.port}/agent/queue`);
    const post = await fetch(`http://127.0.0.1:${sb.port}/api/v1/login`, { method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_name: 'mia', password: 'demo-pass' }) });
    assert.equal(post.status, 308);
    assert.equal(await post.text(), '');
    const odd = await fetch(`http://127.0.0.1:${sb.port}/a%0d%0aX-Evil:%201`, { redirect: 'manual', headers: { host: 'evil\u0000' } }).catch(() => null);
    if (odd) assert.equal(odd.headers.get('x-evil'), null);
    const plainWs = new WebSocket(`ws://127.0.0.1:${sb.port}/api/v1/events?access_token=${token}`);
    await new Promise((ok) => { plainWs.on('error', ok); plainWs.on('close', ok); plainWs.on('open', () => ok(assert.fail('ws:// opened'))); });

    // A browser offers h2 first; the server answers in HTTP/1.1 (its API
    // and WebSocket are HTTP/1.1: docs/WEB.md "HTTPS").
    const alpn = await new Promise((ok, fail) => {
      const s = tlsConnect({ host: '127.0.0.1', port: sb.port, ca: readFileSync(cert), ALPNProtocols: ['h2', 'http/1.1'] },
        () => { ok(s.alpnProtocol); s.end(); });
      s.on('error', fail);
    });
    assert.equal(alpn, 'http/1.1');

    // Without trusting the certificate, a client refuses it (it is not a CA-signed one).
    await assert.rejects(fetch(`${sb.url}/api/v1/health`), /fetch failed/);
  } finally {
    await sb.stop();
  }
});

test('bad TLS files are config errors naming file and line, before anything listens', () => {
  const dir = tempDir('sb-tls-');
  const site = selfSigned(dir, 'site');
  const other = selfSigned(dir, 'other');
  const lastLine = (r) => r.stderr.trim().split('\n').at(-1);
  const start = (f) => run('serve', '--config', f, '--data-dir', dir, '--http-port', '1');

  const missing = join(dir, 'nope.key');
  let f = tlsConfig(dir, site.cert, missing);
  let r = start(f);
  assert.equal(r.status, 2);
  assert.equal(lastLine(r), `${f}:4: 'http.tls_key': cannot read '${missing}': No such file or directory`);

  f = tlsConfig(dir, site.cert, other.key);
  r = start(f);
  assert.equal(r.status, 2);
  assert.equal(lastLine(r), `${f}:4: 'http.tls_key': '${other.key}' is not the private key of the certificate '${site.cert}' (line 3)`);

  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'hello\n');
  f = tlsConfig(dir, notPem, site.key);
  r = start(f);
  assert.equal(r.status, 2);
  assert.match(lastLine(r), new RegExp(`^${f.replace(/[.]/g, '\\.')}:3: 'http\\.tls_cert': '.*not\\.pem' holds no PEM certificate`));

  f = tlsConfig(dir, site.key, site.key); // the key given as the certificate
  r = start(f);
  assert.equal(r.status, 2);
  assert.match(lastLine(r), /:3: 'http\.tls_cert': .* holds no PEM certificate/);

  f = tlsConfig(dir, site.cert, notPem);
  r = start(f);
  assert.equal(r.status, 2);
  assert.match(lastLine(r), /:4: 'http\.tls_key': .* holds no PEM private key/);

  f = writeConfig(dir, `http:\n  port: 8443\n  tls_cert: ${site.cert}\n`);
  r = start(f);
  assert.equal(r.status, 2);
  assert.equal(lastLine(r), `${f}:3: 'http.tls_cert' needs 'http.tls_key' (the certificate's private key)`);
  f = writeConfig(dir, `http:\n  tls_key: ${site.key}\n`);
  r = start(f);
  assert.equal(r.status, 2);
  assert.equal(lastLine(r), `${f}:2: 'http.tls_key' needs 'http.tls_cert' (the certificate it belongs to)`);
  for (const x of [r]) assert.doesNotMatch(x.stderr, /AddressSanitizer|LeakSanitizer|runtime error/);
});
