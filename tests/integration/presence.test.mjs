// Agent presence (SPEC.md §4): requests, refusals, history and events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';

let sb, ned, beth, mia;
before(async () => {
  sb = await new Server().start();
  [ned, beth, mia] = [await sb.login('ned'), await sb.login('beth'), await sb.login('mia')];
});
after(async () => { await sb.stop(); });

const put = (who, token, body) => sb.api('PUT', `/api/v1/agents/${who}/presence`, { token, body });

test('signing in moves an agent from Offline to Away ("Signed in")', async () => {
  const r = await sb.api('GET', '/api/v1/agents/ned/presence', { token: ned });
  assert.equal(r.status, 200);
  assert.equal(r.body.presence, 'Away');
  assert.equal(r.body.away_reason, 'Signed in');
});

test('an agent goes Available and the change is stored and pushed', async () => {
  const evNed = await sb.events(ned);
  const evMia = await sb.events(mia);
  const r = await put('ned', ned, { status: 'Available' });
  assert.equal(r.status, 200);
  assert.equal(r.body.presence, 'Available');
  const e1 = await evNed.next((m) => m.type === 'presence' && m.to === 'Available');
  assert.equal(e1.user_name, 'ned');
  assert.equal(e1.from, 'Away');
  await evMia.next((m) => m.type === 'presence' && m.user_name === 'ned' && m.to === 'Available');
  const rows = sb.sql("SELECT from_state||'>'||to_state FROM presence_history h JOIN users u ON u.id=h.user_id WHERE u.user_name='ned' ORDER BY h.id;");
  assert.deepEqual(rows.split('\n'), ['Offline>Away', 'Away>Available']);
  const agents = await sb.api('GET', '/api/v1/agents', { token: beth });
  assert.equal(agents.body.agents.find((a) => a.user_name === 'ned').presence, 'Available');
  evNed.close(); evMia.close();
});

test('agents see their own events only; managers see all', async () => {
  const evNed = await sb.events(ned);
  const evMia = await sb.events(mia);
  assert.equal((await put('beth', beth, { status: 'Away', reason: 'Lunch' })).status, 200);
  const seen = await evMia.next((m) => m.type === 'presence' && m.user_name === 'beth');
  assert.equal(seen.reason, 'Lunch');
  assert.equal((await put('ned', ned, { status: 'Away', reason: 'Coaching' })).status, 200);
  await evNed.next((m) => m.type === 'presence' && m.to === 'Away');
  assert.ok(!evNed.messages.some((m) => m.user_name === 'beth'), 'ned must not see beth');
  evNed.close(); evMia.close();
});

test('Away needs a reason; system statuses cannot be asked for', async () => {
  const a = await put('ned', ned, { status: 'Away' });
  assert.equal(a.status, 400);
  assert.match(a.body.message, /reason/);
  const b = await put('ned', ned, { status: 'Busy' });
  assert.equal(b.status, 400);
  assert.match(b.body.message, /set by the system/);
  const c = await put('ned', ned, { status: 'Sleeping' });
  assert.equal(c.status, 400);
});

test('Clear contact outside AfterCallWork is an illegal transition (409)', async () => {
  const r = await sb.api('POST', '/api/v1/agents/ned/clear', { token: ned });
  assert.equal(r.status, 409);
  assert.equal(r.body.error, 'illegal_transition');
  assert.match(r.body.message, /AfterCallWork/);
});

test('asking for the current state changes nothing', async () => {
  await put('ned', ned, { status: 'Available' });
  const before = sb.sql('SELECT count(*) FROM presence_history;');
  const r = await put('ned', ned, { status: 'Available' });
  assert.equal(r.status, 200);
  assert.equal(sb.sql('SELECT count(*) FROM presence_history;'), before);
});

test('another agent may not change my presence; a manager may set Away or Offline only', async () => {
  const x = await put('ned', beth, { status: 'Away', reason: 'Prank' });
  assert.equal(x.status, 403);
  const m = await put('ned', mia, { status: 'Away', reason: 'Team meeting' });
  assert.equal(m.status, 200);
  assert.equal(m.body.away_reason, 'Team meeting');
  const avail = await put('ned', mia, { status: 'Available' });
  assert.equal(avail.status, 403);
  const hist = sb.sql("SELECT count(*) FROM presence_history WHERE reason='Team meeting';");
  assert.equal(hist, '1');
});

test('signing out moves the agent to Offline', async () => {
  const t = await sb.login('beth');
  await sb.api('POST', '/api/v1/logout', { token: t });
  await sb.api('POST', '/api/v1/logout', { token: beth });
  const r = await sb.api('GET', '/api/v1/agents/beth/presence', { token: mia });
  assert.equal(r.body.presence, 'Offline');
});
