// The records the forms show (issue 5 point 1): contacts, consumers, cases
// and incidents over REST against the real server and its SQLite file, their
// click-to-call targets, search by number and phone, validation, roles, and
// caller identification of a contact on a real call into the demo flow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { sipp } from './lib/peers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, tok;

const get = (path, who = 'ned') => sb.api('GET', path, { token: tok[who] });
const post = (path, body, who = 'ned') => sb.api('POST', path, { token: tok[who], body });
const patch = (path, body, who = 'ned') => sb.api('PATCH', path, { token: tok[who], body });
const del = (path, who = 'admin') => sb.api('DELETE', path, { token: tok[who] });
const count = (table) => Number(sb.sql(`SELECT count(*) FROM ${table}`));

function isError(r, status, code, re) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error, code, JSON.stringify(r.body));
  if (re) assert.match(r.body.message, re);
}

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'calls:\n  greeting_ms: 0\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
  tok = {};
  for (const u of ['admin', 'mia', 'ned', 'beth', 'carl', 'amy']) tok[u] = await sb.login(u);
});
after(async () => { await sb.stop(); });

test('the demo site has contacts, consumers, cases and incidents, with call targets only where there is a phone', async () => {
  const contacts = (await get('/api/v1/contacts')).body.contacts;
  assert.deepEqual(contacts.map((c) => c.number), ['CON0001003', 'CON0001002', 'CON0001001']);
  const paula = contacts.find((c) => c.number === 'CON0001001');
  assert.equal(paula.name, 'Paula Price');
  assert.equal(paula.account, 'Acme Corp');
  assert.deepEqual(paula.call_targets, [
    { phone: 'mobile', number: '+1 555 0140', label: 'Mobile phone' },
    { phone: 'business', number: '+1 555 0141', label: 'Business phone' }]);
  const omar = contacts.find((c) => c.number === 'CON0001002');
  assert.deepEqual(omar.call_targets.map((t) => t.phone), ['business']);
  const nora = contacts.find((c) => c.number === 'CON0001003');
  assert.equal(nora.mobile_phone, null);
  assert.ok(!('call_targets' in nora), 'a contact without a phone has no call_targets key');

  const consumers = (await get('/api/v1/consumers')).body.consumers;
  assert.deepEqual(consumers.map((c) => c.number), ['CSM0001002', 'CSM0001001']);
  assert.ok(!('account' in consumers[0]), 'consumers have no account');

  const cases = (await get('/api/v1/cases')).body.cases;
  const byNo = Object.fromEntries(cases.map((c) => [c.number, c]));
  // amy's two cases are exactly as the bot tests expect them
  assert.equal(byNo.CS0001002.state, 'In Progress');
  assert.equal(byNo.CS0001001.state, 'Closed');
  assert.deepEqual(byNo.CS0001002.contact, { table: 'user', key: 'amy', name: 'Amy Customer' });
  assert.deepEqual(byNo.CS0001002.call_targets, [{ phone: 'mobile', number: '+1 555 0199', label: 'Mobile phone' }]);
  assert.deepEqual(byNo.CS0001003.contact, { table: 'contact', key: 'CON0001001', name: 'Paula Price' });
  assert.equal(byNo.CS0001003.call_targets.length, 2);
  assert.deepEqual(byNo.CS0001004.contact, { table: 'consumer', key: 'CSM0001001', name: 'Connie Consumer' });
  assert.equal(byNo.CS0001004.call_targets[0].number, '+1 555 0150');
  assert.ok(!('call_targets' in byNo.CS0001005), 'the case of a contact without a phone has no call target');

  const inc = (await get('/api/v1/incidents')).body.incidents;
  const byInc = Object.fromEntries(inc.map((c) => [c.number, c]));
  assert.deepEqual(byInc.INC0001001.caller, { user_name: 'ned', name: 'Ned Agent' });
  assert.deepEqual(byInc.INC0001001.call_targets.map((t) => t.number), ['+1 555 0102', '+1 555 0112']);
  assert.equal(byInc.INC0001003.caller.user_name, 'carl');
  assert.ok(!('call_targets' in byInc.INC0001003), 'carl has no phone: no call target');
});

