// Quick connects (issue 12, item 1; SPEC.md §6): whom an agent on a call may
// transfer it to — the other agents who take calls (presence, and whether a
// transfer could start now), the queues (waiting callers, longest wait) and
// the external numbers an administrator defines. The real server (demo
// site: Legal desk and Field service), a sipp phone registration for beth
// and a sipp caller waiting in Billing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { sipp } from './lib/peers.mjs';
import { rng } from './lib/mutate.mjs';

let sb, tok;
const PATH = '/api/v1/quick-connects';

async function api(method, path, body, who = 'admin') {
  return sb.api(method, path, body === undefined ? { token: tok[who] } : { token: tok[who], body });
}
async function list(who = 'ned', q) {
  const r = await api('GET', q === undefined ? PATH : `${PATH}?q=${encodeURIComponent(q)}`, undefined, who);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}
const agent = (l, name) => l.agents.find((a) => a.user_name === name);
const presence = (who, status, reason) => api('PUT', `/api/v1/agents/${who}/presence`,
  reason ? { status, reason } : { status }, who);
const auditCount = () => Number(sb.sql("SELECT count(*) FROM audit WHERE action LIKE 'quick_connect.%';"));

before(async () => {
  sb = await new Server().start();
  tok = {};
  for (const u of ['admin', 'ned', 'beth', 'mia', 'carl', 'amy']) tok[u] = await sb.login(u);
});
after(async () => { await sb.stop(); });

test('an agent sees the other agents who take calls, the queues and the demo\'s external numbers; never herself', async () => {
  const l = await list('ned');
  assert.deepEqual(Object.keys(l).sort(), ['agents', 'external', 'queues']);
  // carl holds only awa_agent, mia and admin no agent pair, amy no role: not listed
  assert.deepEqual(l.agents.map((a) => a.user_name), ['beth']);
  assert.deepEqual(l.agents[0], { user_name: 'beth', name: 'Beth Agent', presence: 'Away',
    can_take_transfer: false, reason: 'that agent is not Available' });
  assert.deepEqual(l.queues.map((q) => [q.name, q.waiting, q.longest_wait_s]), [['Support', 0, 0], ['Billing', 0, 0]]);
  assert.deepEqual(l.external, [{ id: 1, name: 'Legal desk', number: '+1 555 0170' },
    { id: 2, name: 'Field service', number: '+1 555 0171' }]);
  const b = await list('beth');
  assert.deepEqual(b.agents.map((a) => a.user_name), ['ned']);
  // a manager and an admin see every agent who takes calls
  assert.deepEqual((await list('mia')).agents.map((a) => a.user_name), ['ned', 'beth']);
  assert.deepEqual((await list('admin')).agents.map((a) => a.user_name), ['ned', 'beth']);
});

test('presence and can_take_transfer follow beth: Available needs a registered phone too; Away is refused', async () => {
  let r = await presence('beth', 'Available');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  let b = agent(await list('ned'), 'beth');
  assert.deepEqual([b.presence, b.can_take_transfer, b.reason], ['Available', false, 'that agent\'s phone is not registered']);
  const reg = await sipp(sb, 'register.xml', { user: 'beth', password: 'demo-pass', expect: 200, expires: 120 });
  assert.equal(reg.code, 0, reg.out);
  b = agent(await list('ned'), 'beth');
  assert.deepEqual([b.presence, b.can_take_transfer, b.reason], ['Available', true, null]);
  // the requester is the first agent of the check: beth is never offered herself
  assert.equal(agent(await list('beth'), 'beth'), undefined);
  r = await presence('beth', 'Away', 'Lunch');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  b = agent(await list('ned'), 'beth');
  assert.deepEqual([b.presence, b.can_take_transfer, b.reason], ['Away', false, 'that agent is not Available']);
  const un = await sipp(sb, 'register.xml', { user: 'beth', password: 'demo-pass', expect: 200, expires: 0 });
  assert.equal(un.code, 0, un.out);
});

test('?q= keeps what contains the text in any case: names, user names, numbers (digits alone too)', async () => {
  const names = (l) => [l.agents.map((a) => a.user_name), l.queues.map((q) => q.name), l.external.map((e) => e.name)];
  assert.deepEqual(names(await list('ned', 'BETH')), [['beth'], [], []]);
  assert.deepEqual(names(await list('ned', 'agent')), [['beth'], [], []]); // "Beth Agent"
  assert.deepEqual(names(await list('ned', 'bill')), [[], ['Billing'], []]);
  assert.deepEqual(names(await list('ned', 'legal')), [[], [], ['Legal desk']]);
  assert.deepEqual(names(await list('ned', 'L')), [[], ['Billing'], ['Legal desk', 'Field service']]);
  assert.deepEqual(names(await list('ned', '555 0171')), [[], [], ['Field service']]);
  assert.deepEqual(names(await list('ned', '5550170')), [[], [], ['Legal desk']]);
  assert.deepEqual(names(await list('ned', '+1 555 01')), [[], [], ['Legal desk', 'Field service']]);
  assert.deepEqual(names(await list('ned', 'nobody here')), [[], [], []]);
  assert.deepEqual(names(await list('ned', '')), names(await list('ned')));
  let r = await api('GET', `${PATH}?q=${'x'.repeat(300)}`, undefined, 'ned');
  assert.equal(r.status, 400);
  assert.deepEqual([r.body.error, r.body.message], ['invalid_parameter', '\'q\' is longer than 256 bytes']);
  r = await api('GET', `${PATH}?colour=red`, undefined, 'ned');
  assert.equal(r.status, 400);
  assert.equal(r.body.error, 'unknown_parameter');
  assert.match(r.body.message, /'colour' \(allowed: q\)/);
});

