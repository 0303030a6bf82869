// A browser phone's event socket that dies without a TCP close (a sleeping
// laptop, a dropped network) is unregistered by the server's WebSocket pings
// (src/api/ws.c "Liveness"; http.ws_idle, here 6 s instead of 30 so the
// test is short): a raw TCP client upgrades, registers Ned's browser, then
// stops reading and never answers a ping; Beth's socket (node's `ws`, which
// answers pings by itself) sends nothing after registering and stays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Server, tempDir, writeConfig } from './lib/server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, tok;

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'http:\n  ws_idle: 6\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
  tok = { admin: await sb.login('admin'), ned: await sb.login('ned'), beth: await sb.login('beth') };
});
after(async () => { await sb.stop(); });

// A client-to-server text frame (masked, RFC 6455 §5.3), payload < 126 bytes.
function frame(text) {
  const p = Buffer.from(text), mask = randomBytes(4);
  const out = Buffer.concat([Buffer.from([0x81, 0x80 | p.length]), mask, p]);
  for (let i = 0; i < p.length; i++) out[6 + i] ^= mask[i % 4];
  return out;
}

// Upgrades, registers a browser phone, and from then on reads nothing.
function deadPhone(token) {
  return new Promise((ok, fail) => {
    const s = connect(sb.port, '127.0.0.1');
    let got = Buffer.alloc(0), upgraded = false;
    s.on('connect', () => s.write(
      `GET /api/v1/events?access_token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (!upgraded && got.toString('latin1').startsWith('HTTP/1.1 101')) {
        upgraded = true;
        s.write(frame('{"type":"rtc.register","ref":"r"}'));
      }
      if (got.includes('"rtc.registered"')) {
        s.pause(); // nothing more is read: pings go unanswered
        clearTimeout(t);
        ok(s);
      }
    });
    s.on('error', fail);
    const t = setTimeout(() => fail(new Error(`no registration: ${got.toString('latin1').slice(0, 300)}`)), 10000);
  });
}

const registered = async (u) => (await sb.api('GET', `/api/v1/agents/${u}/presence`, { token: tok.admin })).body.registered;

test('a browser phone whose socket stops answering pings is unregistered after http.ws_idle; one that answers stays', async () => {
  const beth = await sb.events(tok.beth);
  beth.ws.send(JSON.stringify({ type: 'rtc.register' }));
  await beth.next((m) => m.type === 'rtc.registered');
  const tb = Date.now(), pings = [];
  beth.ws.on('ping', () => pings.push(Date.now() - tb));

  const dead = await deadPhone(tok.ned);
  const t0 = Date.now();
  assert.equal(await registered('ned'), true);
  await sb.until('Ned unregistered', async () => !(await registered('ned')), 15000);
  const after = (Date.now() - t0) / 1000;
  assert.ok(after >= 5 && after <= 12, `unregistered after ${after} s (ws_idle 6, pings every 2 s)`);
  assert.match(sb.log, /user=ned action=event stream closed: a browser phone's socket silent for \d+ ms \(no pong\)/);
  // Beth's socket said nothing since, but answered the pings: still her
  // phone at twice http.ws_idle
  await sleep(Math.max(0, tb + 13000 - Date.now()));
  assert.ok(pings.length >= 4, `Beth's socket was pinged at ${pings} ms`);
  assert.equal(await registered('beth'), true);
  assert.equal(beth.ws.readyState, 1);
  assert.doesNotMatch(sb.log, /user=beth action=event stream closed/);
  dead.destroy();
  beth.close();
  await sb.until('Beth unregistered on close', async () => !(await registered('beth')));
});