test('a user record carries call_targets when the user has a phone, and none otherwise', async () => {
  const amy = await get('/api/v1/users/amy', 'admin');
  assert.deepEqual(amy.body.call_targets, [{ phone: 'mobile', number: '+1 555 0199', label: 'Mobile phone' }]);
  const carl = await get('/api/v1/users/carl', 'admin');
  assert.equal(carl.status, 200);
  assert.ok(!('call_targets' in carl.body));
});

test('a contact: create, read, update, search by number, phone and name, delete (admin only)', async () => {
  const c = await post('/api/v1/contacts', { name: 'Wanda Wu', email: 'wanda@hooli.example',
    mobile_phone: '+1 (555) 0177', account: 'Hooli' }, 'beth');
  assert.equal(c.status, 201, JSON.stringify(c.body));
  assert.equal(c.body.number, 'CON0001004'); // the next after the demo's highest
  assert.equal(c.body.business_phone, null);
  assert.deepEqual(c.body.call_targets, [{ phone: 'mobile', number: '+1 (555) 0177', label: 'Mobile phone' }]);
  assert.equal(sb.sql("SELECT mobile_digits || '|' || account FROM contacts WHERE number = 'CON0001004'"), '15550177|Hooli');

  const g = await get('/api/v1/contacts/CON0001004', 'mia');
  assert.deepEqual(g.body, c.body);

  const u = await patch('/api/v1/contacts/CON0001004', { business_phone: '555-0178', mobile_phone: '' });
  assert.equal(u.status, 200, JSON.stringify(u.body));
  assert.equal(u.body.name, 'Wanda Wu'); // untouched
  assert.equal(u.body.mobile_phone, null);
  assert.deepEqual(u.body.call_targets, [{ phone: 'business', number: '555-0178', label: 'Business phone' }]);
  assert.notEqual(u.body.updated_at, c.body.updated_at);

  const byNum = (await get('/api/v1/contacts?number=CON0001004')).body.contacts;
  assert.deepEqual(byNum.map((x) => x.number), ['CON0001004']);
  // Paula's mobile +1 555 0140: with its country code, without, and formatted otherwise
  for (const p of ['+15550140', '5550140', '1-555-0140', '(555) 0140', '0015550140']) {
    const r = await get(`/api/v1/contacts?phone=${encodeURIComponent(p)}`);
    assert.deepEqual(r.body.contacts.map((x) => x.number), ['CON0001001'], p);
  }
  // Omar's business +44 20 7946 0958, searched without its country code
  assert.deepEqual((await get('/api/v1/contacts?phone=2079460958')).body.contacts.map((x) => x.number), ['CON0001002']);
  assert.deepEqual((await get('/api/v1/contacts?phone=5559999')).body.contacts, []);
  assert.deepEqual((await get('/api/v1/contacts?q=wanda')).body.contacts.map((x) => x.number), ['CON0001004']);

  isError(await del('/api/v1/contacts/CON0001004', 'ned'), 403, 'forbidden', /admin/);
  const d = await del('/api/v1/contacts/CON0001004');
  assert.deepEqual(d.body, { number: 'CON0001004', deleted: true });
  isError(await get('/api/v1/contacts/CON0001004'), 404, 'not_found', /no contact CON0001004/);
  isError(await del('/api/v1/contacts/CON0001004'), 404, 'not_found');
  assert.equal(count("contacts WHERE number = 'CON0001004'"), 0);
});

test('a consumer: create, update, search by phone, delete', async () => {
  const c = await post('/api/v1/consumers', { name: 'Carlos Client', mobile_phone: '+1 555 0160' });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  assert.equal(c.body.number, 'CSM0001003');
  isError(await post('/api/v1/consumers', { name: 'X', account: 'Acme' }), 400, 'invalid_body', /unknown field 'account'/);
  const u = await patch(`/api/v1/consumers/${c.body.number}`, { email: 'carlos@example.net' });
  assert.equal(u.body.email, 'carlos@example.net');
  assert.equal(u.body.mobile_phone, '+1 555 0160');
  const s = (await get('/api/v1/consumers?phone=15550160')).body.consumers;
  assert.deepEqual(s.map((x) => x.number), ['CSM0001003']);
  assert.equal((await del(`/api/v1/consumers/${c.body.number}`)).status, 200);
  assert.equal(count('consumers'), 2);
});

