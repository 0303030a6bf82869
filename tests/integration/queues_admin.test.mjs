// Queues administered over the API (issue 10, item 13): create, rename,
// settings, members and their priority, wrap-up codes, delete (refused while
// callers wait or a number leads to the queue), the queue's own maximum wait
// and overflow on a live call — all without a restart — and the audit log
// that records every change. The real server (demo site), sipp callers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { sipp } from './lib/peers.mjs';

let sb, tok;
const enc = encodeURIComponent;

async function api(method, path, body, who = 'admin') {
  return sb.api(method, path, body == null ? { token: tok[who] } : { token: tok[who], body });
}
async function queue(name) {
  return (await api('GET', `/api/v1/queues/${enc(name)}`)).body;
}
async function latest() {
  return (await api('GET', '/api/v1/interactions?limit=1')).body.interactions[0];
}

before(async () => {
  sb = await new Server().start();
  tok = {};
  for (const u of ['admin', 'ned', 'mia']) tok[u] = await sb.login(u);
});
after(async () => { await sb.stop(); });

test('an admin creates a queue with members, priorities and wrap-up codes; others may only read it', async () => {
  const r = await api('POST', '/api/v1/queues', {
    name: 'Tier 2', priority: 3, service_level_seconds: 45,
    members: ['ned', { user_name: 'beth', priority: 2 }], wrap_up_codes: ['Fixed', 'Not fixed'],
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.name, 'Tier 2');
  assert.equal(r.body.strategy, 'longest_idle');
  assert.deepEqual(r.body.members, ['ned', 'beth']);
  assert.deepEqual(r.body.member_priority, { ned: 1, beth: 2 });
  assert.deepEqual(r.body.wrap_up_codes, ['Fixed', 'Not fixed']);
  assert.equal(r.body.service_level_seconds, 45);
  const listed = (await api('GET', '/api/v1/queues', null, 'ned')).body.queues.map((q) => q.name);
  assert.deepEqual(listed, ['Support', 'Billing', 'Tier 2']);
  assert.equal((await api('GET', `/api/v1/queues/${enc('Tier 2')}`, null, 'ned')).status, 200);
  for (const [m, p, b] of [['POST', '/api/v1/queues', { name: 'Mine' }], ['PATCH', `/api/v1/queues/${enc('Tier 2')}`, { priority: 1 }],
    ['DELETE', `/api/v1/queues/${enc('Tier 2')}`], ['PUT', `/api/v1/queues/${enc('Tier 2')}/members/carl`, {}]]) {
    const x = await api(m, p, b, 'mia');
    assert.equal(x.status, 403, `${m} ${p} by a manager: ${JSON.stringify(x.body)}`);
  }
});

test('bad queue bodies get a 400 naming the problem', async () => {
  const cases = [
    [{ name: 'a/b' }, /'name' must be 1-40/],
    [{}, /'name' is required/],
    [{ name: 'X', strategy: 'round_robin' }, /'strategy' must be "longest_idle"/],
    [{ name: 'X', max_wait_seconds: 30 }, /go together/],
    [{ name: 'X', overflow_queue: 'Nope', max_wait_seconds: 5 }, /no queue named 'Nope'/],
    [{ name: 'X', hold_music: '../etc/passwd' }, /'hold_music' must be a WAV file under calls.flows_dir/],
    [{ name: 'X', hold_music: 'missing.wav' }, /'hold_music' missing.wav: /],
    [{ name: 'X', members: ['nobody'] }, /member 1: no user 'nobody'/],
    [{ name: 'X', members: ['ned', 'ned'] }, /member 2 repeats member 1/],
    [{ name: 'X', members: [{ user_name: 'ned', priority: 10 }] }, /'priority' must be a whole number from 1 to 9/],
    [{ name: 'X', wrap_up_codes: ['A', 'a'] }, /wrap-up code 2 repeats code 1/],
    [{ name: 'X', wrap_up_codes: ['two\nlines'] }, /wrap-up code 1 must be a string/],
    [{ name: 'X', colour: 'red' }, /unknown field 'colour'/],
  ];
  for (const [body, re] of cases) {
    const r = await api('POST', '/api/v1/queues', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.body.message, re, JSON.stringify(body));
  }
  const dup = await api('POST', '/api/v1/queues', { name: 'Support' });
  assert.equal(dup.status, 409);
  const self = await api('PATCH', '/api/v1/queues/Billing', { overflow_queue: 'Billing', max_wait_seconds: 5 });
  assert.equal(self.status, 400);
  assert.match(self.body.message, /another queue/);
  assert.equal((await api('PATCH', '/api/v1/queues/Nope', { priority: 1 })).status, 404);
  assert.equal((await api('GET', '/api/v1/audit?colour=red')).status, 400);
});

test('rename, settings and members take effect at once and survive a restart', async () => {
  let r = await api('PATCH', `/api/v1/queues/${enc('Tier 2')}`, { name: 'Tier Two', priority: 4 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await api('GET', `/api/v1/queues/${enc('Tier 2')}`)).status, 404);
  r = await api('PUT', `/api/v1/queues/${enc('Tier Two')}/members/carl`, { priority: 5 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.member_priority, { ned: 1, beth: 2, carl: 5 });
  r = await api('DELETE', `/api/v1/queues/${enc('Tier Two')}/members/beth`);
  assert.deepEqual(r.body.members, ['ned', 'carl']);
  assert.equal((await api('DELETE', `/api/v1/queues/${enc('Tier Two')}/members/beth`)).status, 404);
  r = await api('PATCH', `/api/v1/queues/${enc('Tier Two')}`, { members: [{ user_name: 'beth', priority: 1 }, 'carl'] });
  assert.deepEqual(r.body.member_priority, { beth: 1, carl: 1 });
  await sb.restart();
  for (const u of Object.keys(tok)) tok[u] = await sb.login(u);
  const q = await queue('Tier Two');
  assert.equal(q.priority, 4);
  assert.deepEqual(q.member_priority, { beth: 1, carl: 1 });
  assert.deepEqual(q.wrap_up_codes, ['Fixed', 'Not fixed']);
});

test('a queue\'s own maximum wait moves a waiting caller to its overflow queue; delete is refused while callers wait', async () => {
  let r = await api('POST', '/api/v1/queues', { name: 'Front', members: ['ned'], max_wait_seconds: 2, overflow_queue: 'Tier Two' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  r = await api('PUT', '/api/v1/numbers/7300', { queue: 'Front' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const del = await api('DELETE', '/api/v1/queues/Front');
  assert.equal(del.status, 409);
  assert.equal(del.body.error, 'queue_in_use');
  assert.match(del.body.message, /number 7300 leads to it/);
  const prev = (await latest())?.number;
  const call = sipp(sb, 'caller.xml', { service: '7300', pauseMs: 7000 });
  const ix = await sb.until('the call in Front', async () => {
    const x = await latest();
    return x && x.number !== prev && x.queue === 'Front' ? x : null;
  });
  await sb.until('waiting in Tier Two', async () => (await queue('Tier Two')).live.waiting === 1 ? true : null, 8000);
  const busy = await api('DELETE', `/api/v1/queues/${enc('Tier Two')}`);
  assert.equal(busy.status, 409, JSON.stringify(busy.body));
  assert.equal(busy.body.error, 'queue_busy');
  const d = (await api('GET', `/api/v1/interactions/${ix.number}`)).body;
  assert.ok(d.activity.some((a) => /Left queue Front after 2 s: overflow to Tier Two/.test(a.text)),
    JSON.stringify(d.activity.map((a) => a.text)));
  assert.equal(d.queue, 'Tier Two');
  assert.equal((await call).code, 0);
  await sb.until('the caller gone', async () => (await queue('Tier Two')).live.waiting === 0 ? true : null);
  r = await api('DELETE', `/api/v1/queues/${enc('Tier Two')}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await api('GET', `/api/v1/queues/${enc('Tier Two')}`)).status, 404);
  // History still names it; its name is free again.
  const old = (await api('GET', `/api/v1/interactions/${ix.number}`)).body;
  assert.match(old.queue, /^Tier Two \(deleted \d+\)$/);
  assert.equal((await api('POST', '/api/v1/queues', { name: 'Tier Two' })).status, 201);
});

test('the audit log holds every change with who, when, what, before and after; it filters', async () => {
  const all = (await api('GET', '/api/v1/audit?limit=200')).body.entries;
  const actions = all.map((e) => e.action);
  for (const a of ['queue.create', 'queue.update', 'queue.member_set', 'queue.member_remove', 'queue.delete', 'number.set'])
    assert.ok(actions.includes(a), `${a} in ${actions}`);
  const rename = all.find((e) => e.action === 'queue.update' && e.object === 'Tier 2');
  assert.equal(rename.actor, 'admin');
  assert.deepEqual(rename.before, { name: 'Tier 2', priority: 3 });
  assert.deepEqual(rename.after, { name: 'Tier Two', priority: 4 });
  assert.ok(Date.parse(rename.at) > Date.now() - 600000);
  const members = (await api('GET', '/api/v1/audit?action=queue.member_set')).body.entries;
  assert.ok(members.length >= 1 && members.every((e) => e.action === 'queue.member_set'));
  const front = (await api('GET', '/api/v1/audit?object=Front')).body.entries;
  assert.ok(front.length >= 1 && front.every((e) => e.object.includes('Front')));
  const queueOnly = (await api('GET', '/api/v1/audit?action=queue')).body.entries;
  assert.ok(queueOnly.length >= 5 && queueOnly.every((e) => e.action.startsWith('queue.')));
  // Users and roles, numbers and flags are audited too; passwords never show.
  let r = await api('POST', '/api/v1/users', { user_name: 'dana', name: 'Dana New', password: 'dana-pass-1', sip_password: 'dana-sip-1' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  r = await api('PUT', '/api/v1/users/dana/roles/interaction_agent');
  r = await api('PATCH', '/api/v1/users/dana', { password: 'dana-pass-2' });
  assert.equal(r.status, 200);
  const dana = (await api('GET', '/api/v1/audit?object=dana')).body.entries;
  assert.deepEqual(dana.map((e) => e.action), ['user.update', 'role.grant', 'user.create']);
  assert.equal(dana[0].after.password, '(changed)');
  assert.equal(dana[2].after.sip_account, true);
  assert.ok(!JSON.stringify(dana).includes('dana-pass') && !JSON.stringify(dana).includes('argon2'));
  assert.equal((await api('GET', '/api/v1/audit', null, 'mia')).status, 403);
  const page1 = (await api('GET', '/api/v1/audit?limit=2')).body;
  assert.equal(page1.entries.length, 2);
  const page2 = (await api('GET', `/api/v1/audit?limit=2&cursor=${page1.next_cursor}`)).body;
  assert.ok(page2.entries[0].id < page1.entries[1].id);
});
