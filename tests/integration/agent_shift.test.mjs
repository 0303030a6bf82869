// What an agent's shift needs (issue 10): Accept reserves the offered call
// for the agent, so a late Accept is not lost to the first ring's timeout;
// the phone's registration is pushed live and survives a restart; a call
// leg that sends no audio is reported instead of silently one-way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { Baresip, farEnd, freeUdpPort, sipp, waitRegistered } from './lib/peers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const OFFER_S = 4;
let sb, admin, nedTok, nedEvents, ned, farPort;

before(async () => {
  farPort = await freeUdpPort();
  const cfg = writeConfig(tempDir('sb-cfg-'), `calls:\n  greeting_ms: 300\n  offer_timeout: ${OFFER_S}\n`
    + `  outbound_uri: "sip:127.0.0.1:${farPort}"\n  dial_timeout: 8\n`);
  sb = await new Server({ args: ['--config', cfg] }).start();
  admin = await sb.login('admin');
  nedTok = await sb.login('ned');
  nedEvents = await sb.events(nedTok);
  ned = await new Baresip(sb, 'ned', { answer: 'manual' }).start();
  await waitRegistered(sb, admin, 'ned');
});
after(async () => {
  nedEvents?.close();
  await ned?.stop();
  await sb.stop();
});

const presenceEvent = (to, number) => nedEvents.next((m) => m.type === 'presence' && m.user_name === 'ned'
  && m.to === to && (!number || m.interaction === number), 20000);

test('Accept late in an offer: the phone gets a new ring window, the agent is not Missed', async () => {
  assert.equal((await sb.api('PUT', '/api/v1/agents/ned/presence', { token: nedTok, body: { status: 'Available' } })).status, 200);
  const call = sipp(sb, 'caller.xml', { service: '5000', caller: '15550177', pauseMs: 8000 });
  const offer = await nedEvents.next((m) => m.type === 'offer', 15000);
  const t0 = Date.now();
  await sleep((OFFER_S - 1) * 1000); // three quarters into the ring
  const ac = await sb.api('POST', `/api/v1/calls/${offer.interaction}/accept`, { token: nedTok });
  assert.equal(ac.status, 202, JSON.stringify(ac.body));
  // Past the first ring's deadline, the re-rung phone is answered on the device.
  await sleep(OFFER_S * 1000 - (Date.now() - t0) + 1500);
  assert.ok(!nedEvents.messages.some((m) => m.type === 'presence' && m.to === 'Missed'),
    `ned went Missed after Accept:\n${sb.log.slice(-3000)}`);
  await ned.command('accept');
  await presenceEvent('Busy', offer.interaction);
  assert.equal((await call).code, 0);
  await presenceEvent('AfterCallWork', offer.interaction);
  const act = (await sb.api('GET', `/api/v1/interactions/${offer.interaction}`, { token: admin })).body.activity;
  assert.ok(!act.some((a) => /not answered/.test(a.text)), JSON.stringify(act));
  assert.equal((await sb.api('POST', '/api/v1/agents/ned/clear', { token: nedTok })).status, 200);
});

test('an Accepted offer the phone never answers ends after its own ring window, with the reason', async () => {
  await presenceEvent('Available');
  const call = sipp(sb, 'caller.xml', { service: '5000', caller: '15550178', pauseMs: 14000, timeoutS: 40 });
  const offer = await nedEvents.next((m) => m.type === 'offer' && m.caller?.number === '15550178', 15000);
  await sleep(1000);
  assert.equal((await sb.api('POST', `/api/v1/calls/${offer.interaction}/accept`, { token: nedTok })).status, 202);
  const t = Date.now();
  const missed = await presenceEvent('Missed');
  const waited = Date.now() - t;
  assert.ok(waited >= (OFFER_S - 0.5) * 1000, `Missed ${waited} ms after Accept: the window did not restart`);
  assert.match(missed.reason, /accepted, but the phone did not answer/);
  await call;
});