test('a case: its contact is a user, a contact or a consumer that must exist; state from the list', async () => {
  const a = await post('/api/v1/cases', { short_description: 'Printer jams', contact: 'CON0001002' });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  assert.match(a.body.number, /^CS\d{7}$/);
  assert.equal(a.body.state, 'New');
  assert.deepEqual(a.body.contact, { table: 'contact', key: 'CON0001002', name: 'Omar Ortiz' });
  assert.deepEqual(a.body.call_targets.map((t) => t.number), ['+44 20 7946 0958']);

  const b = await post('/api/v1/cases', { short_description: 'Parcel lost', consumer: 'CSM0001002', state: 'On Hold' });
  assert.equal(b.status, 201);
  assert.equal(b.body.state, 'On Hold');
  const n = await post('/api/v1/cases', { short_description: 'No contact yet' });
  assert.equal(n.body.contact, null);
  assert.ok(!('call_targets' in n.body));

  // a refused case writes nothing
  const before = count('cases');
  isError(await post('/api/v1/cases', { short_description: 'x', contact: 'CON0009999' }), 422,
    'unknown_reference', /'contact': no contact 'CON0009999'/);
  isError(await post('/api/v1/cases', { short_description: 'x', contact_user: 'nobody' }), 422,
    'unknown_reference', /'contact_user': no user 'nobody'/);
  isError(await post('/api/v1/cases', { short_description: 'x', consumer: 'CSM0000001' }), 422,
    'unknown_reference', /'consumer'/);
  isError(await post('/api/v1/cases', { short_description: 'x', contact: 'CON0001001', consumer: 'CSM0001001' }),
    400, 'invalid_body', /one of 'contact_user', 'contact' and 'consumer'/);
  isError(await post('/api/v1/cases', { short_description: 'x', state: 'Done' }), 400, 'invalid_body',
    /'state' must be one of New, In Progress, On Hold, Resolved, Closed/);
  isError(await post('/api/v1/cases', { contact: 'CON0001001' }), 400, 'invalid_body', /'short_description' is required/);
  isError(await post('/api/v1/cases', { short_description: 'x', number: 'CS0009999' }), 400, 'invalid_body',
    /'number' is assigned by the server/);
  assert.equal(count('cases'), before);

  // update: the state, then the contact (to a user)
  const u = await patch(`/api/v1/cases/${a.body.number}`, { state: 'Resolved' });
  assert.equal(u.body.state, 'Resolved');
  assert.equal(u.body.contact.key, 'CON0001002');
  const v = await patch(`/api/v1/cases/${a.body.number}`, { contact_user: 'amy' });
  assert.deepEqual(v.body.contact, { table: 'user', key: 'amy', name: 'Amy Customer' });
  assert.equal(sb.sql(`SELECT coalesce(contact_id, 'null') || coalesce(consumer_id, 'null') FROM cases WHERE number = '${a.body.number}'`), 'nullnull');
  // a refused update changes nothing
  isError(await patch(`/api/v1/cases/${a.body.number}`, { contact: 'CON0009999', state: 'Closed' }), 422,
    'unknown_reference', /no contact 'CON0009999'/);
  assert.equal(sb.sql(`SELECT state FROM cases WHERE number = '${a.body.number}'`), 'Resolved');
  isError(await patch('/api/v1/cases/CS0999999', { state: 'Closed' }), 404, 'not_found', /no case CS0999999/);
  isError(await patch('/api/v1/cases/CS0999999', { contact: 'CON0001001' }), 404, 'not_found');
  isError(await patch(`/api/v1/cases/${a.body.number}`, {}), 400, 'invalid_body', /nothing to update/);
  const cleared = await patch(`/api/v1/cases/${a.body.number}`, { contact_user: '' });
  assert.equal(cleared.body.contact, null);

  // search: by number, and by the contact's phone (with or without country code)
  assert.deepEqual((await get('/api/v1/cases?number=CS0001002')).body.cases.map((c) => c.number), ['CS0001002']);
  const byPhone = (await get('/api/v1/cases?phone=5550199')).body.cases.map((c) => c.number);
  assert.deepEqual(byPhone.sort(), ['CS0001001', 'CS0001002']);
  const paula = (await get('/api/v1/cases?phone=%2B1%20555%200141')).body.cases.map((c) => c.number);
  assert.deepEqual(paula, ['CS0001003']);
  assert.deepEqual((await get('/api/v1/cases?q=router')).body.cases.map((c) => c.number), ['CS0001002']);
  isError(await sb.api('DELETE', '/api/v1/cases/CS0001003', { token: tok.admin }), 405, 'method_not_allowed');
});

