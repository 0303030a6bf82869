// Issue 5, points 2-5: click-to-call (the agent's baresip is called first and
// auto-answers, then the customer: a sipp UAS behind calls.outbound_uri, or a
// registered softphone of the site), the call controls over REST, the
// conversation flags, the screen pop of an inbound offer, accept and reject.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { Baresip, farEnd as sippFarEnd, freeUdpPort, sipp, waitRegistered, wavInfo } from './lib/peers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SIPP_DIR = new URL('./sipp/', import.meta.url).pathname;
let sb, admin, ned, nedTok, nedEvents, farPort;

async function until(what, fn, timeoutMs = 20000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}\n${sb.log.slice(-6000)}`);
    await sleep(100);
  }
}

// The customer behind calls.outbound_uri: sipp's UAS with RTP echo, or a scenario.
const farEnd = (scenario) => sippFarEnd(farPort, { scenario });

const dial = (token, body) => sb.api('POST', '/api/v1/calls', { token, body });
const control = (token, number, action, body) =>
  sb.api('POST', `/api/v1/calls/${number}/${action}`, { token, body });
const detail = async (number) => (await sb.api('GET', `/api/v1/interactions/${number}`, { token: admin })).body;
const presenceOf = async (user) => (await sb.api('GET', `/api/v1/agents/${user}/presence`, { token: admin })).body;
const count = async () => (await sb.api('GET', '/api/v1/interactions?limit=200', { token: admin })).body.interactions.length;
const setFlag = async (name, value) => {
  const r = await sb.api('PUT', `/api/v1/flags/${name}`, { token: admin, body: { value } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
};
const presenceEvent = (to, number) => nedEvents.next((m) => m.type === 'presence' && m.user_name === 'ned' && m.to === to &&
  (!number || m.interaction === number), 20000);

// One channel's stat over [from, from+len] seconds of a WAV.
function windowRms(path, channel, from, len) {
  const r = spawnSync('sox', [path, '-n', 'trim', String(Math.max(0, from)), String(len), 'remix', String(channel), 'stat'],
    { encoding: 'utf8' });
  return Number(((r.stderr || '').match(/RMS\s+amplitude:\s+([\d.]+)/) || [])[1]);
}

before(async () => {
  farPort = await freeUdpPort();
  const cfg = writeConfig(tempDir('sb-cfg-'),
    `calls:\n  greeting_ms: 300\n  outbound_uri: "sip:127.0.0.1:${farPort}"\n  dial_timeout: 4\n  offer_timeout: 8\n`);
  sb = await new Server({ args: ['--config', cfg] }).start();
  admin = await sb.login('admin');
  nedTok = await sb.login('ned');
  nedEvents = await sb.events(nedTok);
  ned = await new Baresip(sb, 'ned').start();
  await waitRegistered(sb, admin, 'ned');
});
after(async () => {
  await ned?.stop();
  await sb.stop();
});

test('click-to-call: CallingCustomer → Busy → End call → AfterCallWork → Clear contact → Available; recorded on both channels; hold plays music to the customer', async () => {
  assert.equal((await sb.api('PUT', '/api/v1/agents/ned/presence', { token: nedTok, body: { status: 'Available' } })).status, 200);
  const far = await farEnd();
  const r = await dial(nedTok, { record: { table: 'user', key: 'amy' }, phone: 'mobile' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const num = r.body.interaction;
  assert.match(num, /^INT\d{7}$/);
  assert.equal(r.body.via, 'outbound_uri');
  assert.equal(r.body.to.number, '+1 555 0199');
  await presenceEvent('CallingCustomer', num);
  await nedEvents.next((m) => m.type === 'call' && m.interaction === num && m.event === 'agent_answered', 10000);
  const busy = await presenceEvent('Busy', num);
  assert.match(far.messages(), /INVITE sip:\+15550199@127\.0\.0\.1:\d+ SIP\/2\.0/);
  let x = await detail(num);
  assert.equal(x.direction, 'outbound');
  assert.equal(x.type, 'Phone');
  assert.equal(x.state, 'work_in_progress');
  assert.deepEqual(x.linked_record, { table: 'user', number: 'amy' });
  assert.equal(x.agent, 'ned');
  assert.match(sb.log, /Call-Info|auto-answer/);

  // Mute, then hold while muted, then resume and unmute. Muted, the customer
  // hears silence; held, the hold music even though the agent is muted (the
  // UAS echoes what it hears, so the customer channel of the recording shows it).
  const t0 = Date.parse(busy.at);
  await sleep(1000);
  const mutedAt = Date.now();
  assert.equal((await control(nedTok, num, 'mute')).status, 200);
  await sleep(1500);
  const heldAt = Date.now();
  assert.equal((await control(nedTok, num, 'hold')).status, 200);
  assert.equal((await control(nedTok, num, 'hold')).status, 200, 'a repeat is a no-op');
  await sleep(2000);
  assert.equal((await control(nedTok, num, 'resume')).status, 200);
  assert.equal((await control(nedTok, num, 'unmute')).status, 200);
  const dt = await control(nedTok, num, 'dtmf', { digits: '12' });
  assert.equal(dt.status, 409, 'sipp\'s UAS offers no telephone-event');
  assert.equal(dt.body.error, 'no_telephone_event');

  // Only the agent controls the call; a manager may end it, not hold it.
  const mia = await sb.login('mia');
  assert.equal((await control(mia, num, 'hold')).status, 403);
  const beth = await sb.login('beth');
  assert.equal((await control(beth, num, 'end')).status, 403);

  const end = await control(nedTok, num, 'end');
  assert.equal(end.status, 202, JSON.stringify(end.body));
  await presenceEvent('AfterCallWork', num);
  assert.equal(await far.exited, 0, far.out());
  const clr = await sb.api('POST', '/api/v1/agents/ned/clear', { token: nedTok, body: { wrap_up_code: 'resolved', note: 'called back' } });
  assert.equal(clr.status, 200, JSON.stringify(clr.body));
  await presenceEvent('Available', num);
  x = await detail(num);
  assert.equal(x.state, 'closed_complete');
  const texts = x.activity.map((a) => `${a.kind}: ${a.text}`);
  for (const want of [/presence: Agent ned: Away → CallingCustomer|presence: Agent ned: Available → CallingCustomer/,
    /presence: Agent ned: CallingCustomer → Busy/, /presence: Agent ned: Busy → AfterCallWork/,
    /presence: Agent ned: AfterCallWork → Available/, /recording: Recording: \/api\/v1\/interactions\/INT\d+\/recording/,
    /call: Customer on hold by ned/, /call: Agent muted by ned/, /note: Wrap-up code: resolved\. called back/]) {
    assert.ok(texts.some((t) => want.test(t)), `${want} in ${JSON.stringify(texts)}`);
  }
  assert.equal(x.conversations.length, 1, 'createConversation is true by default');
  assert.equal(x.conversations[0].flag, 'createConversation');

  const wav = join(sb.dataDir, 'recordings', `${num}.wav`);
  await until('the recording', async () => existsSync(wav) && wavInfo(wav).seconds > 4);
  assert.ok(wavInfo(wav, 1).rms > 0.01, `customer channel RMS ${wavInfo(wav, 1).rms}`);
  assert.ok(wavInfo(wav, 2).rms > 0.01, `agent channel RMS ${wavInfo(wav, 2).rms}`);
  const muted = windowRms(wav, 1, (mutedAt - t0) / 1000 + 0.5, 0.7);
  assert.ok(muted < 0.003, `customer channel while muted: RMS ${muted} (the customer hears silence)`);
  const held = windowRms(wav, 1, (heldAt - t0) / 1000 + 0.6, 1.0);
  assert.ok(held > 0.01, `customer channel while held: RMS ${held} (the UAS echoes the hold music)`);
  const rec = await sb.api('GET', `/api/v1/interactions/${num}/recording`, { token: nedTok });
  assert.equal(rec.status, 200);
});

test('the customer is busy, does not answer, or cannot be reached: FailedConnectAgent → Available, Closed Complete (not_connected)', async () => {
  for (const [scenario, reason] of [['uas_busy.xml', /busy \(SIP 486\)/], ['uas_noanswer.xml', /no answer/], [null, /.+/]]) {
    const far = scenario ? await farEnd(scenario) : null;
    const r = await dial(nedTok, { record: { table: 'user', key: 'amy' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const num = r.body.interaction;
    await presenceEvent('CallingCustomer', num);
    const failed = await presenceEvent('FailedConnectAgent', num);
    assert.match(failed.reason, reason);
    const t = Date.now();
    await presenceEvent('Available', num);
    assert.ok(Date.now() - t > 1000, 'FailedConnectAgent shows about 2 s');
    const x = await detail(num);
    assert.equal(x.state, 'closed_complete');
    assert.equal(x.close_reason, 'not_connected');
    assert.ok(x.activity.some((a) => a.kind === 'call' && /^Not connected: /.test(a.text)), JSON.stringify(x.activity));
    assert.ok(x.activity.some((a) => a.text === 'Agent ned: FailedConnectAgent → Available'), JSON.stringify(x.activity));
    if (far) assert.equal(await far.exited, 0, far.out());
  }
  // End call while the customer still rings: cancelled, FailedConnectAgent.
  const far = await farEnd('uas_noanswer.xml');
  const r = await dial(nedTok, { record: { table: 'user', key: 'amy' } });
  assert.equal(r.status, 202);
  await nedEvents.next((m) => m.type === 'call' && m.interaction === r.body.interaction && m.event === 'customer_ringing', 10000);
  assert.equal((await control(nedTok, r.body.interaction, 'end')).status, 202);
  assert.equal((await presenceEvent('FailedConnectAgent', r.body.interaction)).reason, 'cancelled by the agent');
  await presenceEvent('Available', r.body.interaction);
  assert.equal(await far.exited, 0, far.out());
  assert.equal((await presenceOf('ned')).presence, 'Available');
});

test('each conversation flag creates (or not) a conversation for a call from a user record', async () => {
  const cases = [
    [{ createConversation: 'false', 'sn_cti_csm_cnt.enable_ims_update': 'false', 'sn_cti_itsm_cnt.enable_ims_update': 'false' }, null],
    [{ createConversation: 'true' }, 'createConversation'],
    [{ createConversation: 'false', 'sn_cti_csm_cnt.enable_ims_update': 'true' }, null],
    [{ 'sn_cti_csm_cnt.enable_ims_update': 'false', 'sn_cti_itsm_cnt.enable_ims_update': 'true' }, 'sn_cti_itsm_cnt.enable_ims_update'],
  ];
  for (const [flags, want] of cases) {
    for (const [k, v] of Object.entries(flags)) await setFlag(k, v);
    const far = await farEnd('uas_busy.xml');
    const r = await dial(nedTok, { record: { table: 'user', key: 'amy' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await presenceEvent('Available', r.body.interaction);
    await far.exited;
    const x = await detail(r.body.interaction);
    assert.deepEqual(x.conversations.map((c) => c.flag), want ? [want] : [], JSON.stringify(flags));
    if (want) {
      assert.match(x.conversations[0].number, /^CNV\d{7}$/);
      assert.deepEqual(x.conversations[0].linked_record, { table: 'user', number: 'amy' });
      assert.ok(x.activity.some((a) => a.kind === 'conversation'), JSON.stringify(x.activity));
    }
  }
  const list = await sb.api('GET', '/api/v1/flags', { token: nedTok });
  assert.equal(list.status, 200);
  assert.deepEqual(Object.fromEntries(list.body.flags.map((f) => [f.name, f.value])), {
    createConversation: 'false', 'sn_cti_csm_cnt.enable_ims_update': 'false', 'sn_cti_itsm_cnt.enable_ims_update': 'true' });
  assert.equal((await sb.api('PUT', '/api/v1/flags/createConversation', { token: nedTok, body: { value: 'true' } })).status, 403);
  for (const body of [{ value: true }, { value: 'yes' }, {}, { value: 'true', x: 1 }]) {
    const b = await sb.api('PUT', '/api/v1/flags/createConversation', { token: admin, body });
    assert.equal(b.status, 400, JSON.stringify(body));
    assert.ok(b.body.message);
  }
  assert.equal((await sb.api('PUT', '/api/v1/flags/nope', { token: admin, body: { value: 'true' } })).status, 404);
  await setFlag('createConversation', 'true');
});

// The records of the forms: a case calls its contact, an incident its caller;
// which flag makes a conversation depends on the application of the record.
test('click-to-call from a case, a contact and an incident: linked to the record, conversations by their flags', async () => {
  const targets = [
    [{ table: 'case', key: 'CS0001003' }, 'csm', '+1 555 0140'], // Paula's case
    [{ table: 'contact', key: 'CON0001001' }, 'csm', '+1 555 0140'], // Paula
    [{ table: 'consumer', key: 'CSM0001001' }, 'csm', '+1 555 0150'], // Connie
    [{ table: 'incident', key: 'INC0001002' }, 'itsm', '+1 555 0103'], // beth's incident
  ];
  const settings = [
    [{ createConversation: 'false', 'sn_cti_csm_cnt.enable_ims_update': 'true', 'sn_cti_itsm_cnt.enable_ims_update': 'false' }, 'csm'],
    [{ 'sn_cti_csm_cnt.enable_ims_update': 'false', 'sn_cti_itsm_cnt.enable_ims_update': 'true' }, 'itsm'],
    [{ 'sn_cti_itsm_cnt.enable_ims_update': 'false' }, null],
  ];
  const flagOf = { csm: 'sn_cti_csm_cnt.enable_ims_update', itsm: 'sn_cti_itsm_cnt.enable_ims_update' };
  for (const [flags, app] of settings) {
    for (const [k, v] of Object.entries(flags)) await setFlag(k, v);
    for (const [record, recApp, number] of targets) {
      const far = await farEnd('uas_busy.xml');
      const r = await dial(nedTok, { record });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      assert.equal(r.body.to.number, number);
      await presenceEvent('Available', r.body.interaction);
      await far.exited;
      const x = await detail(r.body.interaction);
      assert.equal(x.direction, 'outbound');
      assert.deepEqual(x.linked_record, { table: record.table, number: record.key });
      const want = app === recApp ? [flagOf[app]] : [];
      assert.deepEqual(x.conversations.map((c) => c.flag), want, `${JSON.stringify(record)} with ${JSON.stringify(flags)}`);
      if (want.length) assert.deepEqual(x.conversations[0].linked_record, { table: record.table, number: record.key });
    }
  }
  await setFlag('createConversation', 'true');
});

test('an agent without the roles gets 403 and no call is placed', async () => {
  const far = await farEnd();
  const before = await count();
  const carl = await sb.login('carl'); // awa_agent only
  const amy = await sb.login('amy'); // a customer
  for (const tok of [carl, amy]) {
    const r = await dial(tok, { record: { table: 'user', key: 'amy' } });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.error, 'missing_roles');
  }
  // Revoked at run time: refused on the next request.
  assert.equal((await sb.api('DELETE', '/api/v1/users/ned/roles/interaction_agent', { token: admin })).status, 200);
  assert.equal((await sb.api('DELETE', '/api/v1/users/ned/roles/awa_agent', { token: admin })).status, 200);
  assert.equal((await dial(nedTok, { record: { table: 'user', key: 'amy' } })).status, 403);
  assert.equal((await sb.api('PUT', '/api/v1/users/ned/roles/interaction_agent', { token: admin })).status, 200);
  assert.equal((await sb.api('PUT', '/api/v1/users/ned/roles/awa_agent', { token: admin })).status, 200);
  await sleep(1000);
  assert.equal(far.messages(), '', 'the UAS saw no INVITE');
  assert.equal(await count(), before, 'no interaction was written');
  assert.equal((await presenceOf('ned')).presence, 'Available');
  far.proc.kill('SIGTERM');
  await far.exited;
});

test('no phone number: 422; bad input on every new route: 4xx JSON and nothing written', async () => {
  const before = await count();
  const bad = [
    [{ record: { table: 'user', key: 'carl' } }, 422, 'no_phone'], // carl has no phone
    [{ record: { table: 'user', key: 'mia' }, phone: 'mobile' }, 422, 'no_phone'], // business only
    [{ record: { table: 'user', key: 'nobody' } }, 404, 'not_found'],
    [{ record: { table: 'incident', key: 'INC0001003' } }, 422, 'no_phone'], // carl's: no phone
    [{ record: { table: 'contact', key: 'CON0001003' } }, 422, 'no_phone'], // Nora has none
    [{ record: { table: 'case', key: 'CS0001005' } }, 422, 'no_phone'], // Nora's case
    [{ record: { table: 'contact', key: 'CON0001002' }, phone: 'mobile' }, 422, 'no_phone'], // business only
    [{ record: { table: 'case', key: 'CS0009999' } }, 404, 'not_found'],
    [{ record: { table: 'queue', key: 'Support' } }, 400, 'invalid_body'],
    [{}, 400], [{ record: 'amy' }, 400], [{ record: { table: 'user' } }, 400],
    [{ record: { table: 'user', key: 'amy' }, phone: 'fax' }, 400],
    [{ record: { table: 'user', key: 'amy', x: 1 } }, 400], [{ record: { table: 'user', key: 'a/b' } }, 400],
    [{ record: { table: 'user', key: 'amy' }, extra: true }, 400],
  ];
  for (const [body, status, code] of bad) {
    const r = await dial(nedTok, body);
    assert.equal(r.status, status, `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
    assert.ok(r.body.message, JSON.stringify(r.body));
    if (code) assert.equal(r.body.error, code);
  }
  for (const raw of ['', 'not json', '[1]', '{"record":{"table":"user","key":"amy"}}x']) {
    const r = await sb.api('POST', '/api/v1/calls', { token: nedTok, raw, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400, raw);
  }
  assert.equal((await sb.api('POST', '/api/v1/calls', { body: {} })).status, 401);
  assert.equal((await sb.api('GET', '/api/v1/calls', { token: nedTok })).status, 403); // the live calls: managers only
  assert.equal((await control(nedTok, 'INT9999999', 'hold')).status, 404);
  assert.equal((await control(nedTok, 'INT0001001', 'explode')).status, 404);
  assert.equal((await control(nedTok, 'garbage', 'end')).status, 404);
  assert.equal(await count(), before, 'nothing was written');
  assert.equal((await presenceOf('ned')).presence, 'Available');
});