test('phone registration is pushed as it happens: device events on register and unregister', async () => {
  const bethTok = await sb.login('beth');
  const ev = await sb.events(bethTok);
  try {
    const beth = await new Baresip(sb, 'beth').start();
    const on = await ev.next((m) => m.type === 'device' && m.user_name === 'beth', 10000);
    assert.equal(on.registered, true);
    assert.equal(on.reason, 'registered');
    assert.equal((await sb.api('GET', '/api/v1/agents/beth/presence', { token: bethTok })).body.registered, true);
    await beth.stop(); // baresip un-REGISTERs on exit
    const off = await ev.next((m) => m.type === 'device' && m.user_name === 'beth' && !m.registered, 10000);
    assert.equal(off.reason, 'unregistered');
    assert.equal((await sb.api('GET', '/api/v1/agents/beth/presence', { token: bethTok })).body.registered, false);
    // Another agent's device is not in beth's stream; a manager sees every one.
    assert.ok(!ev.messages.some((m) => m.type === 'device' && m.user_name !== 'beth'));
  } finally {
    ev.close();
  }
});

test('registrations survive a restart: the agent stays reachable without re-registering', async () => {
  // ned's phone registered once (regint 600 s); the server restarts under it.
  assert.equal((await sb.api('GET', '/api/v1/agents/ned/presence', { token: admin })).body.registered, true);
  nedEvents.close();
  const { dataDir, port, sipPort, args } = sb;
  await sb.stop({ keep: true });
  sb = new Server({ dataDir, args });
  sb.port = port;
  sb.sipPort = sipPort;
  await sb.start();
  assert.match(sb.log, /agent=ned action=registration restored/);
  admin = await sb.login('admin');
  nedTok = await sb.login('ned');
  nedEvents = await sb.events(nedTok);
  assert.equal((await sb.api('GET', '/api/v1/agents/ned/presence', { token: admin })).body.registered, true);
  // And a call reaches that phone: it rings (offer), ned answers on the device.
  if ((await sb.api('GET', '/api/v1/agents/ned/presence', { token: admin })).body.presence !== 'Available') {
    await sb.api('POST', '/api/v1/agents/ned/clear', { token: nedTok });
    await sb.api('PUT', '/api/v1/agents/ned/presence', { token: nedTok, body: { status: 'Available' } });
  }
  const call = sipp(sb, 'caller.xml', { service: '5000', caller: '15550179', pauseMs: 3000 });
  const offer = await nedEvents.next((m) => m.type === 'offer', 15000);
  await sleep(500);
  await ned.command('accept');
  await presenceEvent('Busy', offer.interaction);
  assert.equal((await call).code, 0);
});

