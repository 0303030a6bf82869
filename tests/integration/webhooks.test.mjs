// Webhooks (issue 13, item 3; docs/WEBHOOKS.md): an administrator's webhook
// receives every presence and interaction event at least once, signed with
// HMAC-SHA256 over the body, from the durable outbox — through a receiver
// that answers 500 for a while, one that answers too late (timeouts), one
// that is down (a closed port) and comes back, and a `kill -9` of the server
// with deliveries pending. The receiver is a node HTTP server on loopback in
// this test. At the end nothing is lost: every presence change the store
// recorded and every interaction event the WebSocket stream announced (and
// the one crash recovery made) arrived, each delivery id with one body and
// valid signatures, first seen in commit order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { sipp } from './lib/peers.mjs';

const SECRET = 'wh-secret-for-the-test-0001';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, tok, rx, hookId, ws, createdAt;

// ---- the receiver ----
class Receiver {
  constructor(secret) {
    Object.assign(this, { secret, reqs: [], mode: 'ok', sockets: new Set() });
  }

  async start(port = 0) {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => { body += d; });
      req.on('end', () => this.handle(req, res, body));
    });
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise((ok, fail) => { this.server.once('error', fail); this.server.listen(port, '127.0.0.1', ok); });
    this.port = this.server.address().port;
    return this;
  }

  handle(req, res, body) {
    const h = req.headers;
    const mac = 'sha256=' + crypto.createHmac('sha256', this.secret).update(body).digest('hex');
    const r = { method: req.method, path: req.url, id: h['x-switchboard-id'], event: h['x-switchboard-event'],
      type: h['content-type'], signed: h['x-switchboard-signature'] === mac, body, mode: this.mode };
    try { r.json = JSON.parse(body); } catch { r.json = null; }
    this.reqs.push(r);
    res.on('error', () => {});
    if (this.mode === 'fail') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('down for maintenance');
    } else if (this.mode === 'hang') { // answers after the server's timeout
      setTimeout(() => { if (!res.destroyed) res.writeHead(200).end(); }, 1500);
    } else {
      r.ok = true;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }
  }

  async close() {
    for (const s of this.sockets) s.destroy();
    await new Promise((ok) => this.server.close(ok));
  }

  okIds() { return new Set(this.reqs.filter((r) => r.ok).map((r) => r.id)); }
}

// ---- helpers ----
const api = (method, path, body, who = 'admin') =>
  sb.api(method, path, body === undefined ? { token: tok[who] } : { token: tok[who], body });