test('a customer who is a registered softphone of the site is called directly; DTMF reaches them', async () => {
  const p = await sb.api('PATCH', '/api/v1/users/amy', { token: admin, body: { sip_password: 'amy-sip-pass' } });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const amy = await new Baresip(sb, 'amy', { password: 'amy-sip-pass', verbose: true }).start();
  try {
    await until('amy registered', async () => /registered|200 OK/.test(amy.log) && sb.log.includes('agent=amy action=registered'));
    const r = await dial(nedTok, { record: { table: 'user', key: 'amy' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.via, 'registration');
    const num = r.body.interaction;
    await presenceEvent('Busy', num);
    await sleep(500);
    const d = await control(nedTok, num, 'dtmf', { digits: '4#' });
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal((await control(nedTok, num, 'dtmf', { digits: 'xyz' })).status, 400);
    assert.equal((await control(nedTok, num, 'dtmf', {})).status, 400);
    assert.equal((await control(nedTok, num, 'hold', { x: 1 })).status, 400);
    await until('amy received the digits', async () => /received event: '4' \(end=1\)/.test(amy.log) && /received event: '#' \(end=1\)/.test(amy.log), 5000)
      .catch((e) => { throw new Error(`${e.message}\namy: ${amy.log.slice(-3000)}`); });
    assert.equal((await control(nedTok, num, 'accept')).status, 409, 'not an offer');
    assert.equal((await control(nedTok, num, 'end')).status, 202);
    await presenceEvent('AfterCallWork', num);
    assert.equal((await sb.api('POST', '/api/v1/agents/ned/clear', { token: nedTok })).status, 200);
    await presenceEvent('Available', num);
  } finally {
    await amy.stop();
  }
});

test('the inbound offer carries the caller\'s identity; reject moves it to the next agent; accept re-rings with auto-answer', async () => {
  // ned's phone rings without answering; beth's answers.
  await ned.stop();
  await sleep(1000); // its un-REGISTER must not cross the new REGISTER
  ned = await new Baresip(sb, 'ned', { answer: 'manual' }).start();
  await waitRegistered(sb, admin, 'ned');
  if ((await presenceOf('ned')).presence === 'AfterCallWork') await sb.api('POST', '/api/v1/agents/ned/clear', { token: nedTok });
  assert.equal((await sb.api('PUT', '/api/v1/agents/ned/presence', { token: nedTok, body: { status: 'Available' } })).status, 200);
  const bethTok = await sb.login('beth');
  const bethEvents = await sb.events(bethTok);
  const beth = await new Baresip(sb, 'beth').start();
  try {
    await waitRegistered(sb, admin, 'beth');
    await sleep(100); // ned has been Available longer: the first offer is his
    assert.equal((await sb.api('PUT', '/api/v1/agents/beth/presence', { token: bethTok, body: { status: 'Available' } })).status, 200);
    const call = sipp(sb, 'caller.xml', { service: '5000', caller: '15550199', pauseMs: 6000 });
    const offer = await nedEvents.next((m) => m.type === 'offer', 15000);
    assert.deepEqual(offer.caller, { number: '15550199', user_name: 'amy', name: 'Amy Customer' });
    assert.deepEqual(offer.records, [{ table: 'user', number: 'amy', name: 'Amy Customer' }]); // no flow: no case
    assert.equal(offer.intent, null);
    assert.equal(offer.agent, 'ned');
    assert.equal(offer.queue, 'Support');
    assert.equal((await control(bethTok, offer.interaction, 'reject')).status, 403, 'not beth\'s offer');
    const rj = await control(nedTok, offer.interaction, 'reject');
    assert.equal(rj.status, 202, JSON.stringify(rj.body));
    await presenceEvent('Missed');
    const o2 = await bethEvents.next((m) => m.type === 'offer' && m.interaction === offer.interaction, 10000);
    assert.equal(o2.caller.name, 'Amy Customer');
    await bethEvents.next((m) => m.type === 'presence' && m.to === 'Busy' && m.interaction === offer.interaction, 10000);
    assert.equal((await control(bethTok, offer.interaction, 'accept')).status, 202, 'already answered: a no-op');
    assert.equal((await call).code, 0);
    const act = (await detail(offer.interaction)).activity;
    assert.ok(act.some((a) => /Offer to ned not answered \(rejected\)/.test(a.text)), JSON.stringify(act));
    assert.ok(act.some((a) => a.kind === 'presence' && a.text === 'Agent ned: Available → Missed — rejected'), JSON.stringify(act));
    assert.ok(act.some((a) => a.kind === 'presence' && a.text === 'Agent beth: Available → Busy — inbound call accepted'), JSON.stringify(act));
    await bethEvents.next((m) => m.type === 'presence' && m.to === 'AfterCallWork', 10000);
    assert.equal((await sb.api('POST', '/api/v1/agents/beth/clear', { token: bethTok })).status, 200);
    assert.equal((await sb.api('PUT', '/api/v1/agents/beth/presence', { token: bethTok, body: { status: 'Away', reason: 'Break' } })).status, 200);

    // Accept: ned's phone (no auto-answer support in baresip 1.0) is re-rung
    // with Call-Info answer-after=0; the agent then answers on the device.
    assert.equal((await sb.api('PUT', '/api/v1/agents/ned/presence', { token: nedTok, body: { status: 'Available' } })).status, 200);
    const call2 = sipp(sb, 'caller.xml', { service: '5000', caller: '15550177', pauseMs: 6000 });
    const of = await nedEvents.next((m) => m.type === 'offer' && m.interaction !== offer.interaction, 15000);
    assert.deepEqual(of.caller, { number: '15550177', user_name: null, name: null });
    assert.deepEqual(of.records, []);
    const ac = await control(nedTok, of.interaction, 'accept');
    assert.equal(ac.status, 202, JSON.stringify(ac.body));
    await until('the auto-answer INVITE', async () => new RegExp(`call=${of.interaction} agent=ned action=accept: re-ringing with auto-answer`).test(sb.log) &&
      /action=invite to=.* auto-answer/.test(sb.log));
    await sleep(500);
    await ned.command('accept');
    await presenceEvent('Busy', of.interaction);
    assert.equal((await call2).code, 0);
    await presenceEvent('AfterCallWork', of.interaction);
    assert.equal((await sb.api('POST', '/api/v1/agents/ned/clear', { token: nedTok })).status, 200);

    // Click-to-call when the agent's own phone refuses: FailedConnectAgent, nothing dialled.
    await presenceEvent('Available', of.interaction);
    const far = await farEnd();
    const c = await dial(nedTok, { record: { table: 'user', key: 'amy' } });
    assert.equal(c.status, 202);
    await nedEvents.next((m) => m.type === 'call' && m.interaction === c.body.interaction && m.event === 'agent_ringing', 10000);
    await sleep(300);
    await ned.command('hangup');
    assert.match((await presenceEvent('FailedConnectAgent', c.body.interaction)).reason, /the agent's phone refused|the agent hung up/);
    await presenceEvent('Available', c.body.interaction);
    assert.equal(far.messages(), '', 'the customer was never called');
    far.proc.kill('SIGTERM');
    await far.exited;
  } finally {
    bethEvents.close();
    await beth.stop();
  }
});