test('a customer who sends no audio: the activity and the agent\'s softphone say so within seconds', async () => {
  await presenceEvent('AfterCallWork');
  assert.equal((await sb.api('POST', '/api/v1/agents/ned/clear', { token: nedTok })).status, 200);
  await presenceEvent('Available');
  // The far end answers and stays silent (no RTP) for 8 s, then hangs up.
  const far = await farEnd(farPort, { scenario: 'uas_answer_bye.xml', pauseMs: 8000 });
  const r = await sb.api('POST', '/api/v1/calls', { token: nedTok, body: { record: { table: 'user', key: 'amy' } } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const num = r.body.interaction;
  await nedEvents.next((m) => m.type === 'call' && m.interaction === num && m.event === 'agent_ringing', 10000);
  await sleep(300);
  await ned.command('accept'); // baresip 1.0 ignores the auto-answer header
  await presenceEvent('Busy', num);
  const t = Date.now();
  const warn = await nedEvents.next((m) => m.type === 'call' && m.interaction === num && m.event === 'no_audio', 10000);
  assert.equal(warn.detail, 'customer');
  assert.ok(Date.now() - t < 7000, 'told within a few seconds of the answer');
  const act = (await sb.api('GET', `/api/v1/interactions/${num}`, { token: admin })).body.activity;
  assert.ok(act.some((a) => a.kind === 'call' && /No audio from the customer for 4 s/.test(a.text)), JSON.stringify(act));
  assert.ok(!act.some((a) => /No audio from the agent/.test(a.text)), 'the agent\'s phone sends audio');
  assert.match(sb.log, /action=no audio from the customer/);

  // Notes during the call (issue 10), longer than the old 255 characters.
  const long = `The customer asked about the router again. ${'x'.repeat(700)} End.`;
  const note = (token, body, n = num) => sb.api('POST', `/api/v1/interactions/${n}/notes`, { token, body });
  const added = await note(nedTok, { text: long });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  assert.equal(added.body.text, long);
  assert.equal(added.body.actor, 'ned');
  assert.equal((await note(nedTok, { text: '   ' })).status, 400);
  assert.equal((await note(nedTok, { text: 'y'.repeat(2001) })).status, 400);
  assert.equal((await note(nedTok, { text: 'hi', mood: 1 })).status, 400);
  const bethTok = await sb.login('beth');
  const notYours = await note(bethTok, { text: 'not my call' });
  assert.equal(notYours.status, 404, 'another agent cannot write on ned\'s interaction');
  assert.equal((await note(admin, { text: 'A manager was here.' })).status, 201);
  assert.equal((await note(nedTok, { text: 'x' }, 'INT9999999')).status, 404);
  const acts = (await sb.api('GET', `/api/v1/interactions/${num}`, { token: admin })).body.activity;
  assert.ok(acts.some((a) => a.kind === 'note' && a.text === long && a.actor === 'ned'), 'the whole note is stored');
  await presenceEvent('AfterCallWork', num); // the far end hangs up
  await far.exited;
  const wrap = `Wrap-up: ${'w'.repeat(1500)}`;
  const cl = await sb.api('POST', '/api/v1/agents/ned/clear', { token: nedTok, body: { note: wrap, wrap_up_code: 'Resolved' } });
  assert.equal(cl.status, 200, JSON.stringify(cl.body));
  const after = (await sb.api('GET', `/api/v1/interactions/${num}`, { token: admin })).body.activity;
  assert.ok(after.some((a) => a.kind === 'note' && a.text === `Wrap-up code: Resolved. ${wrap}`), 'a long wrap-up note is stored whole');
  assert.equal((await note(nedTok, { text: 'too late' })).status, 404, 'closed: no more notes');
});

test('a customer\'s history by number: every agent sees it, with the latest note (issue 10)', async () => {
  const bethTok = await sb.login('beth');
  const h = await sb.api('GET', `/api/v1/interactions?phone=${encodeURIComponent('+1 555 0199')}`, { token: bethTok });
  assert.equal(h.status, 200, JSON.stringify(h.body));
  assert.ok(h.body.interactions.length >= 1, 'amy\'s call by ned is in her history');
  const last = h.body.interactions[0];
  assert.equal(last.agent, 'ned');
  assert.equal(last.direction, 'outbound');
  assert.match(last.last_note, /^Wrap-up code: Resolved\. Wrap-up: w+$/);
  assert.equal([...last.last_note].length, 159, 'cut to 159 characters');
  // The same digits written another way find the same calls; other numbers do not.
  const digits = await sb.api('GET', '/api/v1/interactions?phone=15550199', { token: bethTok });
  assert.deepEqual(digits.body.interactions.map((i) => i.number), h.body.interactions.map((i) => i.number));
  const other = await sb.api('GET', '/api/v1/interactions?phone=15550177', { token: bethTok });
  assert.ok(other.body.interactions.every((i) => i.caller_number.replace(/\D/g, '') === '15550177'));
  // Without a number an agent still sees only their own; a bad number is 400.
  assert.equal((await sb.api('GET', '/api/v1/interactions', { token: bethTok })).body.interactions.length, 0);
  assert.equal((await sb.api('GET', '/api/v1/interactions?phone=ab', { token: bethTok })).status, 400);
});
