// The browser as a phone (issue 15 points 2 and 4, the server side), without
// the web UI: a blank page on the server's origin runs RTCPeerConnection and
// a WebSocket to /api/v1/events speaking the rtc.* contract
// (docs/WEBRTC.md "Signalling over the event WebSocket") itself. Chromium's
// fake microphone plays Ned's tone; the caller is a baresip playing Amy's
// (lib/tones.mjs), so what each side received shows whom it heard.
// The negative media cases (wrong DTLS fingerprint, SRTP with a bad tag, STUN
// with a bad MESSAGE-INTEGRITY) are tests/unit/test_webrtc.c's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './lib/browser.mjs';
import { toneWav48 as micWav } from './lib/phone.mjs'; // Chromium's fake microphone: Ned's tone
import { Server, tempDir, Baresip, wavInfo } from './lib/setup.mjs';
import { writeConfig } from '../integration/lib/server.mjs';
import { TONES, readWav, toneLevel } from '../integration/lib/tones.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, tok, chromium;
const phones = [];
const until = (what, fn, ms = 20000) => sb.until(what, fn, ms);

// The page's side of the contract: a socket, its messages, a peer
// connection per leg. Runs in the page (page.evaluate).
function phoneScript({ host, token }) {
  const P = window.P = { msgs: [], pcs: {}, waiters: [] };
  P.ws = new WebSocket(`ws://${host}/api/v1/events?access_token=${token}`);
  P.ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    P.msgs.push(m);
    P.waiters = P.waiters.filter((w) => !w());
  };
  P.send = (m) => P.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  // the first message (not taken before) matching type and pred
  P.next = (type, ms = 15000, pred = () => true) => new Promise((ok, fail) => {
    const w = () => {
      const m = P.msgs.find((x) => !x.taken && x.type === type && pred(x));
      if (m) { m.taken = true; ok(m); return true; }
      return false;
    };
    if (w()) return;
    P.waiters.push(w);
    setTimeout(() => fail(new Error(`no ${type} in ${ms} ms: ${JSON.stringify(P.msgs.map((x) => x.type))}`)), ms);
  });
  P.pc = async (leg) => {
    const pc = new RTCPeerConnection();
    const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    for (const t of mic.getTracks()) pc.addTrack(t, mic);
    pc.ontrack = (e) => { // played, so that Chromium measures what arrives
      const a = new Audio();
      a.srcObject = e.streams[0] || new MediaStream([e.track]);
      a.play().catch(() => {});
    };
    if (leg) P.pcs[leg] = pc;
    return pc;
  };
  P.connected = (pc, ms = 15000) => new Promise((ok, fail) => {
    if (pc.connectionState === 'connected') return ok();
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') ok();
      if (pc.connectionState === 'failed') fail(new Error('peer connection failed'));
    };
    setTimeout(() => fail(new Error(`not connected in ${ms} ms: ${pc.connectionState}`)), ms);
  });
  // answers an rtc.offer: the Accept button
  P.answer = async (offer) => {
    const pc = await P.pc(offer.leg);
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    P.send({ type: 'rtc.answer', leg: offer.leg, sdp: pc.localDescription.sdp });
    await P.connected(pc);
    return pc.getSenders()[0].dtmf ? 'dtmf' : 'no dtmf';
  };
  // a browser caller: rtc.call with our offer, the server's answer back
  P.call = async (to) => {
    const pc = await P.pc(null);
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((r) => { // our offer with our candidates
      if (pc.iceGatheringState === 'complete') return r();
      pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') r(); };
      setTimeout(r, 3000);
    });
    const ref = `call-${Date.now()}`;
    P.send({ type: 'rtc.call', ref, to, sdp: pc.localDescription.sdp });
    const reply = await Promise.race([P.next('rtc.answer', 15000, (m) => m.ref === ref),
      P.next('rtc.error', 15000, (m) => m.ref === ref)]);
    if (reply.type === 'rtc.error') { pc.close(); return reply; }
    P.pcs[reply.leg] = pc;
    await pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
    await P.connected(pc);
    return reply;
  };
  // what Chromium learnt from the server's RTCP about what it sends
  P.remoteInbound = async (leg) => {
    let out = null;
    (await P.pcs[leg].getStats()).forEach((s) => {
      if (s.type === 'remote-inbound-rtp' && s.kind === 'audio') out = { rtt: s.roundTripTime, measurements: s.roundTripTimeMeasurements, lost: s.packetsLost, fraction: s.fractionLost, jitter: s.jitter };
    });
    return out;
  };
  P.inbound = async (leg) => {
    let out = null;
    (await P.pcs[leg].getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out = { packets: s.packetsReceived, energy: s.totalAudioEnergy || 0, level: s.audioLevel || 0 };
    });
    return out;
  };
  return new Promise((ok, fail) => { P.ws.onopen = () => ok(true); P.ws.onerror = () => fail(new Error('socket')); });
}