test('a caller waiting in Billing shows in its waiting count and longest wait', async () => {
  // ned and beth are Away: nobody takes the call
  const call = sipp(sb, 'caller.xml', { service: '5001', caller: '15550142', pauseMs: 6000 });
  await sb.until('a caller waiting in Billing', async () => {
    const q = (await list('ned', 'Billing')).queues[0];
    return q.waiting === 1 ? q : null;
  }, 10000);
  const q = await sb.until('a wait of a second or more', async () => {
    const x = (await list('beth', 'Billing')).queues[0];
    return x.longest_wait_s >= 1 ? x : null;
  }, 5000);
  assert.deepEqual([q.name, q.waiting, q.agents_available], ['Billing', 1, 0]);
  assert.equal((await list('ned', 'Support')).queues[0].waiting, 0);
  assert.equal((await call).code, 0);
  await sb.until('the caller gone', async () => ((await list('ned', 'Billing')).queues[0].waiting === 0 ? true : null));
});

test('who may read: agents who take calls, managers, admins; anyone else gets 403 naming the roles', async () => {
  for (const who of ['amy', 'carl']) {
    const r = await api('GET', PATH, undefined, who);
    assert.equal(r.status, 403, `${who}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, 'missing_roles');
    assert.match(r.body.message, /sn_openframe\.user \+ interaction_agent/);
    assert.match(r.body.message, /voice_manager/);
    assert.deepEqual(r.body.roles_needed, [['sn_openframe.user', 'interaction_agent'],
      ['awa_agent', 'awa_integration_user'], ['voice_manager'], ['admin']]);
  }
  const anon = await sb.api('GET', PATH);
  assert.equal(anon.status, 401);
  assert.equal(anon.body.error, 'no_token');
});

test('an admin adds, renames, renumbers and deletes an external number; agents see it at once; each change is audited', async () => {
  let r = await api('POST', PATH, { name: 'Night line', number: '+44 20 7946 0018' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual(r.body, { id: 3, name: 'Night line', number: '+44 20 7946 0018' });
  assert.deepEqual((await list('ned', 'night')).external, [r.body]);
  r = await api('PATCH', `${PATH}/3`, { name: 'Night desk' });
  assert.deepEqual([r.status, r.body], [200, { id: 3, name: 'Night desk', number: '+44 20 7946 0018' }]);
  r = await api('PATCH', `${PATH}/3`, { number: '+44 20 7946 0019' });
  assert.deepEqual([r.status, r.body], [200, { id: 3, name: 'Night desk', number: '+44 20 7946 0019' }]);
  r = await api('PATCH', `${PATH}/3`, { name: 'night DESK', number: '+44 20 7946 0019' }); // its own name, another case
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await api('DELETE', `${PATH}/3`);
  assert.equal(r.status, 204);
  assert.equal(r.body, null);
  assert.deepEqual((await list('ned', 'night')).external, []);
  assert.equal(sb.sql('SELECT count(*) FROM quick_connects WHERE id=3;'), '0');

  const entries = (await api('GET', '/api/v1/audit?action=quick_connect')).body.entries;
  assert.deepEqual(entries.map((e) => [e.action, e.object, e.actor]), [
    ['quick_connect.delete', 'night DESK', 'admin'],
    ['quick_connect.update', 'Night desk', 'admin'],
    ['quick_connect.update', 'Night desk', 'admin'],
    ['quick_connect.update', 'Night line', 'admin'],
    ['quick_connect.create', 'Night line', 'admin']]);
  assert.deepEqual([entries[4].before, entries[4].after], [null, { name: 'Night line', number: '+44 20 7946 0018' }]);
  assert.deepEqual([entries[3].before, entries[3].after], [{ name: 'Night line' }, { name: 'Night desk' }]);
  assert.deepEqual([entries[2].before, entries[2].after], [{ number: '+44 20 7946 0018' }, { number: '+44 20 7946 0019' }]);
  assert.deepEqual([entries[0].before, entries[0].after], [{ name: 'night DESK', number: '+44 20 7946 0019' }, null]);

  // a restart keeps the list, and a deleted id is never given again
  r = await api('POST', PATH, { name: 'Escalation line', number: '5550188' });
  assert.equal(r.body.id, 4);
  await api('DELETE', `${PATH}/4`);
  await sb.restart();
  for (const u of Object.keys(tok)) tok[u] = await sb.login(u);
  assert.deepEqual((await list('ned')).external.map((e) => [e.id, e.name]), [[1, 'Legal desk'], [2, 'Field service']]);
  r = await api('POST', PATH, { name: 'Night line', number: '+44 20 7946 0018' });
  assert.deepEqual([r.status, r.body.id], [201, 5]);
});

test('refusals: 400 naming the field, 403 for agents and managers, 404, 409 on a duplicate name; none writes anything', async () => {
  const rows = () => sb.sql('SELECT group_concat(id||name||number) FROM quick_connects;');
  const before = [rows(), auditCount()];
  const bad = [
    [{}, /^'name' is required$/],
    [{ name: 'X' }, /^'number' is required$/],
    [{ name: '', number: '123' }, /^'name' must not be empty$/],
    [{ name: 'x'.repeat(65), number: '123' }, /^'name' must be 1 to 64 characters$/],
    [{ name: ' Legal', number: '123' }, /^'name' must not start or end with a space$/],
    [{ name: 'two\nlines', number: '123' }, /^'name' must be one line, without control characters$/],
    [{ name: 'X', number: 'call legal' }, /^'number' is not a phone number: only digits/],
    [{ name: 'X', number: '12' }, /^'number' is not a phone number: it must have 3 to 20 digits$/],
    [{ name: 'X', number: 15550170 }, /^'number' must be a string$/],
    [{ name: 'X', number: '123', id: 9 }, /^unknown field 'id' \(allowed: name, number\)$/],
  ];
  for (const [body, re] of bad) {
    const r = await api('POST', PATH, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error, 'invalid_body');
    assert.match(r.body.message, re, JSON.stringify(body));
  }
  let r = await sb.api('POST', PATH, { token: tok.admin, raw: '{"name": "X",' });
  assert.deepEqual([r.status, r.body.error], [400, 'invalid_body']);
  assert.match(r.body.message, /invalid JSON at line 1/);
  r = await api('PATCH', `${PATH}/1`, {});
  assert.deepEqual([r.status, r.body.message], [400, 'nothing to update: give \'name\', \'number\' or both']);
  r = await api('PATCH', `${PATH}/abc`, { name: 'Y' });
  assert.deepEqual([r.status, r.body.error], [400, 'invalid_parameter']);
  assert.match(r.body.message, /'abc' is not a quick connect id/);
  for (const [m, p] of [['PATCH', `${PATH}/999`], ['DELETE', `${PATH}/999`], ['DELETE', `${PATH}/0`]]) {
    r = await api(m, p, m === 'PATCH' ? { name: 'Y' } : undefined);
    assert.deepEqual([r.status, r.body.error], [404, 'not_found'], `${m} ${p}`);
  }
  r = await api('POST', PATH, { name: 'LEGAL desk', number: '123' });
  assert.deepEqual([r.status, r.body.error], [409, 'conflict']);
  assert.match(r.body.message, /a quick connect named 'LEGAL desk' exists/);
  r = await api('PATCH', `${PATH}/2`, { name: 'Legal Desk' });
  assert.deepEqual([r.status, r.body.error], [409, 'conflict']);
  for (const who of ['ned', 'mia']) {
    for (const [m, p, b] of [['POST', PATH, { name: 'Mine', number: '123' }], ['PATCH', `${PATH}/1`, { name: 'Mine' }],
      ['DELETE', `${PATH}/1`]]) {
      r = await api(m, p, b, who);
      assert.deepEqual([r.status, r.body.error], [403, 'forbidden'], `${m} ${p} by ${who}`);
    }
  }
  assert.deepEqual([rows(), auditCount()], before);
});

test('mutated bodies get a 4xx with a JSON reason and never hurt the server', async () => {
  const r0 = rng(12);
  const seeds = ['{"name":"Legal desk","number":"+1 555 0170"}', '{"number":"(020) 7946 0018"}', '{"name":"Caf\\u00e9"}'];
  const before = auditCount();
  for (let i = 0; i < 150; i++) {
    const s = Buffer.from(r0.pick(seeds));
    for (let k = 0; k < 1 + r0.int(4); k++) s[r0.int(s.length)] = r0.int(256);
    const [m, p] = r0.pick([['POST', PATH], ['PATCH', `${PATH}/2`]]);
    const r = await sb.api(m, p, { token: tok.admin, raw: s, headers: { 'content-type': 'application/json' } });
    if (r.status < 300) continue; // a mutant that is still a valid body
    assert.ok(r.status >= 400 && r.status < 500, `${m} ${s.toString('latin1')}: ${r.status}`);
    assert.equal(typeof r.body.error, 'string');
    assert.equal(typeof r.body.message, 'string');
  }
  assert.ok(auditCount() >= before);
  assert.equal((await sb.api('GET', '/api/v1/health')).status, 200);
  assert.ok((await list('ned')).external.length >= 2);
});