test('an incident: its caller is a user; states include Canceled', async () => {
  const i = await post('/api/v1/incidents', { short_description: 'Email bounces', caller: 'beth' }, 'admin');
  assert.equal(i.status, 201, JSON.stringify(i.body));
  assert.equal(i.body.number, 'INC0001004');
  assert.deepEqual(i.body.caller, { user_name: 'beth', name: 'Beth Agent' });
  assert.deepEqual(i.body.call_targets, [{ phone: 'mobile', number: '+1 555 0103', label: 'Mobile phone' }]);
  const c = await patch('/api/v1/incidents/INC0001004', { state: 'Canceled', caller: '' });
  assert.equal(c.body.state, 'Canceled');
  assert.equal(c.body.caller, null);
  assert.ok(!('call_targets' in c.body));
  const before = count('incidents');
  isError(await post('/api/v1/incidents', { short_description: 'x', caller: 'ghost' }), 422, 'unknown_reference',
    /'caller': no user 'ghost'/);
  isError(await post('/api/v1/incidents', { short_description: 'x', contact: 'CON0001001' }), 400, 'invalid_body',
    /unknown field 'contact'/);
  isError(await post('/api/v1/incidents', { short_description: 'x', state: 'Open' }), 400, 'invalid_body',
    /Canceled/);
  assert.equal(count('incidents'), before);
  assert.deepEqual((await get('/api/v1/incidents?phone=5550112')).body.incidents.map((x) => x.number), ['INC0001001']);
  assert.deepEqual((await get('/api/v1/incidents?number=INC0001002')).body.incidents.map((x) => x.caller.user_name), ['beth']);
});

test('a contact that a case refers to cannot be deleted: 409, and it stays', async () => {
  isError(await del('/api/v1/contacts/CON0001001'), 409, 'conflict', /contact of a case/);
  isError(await del('/api/v1/consumers/CSM0001001'), 409, 'conflict');
  assert.equal(count("contacts WHERE number = 'CON0001001'"), 1);
  assert.equal((await get('/api/v1/contacts/CON0001001')).status, 200);
});

test('roles: agents, managers and admins read; agents and admins write; others get 403', async () => {
  for (const who of ['amy', 'carl']) { // no roles; one role of a pair only
    for (const p of ['/api/v1/contacts', '/api/v1/consumers/CSM0001001', '/api/v1/cases', '/api/v1/incidents']) {
      isError(await get(p, who), 403, 'forbidden', /agents/);
    }
    isError(await post('/api/v1/cases', { short_description: 'x' }, who), 403, 'forbidden');
  }
  assert.equal((await get('/api/v1/cases', 'mia')).status, 200);
  const before = count('contacts');
  isError(await post('/api/v1/contacts', { name: 'By a manager' }, 'mia'), 403, 'forbidden', /agents and admins/);
  isError(await patch('/api/v1/contacts/CON0001001', { name: 'Renamed' }, 'mia'), 403, 'forbidden');
  isError(await del('/api/v1/contacts/CON0001003', 'beth'), 403, 'forbidden', /only an admin/);
  assert.equal(count('contacts'), before);
  assert.equal(sb.sql("SELECT name FROM contacts WHERE number = 'CON0001001'"), 'Paula Price');
  isError(await sb.api('GET', '/api/v1/contacts'), 401, 'no_token');
});