async function browserPhone(user) {
  const page = await chromium.page();
  await page.goto(`${sb.url}/api/v1/health`); // the server's origin: a secure context (loopback)
  await page.evaluate(phoneScript, { host: `127.0.0.1:${sb.port}`, token: tok[user] });
  await page.evaluate(() => P.next('hello'));
  page.user = user;
  return page;
}
async function register(page) {
  await page.evaluate(() => P.send({ type: 'rtc.register' }));
  await page.evaluate(() => P.next('rtc.registered'));
}
async function available(user) {
  const r = await sb.api('PUT', `/api/v1/agents/${user}/presence`, { token: tok[user], body: { status: 'Available' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}
async function away(user) {
  const p = (await sb.api('GET', `/api/v1/agents/${user}/presence`, { token: tok.admin })).body.presence;
  if (p === 'AfterCallWork') await sb.api('POST', `/api/v1/agents/${user}/clear`, { token: tok[user], body: {} });
  await sb.api('PUT', `/api/v1/agents/${user}/presence`, { token: tok[user], body: { status: 'Away', reason: 'Break' } });
}
async function newest() {
  const r = await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok.admin });
  return r.body.interactions[0] || null;
}
async function caller() {
  const amy = await new Baresip(sb, '15550199', { audio: (await import('../integration/lib/tones.mjs')).toneWav(TONES.amy), register: false }).start();
  phones.push(amy);
  await sleep(300);
  await amy.command('dial', `sip:5000@127.0.0.1:${sb.sipPort}`);
  return amy;
}

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'calls:\n  greeting_ms: 300\n  offer_timeout: 8\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
  tok = {};
  for (const u of ['admin', 'ned', 'beth', 'amy', 'mia']) tok[u] = await sb.login(u);
  chromium = await launch({ extraArgs: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${micWav(TONES.ned)}`, '--autoplay-policy=no-user-gesture-required'] });
});
after(async () => {
  while (phones.length) await phones.pop().stop();
  await chromium?.close();
  await sb.stop();
});

test('Ned answers a caller in his browser: audio both ways, the recording has both sides; strangers are refused', async () => {
  const page = await browserPhone('ned');
  const dev = await sb.events(tok.ned);
  await register(page);
  const d = await dev.next((m) => m.type === 'device' && m.registered);
  assert.equal(d.device, 'browser');
  assert.equal((await sb.api('GET', '/api/v1/agents/ned/presence', { token: tok.admin })).body.registered, true);
  await available('ned');
  const prev = (await newest())?.number;
  const amy = await caller();
  const offer = await page.evaluate(() => P.next('rtc.offer', 20000));
  assert.match(offer.sdp, /a=ice-lite/);
  assert.match(offer.sdp, /telephone-event/);
  assert.match(offer.interaction, /^INT/);
  assert.notEqual(offer.interaction, prev);

  // Another user's socket cannot answer Ned's leg: forbidden, counted, nothing changes.
  const beth = await sb.events(tok.beth);
  beth.ws.send(JSON.stringify({ type: 'rtc.answer', ref: 'steal', leg: offer.leg, sdp: 'v=0' }));
  const no = await beth.next((m) => m.type === 'rtc.error' && m.ref === 'steal');
  assert.equal(no.code, 'forbidden');
  // Malformed rtc messages: bad_request, never a crash.
  beth.ws.send('{"type":"rtc.answer","leg":5}');
  assert.equal((await beth.next((m) => m.type === 'rtc.error')).code, 'bad_request');
  beth.ws.send(JSON.stringify({ type: 'rtc.call', ref: 'c', to: 5002, sdp: 'v=0' }));
  assert.equal((await beth.next((m) => m.type === 'rtc.error' && m.ref === 'c')).code, 'bad_request');
  beth.ws.send('{not json');
  assert.match((await beth.next((m) => m.type === 'error')).message, /server-to-client/);
  beth.ws.send(JSON.stringify({ type: 'rtc.dtmf', leg: offer.leg, digits: '1' }));
  assert.equal((await beth.next((m) => m.type === 'rtc.error')).code, 'forbidden');
  // Amy has no agent role: her browser cannot be a phone.
  const amyWs = await sb.events(tok.amy);
  amyWs.ws.send(JSON.stringify({ type: 'rtc.register', ref: 'r' }));
  assert.equal((await amyWs.next((m) => m.type === 'rtc.error' && m.ref === 'r')).code, 'forbidden');
  beth.close();
  amyWs.close();
  const health = (await sb.api('GET', '/api/v1/health')).body.webrtc;
  assert.ok(health.forbidden >= 3, JSON.stringify(health));
  assert.ok(health.bad_request >= 2, JSON.stringify(health));
  assert.match(sb.log, /rtc\.answer refused: leg \d+ is not this socket's \(forbidden\)/);

  await page.evaluate((o) => P.answer(o), offer);
  const ix = await until('Ned has the call', async () => {
    const x = await newest();
    return x && x.number === offer.interaction && x.state === 'work_in_progress' && x.agent === 'ned' ? x : null;
  });
  await sleep(6000);
  const st = await page.evaluate((leg) => P.inbound(leg), offer.leg);
  assert.ok(st && st.packets > 100, `the page received ${JSON.stringify(st)}`);
  assert.ok(st.energy > 0, `inbound audio energy ${JSON.stringify(st)}`);
  assert.equal((await sb.api('GET', '/api/v1/health')).body.webrtc.live_legs, 1);
  // RTCP: the server's reports reach Chromium (remote-inbound-rtp with a
  // round-trip time from our LSR/DLSR), Chromium's reach the server.
  const ri = await until('remote-inbound-rtp with an RTT', async () => {
    const r = await page.evaluate((leg) => P.remoteInbound(leg), offer.leg);
    return r && typeof r.rtt === 'number' ? r : null;
  }, 8000);
  assert.ok(ri.rtt >= 0 && ri.rtt < 0.5, `Chromium's RTT to the server ${JSON.stringify(ri)}`);
  assert.equal(ri.lost, 0, JSON.stringify(ri));
  const roster = (await sb.api('GET', `/api/v1/calls/${offer.interaction}`, { token: tok.admin })).body;
  const q = roster.legs.find((l) => l.quality)?.quality;
  assert.ok(q && q.rx_packets > 100 && q.rx_lost === 0, JSON.stringify(roster));
  assert.ok(q.browser_view && q.browser_view.lost === 0, JSON.stringify(q));
  assert.ok(q.rtt_ms !== null && q.rtt_ms >= 0 && q.rtt_ms < 500, JSON.stringify(q));
  const wh = (await sb.api('GET', '/api/v1/health')).body.webrtc;
  assert.ok(wh.rtcp_in >= 1 && wh.rtcp_out >= 1 && wh.rtcp_bad === 0, JSON.stringify(wh));

  // Ned hangs up in the browser: the call ends as on a SIP phone's BYE.
  await page.evaluate((leg) => P.send({ type: 'rtc.hangup', leg }), offer.leg);
  await until('wrap-up', async () => (await sb.api('GET', '/api/v1/agents/ned/presence', { token: tok.admin })).body.presence === 'AfterCallWork');
  await sleep(500);
  assert.match(sb.log, /action=rtcp at end: from browser \d+ packets lost 0 /);
  const wavs = amy.receivedWavs();
  assert.equal(wavs.length, 1);
  const heardByAmy = readWav(wavs[0]);
  const len = heardByAmy.samples.length / heardByAmy.rate;
  const nedLevel = toneLevel(heardByAmy, TONES.ned, len - 3.5, len - 0.5);
  assert.ok(nedLevel > 0.02, `the caller hears Ned's browser: ${nedLevel}`);
  const wav = join(sb.dataDir, 'recordings', `${ix.number}.wav`);
  await until('the recording', async () => existsSync(wav) && wavInfo(wav).seconds > 3);
  const cust = readWav(wav, 0), agent = readWav(wav, 1);
  const rl = cust.samples.length / cust.rate;
  assert.ok(toneLevel(cust, TONES.amy, 1, rl - 0.5) > 0.02, 'the customer channel has Amy');
  assert.ok(toneLevel(agent, TONES.ned, 1, rl - 0.5) > 0.02, 'the other channel has Ned\'s browser');
  assert.ok(wavInfo(wav, 1).rms > 0.01 && wavInfo(wav, 2).rms > 0.01);
  await away('ned');
  await page.close();
  await until('unregistered', async () => !(await sb.api('GET', '/api/v1/agents/ned/presence', { token: tok.admin })).body.registered);
  dev.close();
});

test('a browser closed while its offer rings: the call goes to the next agent\'s browser', async () => {
  const ned = await browserPhone('ned');
  const beth = await browserPhone('beth');
  await register(ned);
  await register(beth);
  await available('ned');
  await available('beth');
  await caller();
  // whichever browser rings first (routing's choice) closes its tab mid-offer
  let first = null;
  for (const t0 = Date.now(); !first && Date.now() - t0 < 20000; await sleep(100)) {
    for (const p of [ned, beth]) {
      if (!first && await p.evaluate(() => P.msgs.some((m) => m.type === 'rtc.offer'))) first = p;
    }
  }
  assert.ok(first, 'a browser rang');
  const second = first === ned ? beth : ned;
  await first.close(); // the tab closes mid-offer
  const offer = await second.evaluate(() => P.next('rtc.offer', 20000));
  await second.evaluate((o) => P.answer(o), offer);
  const x = await until(`${second.user} has the call`, async () => {
    const i = await newest();
    return i && i.number === offer.interaction && i.state === 'work_in_progress' && i.agent === second.user ? i : null;
  });
  assert.match(sb.log, new RegExp(`leg=\\d+ action=the browser's socket closed`));
  const d = (await sb.api('GET', `/api/v1/interactions/${x.number}`, { token: tok.admin })).body;
  assert.ok(d.activity.some((a) => a.text.includes(first.user)), 'the first agent missed it');
  await sleep(1500);
  await second.evaluate((leg) => P.send({ type: 'rtc.hangup', leg }), offer.leg);
  await until('wrap-up', async () => (await sb.api('GET', `/api/v1/agents/${second.user}/presence`, { token: tok.admin })).body.presence === 'AfterCallWork');
  await away('ned');
  await away('beth');
  await second.close();
  while (phones.length) await phones.pop().stop();
});

test('Amy calls the demo flow from her browser and presses 2 for billing', async () => {
  const page = await browserPhone('amy');
  const bad = await page.evaluate(() => P.call('9999'));
  assert.equal(bad.type, 'rtc.error');
  assert.equal(bad.code, 'not_found');
  const prev = (await newest())?.number;
  const reply = await page.evaluate(() => P.call('5002'));
  assert.equal(reply.type, 'rtc.answer', JSON.stringify(reply));
  assert.match(reply.sdp, /telephone-event/);
  const ix = await until('the flow runs', async () => {
    const i = await newest();
    return i && i.number !== prev ? i : null;
  });
  // the caller's number is Amy's phone (a user without one: "browser:<user_name>")
  assert.match(sb.log, /action=answered from=\S.* did=5002 flow=main via=browser/);
  await sleep(2500); // the greeting, then the bot asks
  await page.evaluate((leg) => P.send({ type: 'rtc.dtmf', leg, digits: '2' }), reply.leg);
  await until('Amy waits in Billing', async () => {
    const d = (await sb.api('GET', `/api/v1/interactions/${ix.number}`, { token: tok.admin })).body;
    return d.queue === 'Billing' ? d : null;
  });
  const st = await page.evaluate((leg) => P.inbound(leg), reply.leg);
  assert.ok(st && st.energy > 0, `Amy hears the flow: ${JSON.stringify(st)}`);
  await page.evaluate((leg) => P.send({ type: 'rtc.hangup', leg }), reply.leg);
  await until('the call ends', async () => {
    const d = (await sb.api('GET', `/api/v1/interactions/${ix.number}`, { token: tok.admin })).body;
    return d.state !== 'new' && d.state !== 'queued' ? d : null;
  });
  await page.close();
});

test('click-to-call, a warm transfer with both agents on browsers, a manager listening in her browser', async () => {
  const ned = await browserPhone('ned');
  const beth = await browserPhone('beth');
  await register(ned);
  await register(beth);
  const presence = async (u) => (await sb.api('GET', `/api/v1/agents/${u}/presence`, { token: tok.admin })).body.presence;

  // Click-to-call: Ned's browser rings first (auto-answer: he asked for the call), then the
  // demo's built-in customer answers.
  await available('ned');
  let r = await sb.api('POST', '/api/v1/calls', { token: tok.ned, body: { record: { table: 'user', key: 'amy' } } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const out = r.body.interaction;
  let offer = await ned.evaluate(() => P.next('rtc.offer', 15000));
  assert.equal(offer.auto_answer, true);
  assert.equal(offer.interaction, out);
  await ned.evaluate((o) => P.answer(o), offer);
  await until('Ned talks to the customer', async () => (await presence('ned')) === 'Busy');
  await sleep(2000);
  const ctc = await ned.evaluate((leg) => P.inbound(leg), offer.leg);
  assert.ok(ctc && ctc.packets > 50, `click-to-call: Ned's browser receives ${JSON.stringify(ctc)}`);
  assert.equal((await sb.api('POST', `/api/v1/calls/${out}/end`, { token: tok.ned })).status, 202);
  const end = await ned.evaluate(() => P.next('rtc.end', 10000));
  assert.equal(end.leg, offer.leg);
  await until('Ned in wrap-up', async () => (await presence('ned')) === 'AfterCallWork');
  await sb.api('POST', '/api/v1/agents/ned/clear', { token: tok.ned, body: {} });

  // A caller reaches Ned's browser; Ned consults Beth (her browser rings), she joins, he leaves.
  await available('ned');
  await caller();
  offer = await ned.evaluate(() => P.next('rtc.offer', 20000));
  await ned.evaluate((o) => P.answer(o), offer);
  const ix = offer.interaction;
  await until('Ned has the call', async () => (await presence('ned')) === 'Busy');
  await available('beth');
  r = await sb.api('POST', `/api/v1/calls/${ix}/transfer`, { token: tok.ned, body: { to: { agent: 'beth' }, note: 'billing' } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const consult = await beth.evaluate(() => P.next('rtc.offer', 15000));
  assert.equal(consult.interaction, ix);
  await beth.evaluate((o) => P.answer(o), consult);
  await sleep(1500);
  r = await sb.api('POST', `/api/v1/calls/${ix}/join`, { token: tok.beth });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await sb.api('POST', `/api/v1/calls/${ix}/leave`, { token: tok.ned });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.call.agent, 'beth');
  assert.equal((await ned.evaluate(() => P.next('rtc.end', 10000))).leg, offer.leg);
  await sleep(2000);
  const st = await beth.evaluate((leg) => P.inbound(leg), consult.leg);
  assert.ok(st && st.packets > 100 && st.energy > 0, `Beth's browser hears the caller: ${JSON.stringify(st)}`);

  // Mia (a manager) listens in from her browser: the monitoring leg rings it with auto-answer.
  const mia = await browserPhone('mia');
  await register(mia);
  r = await sb.api('POST', `/api/v1/calls/${ix}/monitor`, { token: tok.mia, body: { mode: 'listen' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const mon = await mia.evaluate(() => P.next('rtc.offer', 15000));
  assert.equal(mon.auto_answer, true);
  await mia.evaluate((o) => P.answer(o), mon);
  await until('Mia on the call', async () => (await sb.api('GET', `/api/v1/calls/${ix}`, { token: tok.mia })).body.legs
    .some((l) => l.role === 'supervisor' && l.user_name === 'mia' && l.state === 'up'));
  await sleep(2000);
  const heardByMia = await mia.evaluate((leg) => P.inbound(leg), mon.leg);
  assert.ok(heardByMia && heardByMia.energy > 0, `Mia hears the call: ${JSON.stringify(heardByMia)}`);
  r = await sb.api('POST', `/api/v1/calls/${ix}/monitor`, { token: tok.mia, body: { mode: 'stop' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await mia.evaluate(() => P.next('rtc.end', 10000))).leg, mon.leg);
  await mia.close();

  await beth.evaluate((leg) => P.send({ type: 'rtc.hangup', leg }), consult.leg);
  await until('Beth in wrap-up', async () => (await presence('beth')) === 'AfterCallWork');
  const d = (await sb.api('GET', `/api/v1/interactions/${ix}`, { token: tok.admin })).body;
  assert.equal(d.agent, 'beth');
  await away('ned');
  await away('beth');
  await ned.close();
  await beth.close();
});
