// Roles (SPEC.md §5): who may take calls, granted and revoked at run time by an admin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';

let sb, admin, carl, amy, beth, ned;
before(async () => {
  sb = await new Server().start();
  [admin, carl, amy, beth, ned] = await Promise.all(
    ['admin', 'carl', 'amy', 'beth', 'ned'].map((u) => sb.login(u)));
});
after(async () => { await sb.stop(); });

const avail = (who, token) =>
  sb.api('PUT', `/api/v1/agents/${who}/presence`, { token, body: { status: 'Available' } });

test('an agent with only awa_agent is refused Available (403, names the pairs)', async () => {
  const r = await avail('carl', carl);
  assert.equal(r.status, 403);
  assert.equal(r.body.error, 'missing_roles');
  assert.match(r.body.message, /sn_openframe\.user \+ interaction_agent/);
  assert.match(r.body.message, /awa_agent \+ awa_integration_user/);
  const p = await sb.api('GET', '/api/v1/agents/carl/presence', { token: carl });
  assert.equal(p.body.presence, 'Away');
  assert.equal(p.body.can_handle_calls, false);
});

test('a user with no agent role cannot have a presence', async () => {
  const r = await avail('amy', amy);
  assert.equal(r.status, 403);
  assert.equal(r.body.error, 'not_an_agent');
  const list = await sb.api('GET', '/api/v1/interactions', { token: amy });
  assert.equal(list.status, 403);
});

test('the openframe pair alone qualifies', async () => {
  assert.equal((await avail('beth', beth)).status, 200);
});

test('an admin grants the missing role at run time, then revokes it', async () => {
  const g = await sb.api('PUT', '/api/v1/users/carl/roles/awa_integration_user', { token: admin });
  assert.equal(g.status, 200);
  assert.ok(g.body.roles.includes('awa_integration_user'));
  assert.equal(g.body.can_handle_calls, true);
  assert.equal((await avail('carl', carl)).status, 200);
  assert.equal(sb.sql("SELECT count(*) FROM user_roles r JOIN users u ON u.id=r.user_id WHERE u.user_name='carl';"), '2');
  const d = await sb.api('DELETE', '/api/v1/users/carl/roles/awa_integration_user', { token: admin });
  assert.equal(d.status, 200);
  assert.equal(d.body.can_handle_calls, false);
  await sb.api('PUT', '/api/v1/agents/carl/presence', { token: carl, body: { status: 'Away', reason: 'Training' } });
  assert.equal((await avail('carl', carl)).status, 403);
});

test('role changes are pushed to managers and to the user', async () => {
  const mia = await sb.login('mia');
  const ev = await sb.events(mia);
  const evCarl = await sb.events(carl);
  await sb.api('PUT', '/api/v1/users/carl/roles/interaction_agent', { token: admin });
  const e = await ev.next((m) => m.type === 'roles' && m.user_name === 'carl');
  assert.equal(e.change, 'granted');
  assert.equal(e.role, 'interaction_agent');
  await evCarl.next((m) => m.type === 'roles' && m.role === 'interaction_agent');
  ev.close(); evCarl.close();
});

test('only admins manage users and roles', async () => {
  assert.equal((await sb.api('GET', '/api/v1/users', { token: ned })).status, 403);
  const g = await sb.api('PUT', '/api/v1/users/ned/roles/admin', { token: ned });
  assert.equal(g.status, 403);
  assert.match(g.body.message, /admin/);
  const c = await sb.api('POST', '/api/v1/users', { token: beth, body: { user_name: 'x', name: 'X', password: 'password1' } });
  assert.equal(c.status, 403);
  assert.equal((await sb.api('GET', '/api/v1/users/ned', { token: beth })).status, 403);
  assert.equal((await sb.api('GET', '/api/v1/users/beth', { token: beth })).status, 200);
});

test('an admin creates an agent who can sign in and take calls', async () => {
  const c = await sb.api('POST', '/api/v1/users', { token: admin, body: {
    user_name: 'zoe', name: 'Zoe Agent', password: 'zoe-secret-1', mobile_phone: '+44 20 7946 0000',
    roles: ['awa_agent', 'awa_integration_user'] } });
  assert.equal(c.status, 201);
  assert.equal(c.body.can_handle_calls, true);
  const zoe = await sb.login('zoe', 'zoe-secret-1');
  assert.equal((await avail('zoe', zoe)).status, 200);
  const dup = await sb.api('POST', '/api/v1/users', { token: admin, body: { user_name: 'zoe', name: 'Z', password: 'password1' } });
  assert.equal(dup.status, 409);
  const off = await sb.api('PATCH', '/api/v1/users/zoe', { token: admin, body: { active: false } });
  assert.equal(off.status, 200);
  assert.equal((await sb.api('GET', '/api/v1/me', { token: zoe })).status, 401, 'a deactivated user loses access');
  const bad = await sb.api('POST', '/api/v1/login', { body: { user_name: 'zoe', password: 'zoe-secret-1' } });
  assert.equal(bad.status, 401);
});

test('with AWA disabled the awa pair no longer qualifies', async () => {
  const s2 = new Server({ args: ['--config', await cfg('routing:\n  awa_enabled: false\n')] });
  await s2.start();
  try {
    const t = await s2.login('ned'); // holds both pairs
    const b = await s2.login('beth'); // openframe pair
    assert.equal((await s2.api('PUT', '/api/v1/agents/beth/presence', { token: b, body: { status: 'Available' } })).status, 200);
    const roles = await s2.api('GET', '/api/v1/roles', { token: t });
    assert.equal(roles.body.awa_enabled, false);
    await s2.api('DELETE', '/api/v1/users/ned/roles/interaction_agent', { token: await s2.login('admin') });
    const r = await s2.api('PUT', '/api/v1/agents/ned/presence', { token: t, body: { status: 'Available' } });
    assert.equal(r.status, 403);
    assert.match(r.body.message, /AWA is disabled/);
  } finally { await s2.stop(); }
});

async function cfg(text) {
  const { writeConfig, tempDir } = await import('./lib/server.mjs');
  return writeConfig(tempDir('sb-cfg-'), text);
}
