// Interactions: listing with filters and pages, detail with the activity
// stream, crash recovery of open interactions (SPEC.md §10), and Clear
// contact (AfterCallWork → Available, Work in Progress → Closed Complete).
// Until telephony lands (issue 3) the open interactions are written into the
// store while the server is stopped, as a crash would leave them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';

let sb;
const T0 = Date.parse('2026-11-20T09:00:00Z');

before(async () => {
  sb = await new Server().start();
  await sb.stop({ keep: true });
  // 60 closed history rows, alternating queues and agents, one per minute.
  const rows = [];
  for (let i = 1; i <= 60; i++) {
    const st = i % 3 === 0 ? 'closed_abandoned' : 'closed_complete';
    const agent = st === 'closed_abandoned' ? 0 : (i % 2 ? 3 : 4); // ned=3, beth=4
    rows.push(`(${i},'INT${String(1000 + i).padStart(7, '0')}','phone','inbound','${st}',0,'+1555010${i % 10}',${1 + (i % 2)},${agent},${T0 + i * 60000},${T0 + i * 60000 + 30000},'')`);
  }
  sb.sql(`INSERT INTO interactions(id,number,type,direction,state,queued,caller_number,queue_id,agent_user_id,opened_at,closed_at,close_reason) VALUES ${rows.join(',')};`);
  // What a crash leaves: one in the flow, one queued, one with ned on the call.
  const now = Date.now();
  sb.sql(`INSERT INTO interactions(id,number,type,direction,state,queued,caller_number,queue_id,agent_user_id,opened_at) VALUES
    (61,'INT0001061','phone','inbound','new',0,'+15550199',0,0,${now}),
    (62,'INT0001062','phone','inbound','new',1,'+15550198',1,0,${now}),
    (63,'INT0001063','phone','inbound','work_in_progress',1,'+15550197',1,3,${now});
    UPDATE agents SET presence='Busy', interaction_id=63 WHERE user_id=3;`);
  await sb.start();
});
after(async () => { await sb.stop(); });

test('restart closes what the crash left open, with a stated reason', async () => {
  const admin = await sb.login('admin');
  const a = await sb.api('GET', '/api/v1/interactions/INT0001061', { token: admin });
  assert.equal(a.body.state, 'closed_complete');
  assert.equal(a.body.close_reason, 'server_restart');
  const b = await sb.api('GET', '/api/v1/interactions/INT0001062', { token: admin });
  assert.equal(b.body.state, 'closed_abandoned');
  assert.equal(b.body.state_label, 'Closed Abandoned');
  assert.ok(b.body.activity.some((x) => x.kind === 'state' && /New → Closed Abandoned/.test(x.text)));
  const c = await sb.api('GET', '/api/v1/interactions/INT0001063', { token: admin });
  assert.equal(c.body.state, 'work_in_progress');
  assert.equal(c.body.agent, 'ned');
  const p = await sb.api('GET', '/api/v1/agents/ned/presence', { token: admin });
  assert.equal(p.body.presence, 'AfterCallWork');
  assert.equal(p.body.interaction, 'INT0001063');
});