test('bad input gets a 400 naming the problem, and nothing is written', async () => {
  const before = count('contacts');
  const bad = [
    [{ raw: '{"name":' }, /invalid JSON/],
    [{ raw: '' }, /the body is empty/],
    [{ raw: '[1]' }, /must be a JSON object/],
    [{ body: { name: 'X', nickname: 'Y' } }, /unknown field 'nickname' \(allowed: name, email, mobile_phone, business_phone, account\)/],
    [{ body: { email: 'x@y' } }, /'name' is required/],
    [{ body: { name: '' } }, /'name' must not be empty/],
    [{ body: { name: 7 } }, /'name' must be a string/],
    [{ body: { name: 'x'.repeat(128) } }, /'name' is longer than 127 characters/],
    [{ body: { name: 'X', email: 'no-at-sign' } }, /'email' is not an email address/],
    [{ body: { name: 'X', mobile_phone: '555-CALL-NOW' } }, /'mobile_phone' is not a phone number/],
    [{ body: { name: 'X', business_phone: '12' } }, /'business_phone' is not a phone number: it must have 3 to 20 digits/],
    [{ body: { name: 'X', mobile_phone: '1+2345' } }, /'\+' is only allowed at the start/],
    [{ raw: '{"name":"A","name":"B"}' }, /duplicate/],
  ];
  for (const [req, re] of bad) {
    const r = await sb.api('POST', '/api/v1/contacts', { token: tok.ned, ...req, headers: { 'content-type': 'application/json' } });
    isError(r, 400, 'invalid_body', re);
  }
  isError(await patch('/api/v1/contacts/CON0001001', { name: 'X', number: 'CON0000001' }), 400, 'invalid_body', /'number'/);
  for (const q of ['limit=0', 'limit=201', 'limit=x', 'cursor=0', 'phone=abc', 'phone=12', 'number=']) {
    isError(await get(`/api/v1/contacts?${q}`), 400, 'invalid_parameter');
  }
  isError(await get('/api/v1/contacts?sort=name'), 400, 'unknown_parameter', /allowed: number, phone, q, limit, cursor/);
  isError(await get('/api/v1/contacts/CON00010010000000000000'), 404, 'not_found');
  assert.equal(count('contacts'), before);
  assert.equal(sb.sql("SELECT name || mobile_phone FROM contacts WHERE number = 'CON0001001'"), 'Paula Price+1 555 0140');
});

test('lists are newest first and keyset-paginated', async () => {
  const p1 = (await get('/api/v1/cases?limit=2')).body;
  assert.equal(p1.cases.length, 2);
  assert.ok(p1.next_cursor);
  const p2 = (await get(`/api/v1/cases?limit=2&cursor=${p1.next_cursor}`)).body;
  const all = (await get('/api/v1/cases?limit=200')).body;
  assert.equal(all.next_cursor, null);
  assert.deepEqual([...p1.cases, ...p2.cases].map((c) => c.number), all.cases.slice(0, 4).map((c) => c.number));
});

test('numbers continue from the highest after a restart', async () => {
  const a = await post('/api/v1/incidents', { short_description: 'Before restart' });
  await sb.restart();
  for (const u of Object.keys(tok)) tok[u] = await sb.login(u);
  const b = await post('/api/v1/incidents', { short_description: 'After restart' });
  assert.equal(Number(b.body.number.slice(3)), Number(a.body.number.slice(3)) + 1);
});

test('a contact who calls the flow number is identified by phone, and the bot finds their case', async () => {
  const prev = (await get('/api/v1/interactions?limit=1', 'admin')).body.interactions[0]?.number;
  // Paula's mobile without its country code (+1 555 0140): no user has it
  const r = await sipp(sb, 'caller.xml', { service: '5002', caller: '5550140', pauseMs: 1500 });
  assert.equal(r.code, 0, r.out);
  let ix;
  for (let i = 0; i < 100 && !ix; i++) {
    const x = (await get('/api/v1/interactions?limit=1', 'admin')).body.interactions[0];
    if (x && x.number !== prev && x.state !== 'new') ix = x;
    else await sleep(100);
  }
  assert.ok(ix, sb.log.slice(-3000));
  const d = (await get(`/api/v1/interactions/${ix.number}`, 'admin')).body;
  const who = d.activity.find((a) => a.kind === 'caller');
  assert.ok(who, JSON.stringify(d.activity));
  assert.match(who.text, /Caller identified by number 5550140: Paula Price \(contact CON0001001\)/);
  assert.match(sb.log, new RegExp(`call=${ix.number} action=caller identified contact=CON0001001`));
  assert.match(sb.log, new RegExp(`call=${ix.number} action=case found CS0001003 \\(New\\)`));
  // a consumer's number: the consumer is found after the contacts
  const r2 = await sipp(sb, 'caller.xml', { service: '5002', caller: '+15550150', pauseMs: 1000 });
  assert.equal(r2.code, 0, r2.out);
  for (let i = 0; i < 100 && !/caller identified consumer=CSM0001001/.test(sb.log); i++) await sleep(100);
  assert.match(sb.log, /action=caller identified consumer=CSM0001001/);
  assert.match(sb.log, /action=case found CS0001004 \(On Hold\)/);
});