const presence = async (who, status, reason) => {
  const r = await api('PUT', `/api/v1/agents/${who}/presence`, reason ? { status, reason } : { status }, who);
  assert.equal(r.status, 200, JSON.stringify(r.body));
};
const pending = () => Number(sb.sql('SELECT count(*) FROM webhook_outbox WHERE delivered_at IS NULL;'));
const outboxIds = () => sb.sql('SELECT id FROM webhook_outbox ORDER BY seq;').split('\n').filter(Boolean);
async function allDelivered(what) {
  await sb.until(what, async () => pending() === 0 && outboxIds().every((id) => rx.okIds().has(id)), 20000);
}
async function view(id = hookId) {
  const r = await api('GET', `/api/v1/webhooks/${id}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), [
    'calls:', '  greeting_ms: 300',
    'webhooks:', '  timeout_ms: 500', '  backoff_min_ms: 100', '  backoff_max_ms: 400', '',
  ].join('\n'));
  sb = await new Server({ args: ['--config', cfg] }).start();
  rx = await new Receiver(SECRET).start();
  tok = {};
  for (const u of ['admin', 'ned', 'mia']) tok[u] = await sb.login(u);
});
after(async () => {
  ws?.close();
  await rx.close().catch(() => {});
  await sb.stop();
});

test('admins create, read, change and delete webhooks; the secret is never shown; each change is audited', async () => {
  const base = { url: `http://127.0.0.1:${rx.port}/other`, secret: 'another-secret-16', events: ['ctr'] };
  assert.equal((await api('GET', '/api/v1/webhooks', undefined, 'mia')).status, 403);
  assert.equal((await api('POST', '/api/v1/webhooks', base, 'ned')).status, 403);
  let r = await api('POST', '/api/v1/webhooks', { ...base, url: 'ftp://127.0.0.1/x' });
  assert.equal(r.status, 400);
  assert.equal(r.body.message, "'url' is not an http(s) URL: it must start with http:// or https://");
  r = await api('POST', '/api/v1/webhooks', { ...base, events: ['calls'] });
  assert.equal(r.status, 400);
  assert.match(r.body.message, /unknown event type 'calls'/);
  r = await api('POST', '/api/v1/webhooks', { ...base, secret: 'short' });
  assert.equal(r.body.message, "'secret' must be at least 16 characters");
  r = await api('POST', '/api/v1/webhooks', base);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.id;
  assert.deepEqual({ ...r.body, created_at: 0, updated_at: 0 }, { id, url: base.url, events: ['ctr'], active: true,
    secret: { set: true }, created_at: 0, updated_at: 0 });
  assert.ok(!JSON.stringify(r.body).includes(base.secret));
  r = await api('PATCH', `/api/v1/webhooks/${id}`, { secret: 'a-brand-new-secret', active: false, events: ['ctr', 'presence'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual([r.body.active, r.body.events], [false, ['ctr', 'presence']]);
  const got = await view(id);
  assert.ok(!JSON.stringify(got).includes('a-brand-new-secret'));
  assert.deepEqual(got.delivery.pending, 0);
  assert.equal((await api('GET', '/api/v1/webhooks/abc')).status, 400);
  assert.equal((await api('PATCH', `/api/v1/webhooks/${id}`, {})).status, 400);
  assert.equal((await api('DELETE', `/api/v1/webhooks/${id}`)).status, 204);
  assert.equal((await api('GET', `/api/v1/webhooks/${id}`)).status, 404);
  assert.equal((await api('DELETE', `/api/v1/webhooks/${id}`)).status, 404);
  const audit = (await api('GET', '/api/v1/audit?action=webhook')).body.entries;
  assert.deepEqual(audit.map((e) => e.action), ['webhook.delete', 'webhook.update', 'webhook.create']);
  assert.deepEqual(audit[2].after, { url: base.url, events: 'ctr', active: true, secret: '(set)' });
  assert.deepEqual(audit[1].before, { events: 'ctr', active: true, secret: '(set)' });
  assert.deepEqual(audit[1].after, { events: 'ctr,presence', active: false, secret: '(changed)' });
  assert.ok(!JSON.stringify(audit).includes('a-brand-new-secret'));
  assert.equal(sb.sql('SELECT count(*) FROM webhooks;'), '0');
});

test('presence changes and a call are delivered, signed, with their type and delivery id', async () => {
  const r = await api('POST', '/api/v1/webhooks',
    { url: `http://127.0.0.1:${rx.port}/hook?src=sb`, secret: SECRET, events: ['presence', 'interaction'] });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  hookId = r.body.id;
  createdAt = Number(sb.sql(`SELECT created_at FROM webhooks WHERE id = ${hookId};`));
  ws = await sb.events(tok.mia); // every event from here on, as the stream tells it
  await presence('ned', 'Available');
  await presence('ned', 'Away', 'Coffee');
  // A caller waits in Support (nobody can take it: no phone) and hangs up.
  const call = await sipp(sb, 'caller.xml', { service: '5000', pauseMs: 1500 });
  assert.equal(call.code, 0, call.out);
  await ws.next((m) => m.type === 'interaction' && m.to === 'closed_abandoned', 10000);
  await allDelivered('the first deliveries');
  const first = rx.reqs[0];
  assert.equal(first.method, 'POST');
  assert.equal(first.path, '/hook?src=sb');
  assert.equal(first.type, 'application/json');
  for (const q of rx.reqs) {
    assert.ok(q.signed, `bad signature on ${q.id}`);
    assert.equal(q.id, `${q.json.id}-${hookId}`);
    assert.equal(q.event, q.json.type);
    assert.deepEqual(Object.keys(q.json), ['id', 'type', 'at', 'data']);
  }
  const ix = rx.reqs.filter((q) => q.event === 'interaction').map((q) => q.json.data);
  assert.ok(ix.some((d) => d.from === '' && d.to === 'new' && d.actor === 'system'), JSON.stringify(ix));
  assert.ok(ix.some((d) => d.to === 'closed_abandoned'), JSON.stringify(ix));
  const away = rx.reqs.find((q) => q.json.data.to === 'Away' && q.json.data.reason === 'Coffee');
  assert.deepEqual(away.json.data, { user_name: 'ned', from: 'Available', to: 'Away', reason: 'Coffee',
    interaction: null, actor: 'ned' });
  const v = await view();
  assert.equal(v.delivery.pending, 0);
  assert.equal(v.delivery.last_status, 200);
  assert.equal(v.delivery.last_error, null);
});

test('a receiver answering 500 for a while gets everything once it answers 200; retries carry the same id and body', async () => {
  const before = rx.reqs.length;
  rx.mode = 'fail';
  await presence('ned', 'Available');
  await presence('ned', 'Away', 'Meeting');
  await presence('ned', 'Available');
  await sb.until('three refused attempts', async () => rx.reqs.length - before >= 3);
  const v = await view();
  assert.ok(v.delivery.failures >= 1, JSON.stringify(v.delivery));
  assert.equal(v.delivery.last_status, 500);
  assert.equal(v.delivery.last_error, 'HTTP 500');
  assert.ok(v.delivery.pending >= 2, JSON.stringify(v.delivery));
  rx.mode = 'ok';
  await allDelivered('delivery after the 500s');
  const mine = rx.reqs.slice(before);
  const failed = mine.filter((q) => q.mode === 'fail');
  assert.ok(failed.length >= 3);
  // one webhook's deliveries go one at a time, in order: the refused one is retried first
  assert.ok(failed.every((q) => q.id === failed[0].id), 'only the first event was tried while refused');
  const retried = mine.find((q) => q.ok && q.id === failed[0].id);
  assert.equal(retried.body, failed[0].body);
  assert.ok(mine.every((q) => q.signed));
});

test('a receiver that answers too late is retried after the timeout; the duplicate has the same id', async () => {
  const before = rx.reqs.length;
  rx.mode = 'hang';
  await presence('ned', 'Away', 'Slow network');
  await sb.until('two timed-out attempts', async () => rx.reqs.length - before >= 2, 10000);
  const v = await view();
  assert.match(v.delivery.last_error, /[Tt]imeout|timed out/);
  rx.mode = 'ok';
  await allDelivered('delivery after the timeouts');
  const mine = rx.reqs.slice(before);
  assert.ok(mine.length >= 3);
  assert.ok(mine.every((q) => q.id === mine[0].id && q.body === mine[0].body));
});

test('a receiver that is down (closed port) and restarted gets everything that happened meanwhile', async () => {
  const port = rx.port;
  const before = rx.reqs.length;
  await rx.close();
  await presence('ned', 'Available');
  await presence('ned', 'Away', 'Receiver down');
  await sb.until('failed connections', async () => (await view()).delivery.failures >= 2);
  assert.match((await view()).delivery.last_error, /connect/i);
  assert.equal(rx.reqs.length, before);
  assert.ok(pending() >= 2);
  await rx.start(port);
  await allDelivered('delivery after the receiver came back');
  const mine = rx.reqs.slice(before).map((q) => q.json.data.reason);
  assert.deepEqual(mine, ['', 'Receiver down']);
});

test('kill -9 with deliveries pending and a caller waiting: after the restart everything arrives, recovery\'s event too', async () => {
  const port = rx.port;
  await rx.close();
  await presence('ned', 'Available');
  await presence('ned', 'Away', 'Before the crash');
  const call = sipp(sb, 'caller.xml', { service: '5000', pauseMs: 6000, timeoutS: 20 });
  await ws.next((m) => m.type === 'interaction' && m.to === 'new' && m.from === 'new', 10000); // queued
  await sb.until('pending deliveries', async () => pending() >= 4);
  const before = outboxIds();
  sb.proc.kill('SIGKILL');
  const { sig } = await sb.exited;
  assert.equal(sig, 'SIGKILL');
  sb.proc = null;
  sb.log = '';
  ws.close();
  await sb.start();
  await call; // its BYE reaches the restarted server, which no longer knows the call
  const closed = sb.sql("SELECT number FROM interactions WHERE close_reason = 'server_restart';");
  assert.ok(closed, 'recovery closed the waiting call');
  await sleep(300);
  assert.equal(rx.server.listening, false);
  await rx.start(port);
  await allDelivered('delivery after the restart');
  const ids = rx.okIds();
  for (const id of before) assert.ok(ids.has(id), `${id} pending at the kill was delivered`);
  const rec = rx.reqs.find((q) => q.event === 'interaction' && q.json.data.number === closed &&
    q.json.data.reason === 'server_restart');
  assert.ok(rec, 'the interaction recovery closed was delivered');
  assert.equal(rec.json.data.to, 'closed_abandoned');
});

test('nothing lost: every recorded change arrived, in commit order, once per id', async () => {
  // presence: every presence_history row since the webhook was created
  const hist = sb.sql(`SELECT u.user_name||'|'||h.from_state||'|'||h.to_state||'|'||h.reason||'|'||h.at
    FROM presence_history h JOIN users u ON u.id = h.user_id WHERE h.at >= ${createdAt} ORDER BY h.id;`)
    .split('\n').filter(Boolean);
  const okBodies = new Map(); // id -> body
  for (const q of rx.reqs) {
    assert.ok(q.signed, `bad signature on ${q.id}`);
    if (okBodies.has(q.id)) assert.equal(okBodies.get(q.id), q.body, `${q.id} came with two bodies`);
    okBodies.set(q.id, q.body);
  }
  const events = [...okBodies.values()].map((b) => JSON.parse(b));
  const gotPresence = events.filter((e) => e.type === 'presence')
    .map((e) => `${e.data.user_name}|${e.data.from}|${e.data.to}|${e.data.reason}|${Date.parse(e.at)}`);
  assert.deepEqual([...gotPresence].sort(), [...hist].sort());
  // interaction: what the stream announced before the kill, and recovery's
  const key = (d) => `${d.number}|${d.from}|${d.to}|${d.reason}`;
  const fromStream = ws.messages.filter((m) => m.type === 'interaction').map(key);
  const recovered = sb.sql("SELECT number FROM interactions WHERE close_reason = 'server_restart';")
    .split('\n').filter(Boolean).map((n) => `${n}|new|closed_abandoned|server_restart`);
  const gotIx = events.filter((e) => e.type === 'interaction').map((e) => key(e.data));
  assert.deepEqual([...gotIx].sort(), [...fromStream, ...recovered].sort());
  // the outbox holds exactly what arrived, all delivered; first seen in seq order
  const ids = outboxIds();
  assert.deepEqual([...ids].sort(), [...okBodies.keys()].sort());
  assert.equal(pending(), 0);
  const firstSeen = [...new Set(rx.reqs.map((q) => q.id))];
  assert.deepEqual(firstSeen, ids);
});

test('contact trace records: a webhook that takes "ctr" gets each final record, as GET …/ctr shows it', async () => {
  const rx2 = await new Receiver(SECRET).start();
  try {
    const r = await api('POST', '/api/v1/webhooks', { url: `http://127.0.0.1:${rx2.port}/ctr`, secret: SECRET, events: ['ctr'] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    // A caller waits in Support (nobody takes it) and hangs up: the contact ends, its record is final.
    const call = await sipp(sb, 'caller.xml', { service: '5000', pauseMs: 1500 });
    assert.equal(call.code, 0, call.out);
    await sb.until('the record delivered', async () => rx2.reqs.some((q) => q.ok && q.event === 'ctr'), 15000);
    const q = rx2.reqs.find((x) => x.ok && x.event === 'ctr');
    assert.ok(q.signed);
    assert.equal(rx2.reqs.filter((x) => x.event !== 'ctr').length, 0, 'only what it takes');
    const rec = q.json.data;
    assert.equal(rec.contact_id, `${rec.interaction}-1`);
    assert.equal(rec.disconnect_reason, 'customer');
    const stored = await api('GET', `/api/v1/interactions/${rec.interaction}/ctr`);
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    const seg = stored.body.segments[0];
    assert.deepEqual(rec, seg);
    await api('DELETE', `/api/v1/webhooks/${r.body.id}`);
  } finally {
    await rx2.close();
  }
});