test('Clear contact: AfterCallWork → Available, the interaction Closed Complete, note in the stream', async () => {
  const ned = await sb.login('ned');
  const mia = await sb.login('mia');
  const ev = await sb.events(mia);
  // The wrap-up code comes from the call's queue's list (Support's, in the demo).
  const bad = await sb.api('POST', '/api/v1/agents/ned/clear', { token: ned, body: { wrap_up_code: 'Sorted' } });
  assert.equal(bad.status, 400, JSON.stringify(bad.body));
  assert.match(bad.body.message, /'Sorted' is not a wrap-up code of this call's queue \(Resolved,Callback needed,Escalated,Wrong number\)/);
  const r = await sb.api('POST', '/api/v1/agents/ned/clear', { token: ned, body: { note: 'Reset the password', wrap_up_code: 'resolved' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.presence, 'Available');
  assert.equal(r.body.interaction, null);
  await ev.next((m) => m.type === 'interaction' && m.number === 'INT0001063' && m.to === 'closed_complete');
  await ev.next((m) => m.type === 'presence' && m.user_name === 'ned' && m.from === 'AfterCallWork' && m.to === 'Available');
  const d = await sb.api('GET', '/api/v1/interactions/INT0001063', { token: ned });
  assert.equal(d.status, 200);
  assert.equal(d.body.state, 'closed_complete');
  assert.ok(d.body.closed_at);
  const kinds = d.body.activity.map((x) => x.kind);
  assert.ok(kinds.includes('note'));
  assert.ok(kinds.includes('presence'));
  assert.ok(d.body.activity.some((x) => /Wrap-up code: Resolved\. Reset the password/.test(x.text)));
  assert.equal(d.body.wrap_up_code, 'Resolved', 'the code as the queue\'s list writes it, as a field');
  assert.ok(d.body.activity.some((x) => /AfterCallWork → Available/.test(x.text)));
  const again = await sb.api('POST', '/api/v1/agents/ned/clear', { token: ned });
  assert.equal(again.status, 409, 'a closed interaction cannot be cleared twice');
  ev.close();
});

test('managers list everything, newest first, with keyset pages', async () => {
  const mia = await sb.login('mia');
  const seen = [];
  let cursor = null;
  for (let page = 0; page < 10; page++) {
    const q = `/api/v1/interactions?limit=25${cursor ? `&cursor=${cursor}` : ''}`;
    const r = await sb.api('GET', q, { token: mia });
    assert.equal(r.status, 200);
    seen.push(...r.body.interactions.map((x) => x.number));
    cursor = r.body.next_cursor;
    if (!cursor) break;
  }
  assert.equal(seen.length, 63);
  assert.equal(new Set(seen).size, 63);
  assert.equal(seen[0], 'INT0001063');
  assert.equal(seen.at(-1), 'INT0001001');
});

test('filters: state, agent, queue, direction, time range', async () => {
  const mia = await sb.login('mia');
  const get = async (q) => (await sb.api('GET', `/api/v1/interactions?limit=200&${q}`, { token: mia })).body.interactions;
  const ab = await get('state=closed_abandoned');
  assert.ok(ab.length >= 21 && ab.every((x) => x.state === 'closed_abandoned'));
  const beth = await get('agent=beth');
  assert.ok(beth.length > 0 && beth.every((x) => x.agent === 'beth'));
  const billing = await get('queue=Billing');
  assert.ok(billing.length > 0 && billing.every((x) => x.queue === 'Billing'));
  assert.equal((await get('direction=outbound')).length, 0);
  const win = await get('from=2026-11-20T09:10:00Z&to=2026-11-20T09:20:00Z');
  assert.equal(win.length, 10);
  assert.ok(win.every((x) => x.opened_at >= '2026-11-20T09:10:00' && x.opened_at < '2026-11-20T09:20:00'));
  const both = await get('state=closed_complete&agent=ned&queue=Billing');
  assert.ok(both.every((x) => x.agent === 'ned' && x.queue === 'Billing' && x.state === 'closed_complete'));
});

test('an agent sees only their own interactions', async () => {
  const beth = await sb.login('beth');
  const mine = await sb.api('GET', '/api/v1/interactions?limit=200', { token: beth });
  assert.equal(mine.status, 200);
  assert.ok(mine.body.interactions.length > 0);
  assert.ok(mine.body.interactions.every((x) => x.agent === 'beth'));
  const other = await sb.api('GET', '/api/v1/interactions?agent=ned', { token: beth });
  assert.equal(other.status, 403);
  const nedsOne = await sb.api('GET', '/api/v1/interactions/INT0001063', { token: beth });
  assert.equal(nedsOne.status, 404);
  const none = await sb.api('GET', '/api/v1/interactions/INT9999999', { token: (await sb.login('mia')) });
  assert.equal(none.status, 404);
});

test('queues report live counts', async () => {
  const mia = await sb.login('mia');
  const r = await sb.api('GET', '/api/v1/queues', { token: mia });
  assert.equal(r.status, 200);
  const names = r.body.queues.map((q) => q.name);
  assert.deepEqual(names, ['Support', 'Billing']);
  const support = r.body.queues[0];
  assert.deepEqual(support.members, ['ned', 'beth']);
  assert.equal(support.live.waiting, 0);
  assert.equal(support.live.agents_available, 1); // ned, after Clear contact
});
