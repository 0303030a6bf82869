// Voice core (issue 3) with real SIP peers: sipp callers and baresip agents
// that register with digest auth and auto-answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { Baresip, sipp, sendRaw, waitRegistered, wavInfo } from './lib/peers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, tok;

const until = (what, fn, timeoutMs = 15000) => sb.until(what, fn, timeoutMs);

async function presence(user) {
  return (await sb.api('GET', `/api/v1/agents/${user}/presence`, { token: tok.admin })).body;
}
async function setPresence(user, status, reason) {
  const body = reason ? { status, reason } : { status };
  const r = await sb.api('PUT', `/api/v1/agents/${user}/presence`, { token: tok[user], body });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}
async function latest() {
  const r = await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok.admin });
  return r.body.interactions[0];
}
async function detail(number) {
  return (await sb.api('GET', `/api/v1/interactions/${number}`, { token: tok.admin })).body;
}
async function clear(user) {
  const r = await sb.api('POST', `/api/v1/agents/${user}/clear`, { token: tok[user] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'calls:\n  greeting_ms: 600\n  offer_timeout: 3\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
  tok = {};
  for (const u of ['admin', 'mia', 'ned', 'beth', 'carl']) tok[u] = await sb.login(u);
});
after(async () => { await sb.stop(); });

test('wrong digest gets 401, the right one registers', async () => {
  const bad = await sipp(sb, 'register.xml', { user: 'ned', password: 'wrong-pass', expect: 401 });
  assert.equal(bad.code, 0, bad.out);
  const unknown = await sipp(sb, 'register.xml', { user: 'nobody', password: 'x', expect: 401 });
  assert.equal(unknown.code, 0, unknown.out);
  assert.equal((await presence('ned')).registered, false);
  const ok = await sipp(sb, 'register.xml', { user: 'ned', password: 'demo-pass', expect: 200 });
  assert.equal(ok.code, 0, ok.out);
  assert.equal((await presence('ned')).registered, true);
});

test('an unknown number gets 404 with a reason; OPTIONS is answered', async () => {
  const r = await sipp(sb, 'refused.xml', { service: '9999', expect: 404 });
  assert.equal(r.code, 0, r.out);
  assert.match(r.messages, /SIP\/2.0 404 No such number/);
  const o = await sipp(sb, 'options.xml', {});
  assert.equal(o.code, 0, o.out);
});

test('a trunk from another address must authenticate: 407, then 200 or 403', async () => {
  // 127.0.0.2 is not the loopback trunk's address; "carrier" authenticates.
  const none = await sipp(sb, 'refused.xml', { service: '5000', expect: 407, ip: '127.0.0.2' });
  assert.equal(none.code, 0, none.out);
  assert.match(none.messages, /Proxy-Authenticate: Digest realm="switchboard"/);
  const wrong = await sipp(sb, 'refused_auth.xml', { service: '5000', expect: 403, ip: '127.0.0.2',
    user: 'carrier', password: 'not-it' });
  assert.equal(wrong.code, 0, wrong.out);
  const ok = await sipp(sb, 'caller_auth.xml', { service: '5000', ip: '127.0.0.2', pauseMs: 200,
    user: 'carrier', password: 'trunk-pass' });
  assert.equal(ok.code, 0, ok.out);
  const ix = await until('closed', async () => {
    const x = await latest();
    return x && x.state !== 'new' ? x : null;
  });
  assert.equal(ix.state, 'closed_complete');
});

test('admins manage dialled numbers and trunks; the next call sees the change', async () => {
  const put = (path, body, token = tok.admin) => sb.api('PUT', path, { token, body });
  // Only admins.
  assert.equal((await sb.api('GET', '/api/v1/numbers', { token: tok.mia })).status, 403);
  assert.equal((await put('/api/v1/numbers/6000', { queue: 'Billing' }, tok.ned)).status, 403);
  // A new number leads to Billing; the call is answered and queued there.
  assert.equal((await sipp(sb, 'refused.xml', { service: '6000', expect: 404 })).code, 0);
  const bad = await put('/api/v1/numbers/6000', { queue: 'Nope' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /no queue named 'Nope'/);
  assert.equal((await put('/api/v1/numbers/60%2000', { queue: 'Billing' })).status, 400);
  const ok = await put('/api/v1/numbers/6000', { queue: 'Billing' });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body, { number: '6000', queue: 'Billing' });
  assert.equal(sb.sql("SELECT q.name FROM numbers n JOIN queues q ON q.id = n.queue_id WHERE did = '6000'"), 'Billing');
  const list = (await sb.api('GET', '/api/v1/numbers', { token: tok.admin })).body.numbers;
  assert.ok(list.some((n) => n.number === '5000' && n.queue === 'Support'));
  const call = await sipp(sb, 'caller.xml', { service: '6000', pauseMs: 1500 });
  assert.equal(call.code, 0, call.out);
  const ix = await until('abandoned in Billing', async () => {
    const x = await latest();
    return x && x.state !== 'new' ? x : null;
  });
  assert.equal(ix.queue, 'Billing');
  assert.equal((await sb.api('DELETE', '/api/v1/numbers/6000', { token: tok.admin })).status, 200);
  assert.equal((await sb.api('DELETE', '/api/v1/numbers/6000', { token: tok.admin })).status, 404);
  assert.equal((await sipp(sb, 'refused.xml', { service: '6000', expect: 404 })).code, 0);
  // A trunk by address: 127.0.0.3 is refused (407), then accepted once it is a trunk.
  assert.equal((await sipp(sb, 'refused.xml', { service: '5000', expect: 407, ip: '127.0.0.3' })).code, 0);
  const tb = await put('/api/v1/trunks/office', { address: '127.0.0.3', sip_ha1: 'x' });
  assert.equal(tb.status, 400);
  assert.match(tb.body.message, /unknown field 'sip_ha1'/);
  const t = await put('/api/v1/trunks/office', { address: '127.0.0.3' });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  assert.deepEqual(t.body, { name: 'office', address: '127.0.0.3', username: '', has_password: false });
  const inCall = await sipp(sb, 'caller.xml', { service: '5000', pauseMs: 200, ip: '127.0.0.3' });
  assert.equal(inCall.code, 0, inCall.out);
  const trunks = (await sb.api('GET', '/api/v1/trunks', { token: tok.admin })).body.trunks;
  assert.ok(trunks.some((x) => x.name === 'carrier' && x.has_password && x.username === 'carrier'));
  assert.ok(!JSON.stringify(trunks).includes(sb.sql("SELECT sip_ha1 FROM trunks WHERE name = 'carrier'")));
  assert.equal((await sb.api('DELETE', '/api/v1/trunks/office', { token: tok.admin })).status, 200);
  assert.equal((await sipp(sb, 'refused.xml', { service: '5000', expect: 407, ip: '127.0.0.3' })).code, 0);
});

test('caller hangs up before the queue: Closed Complete', async () => {
  const r = await sipp(sb, 'caller.xml', { service: '5000', pauseMs: 200 });
  assert.equal(r.code, 0, r.out);
  const ix = await until('closed', async () => {
    const x = await latest();
    return x && x.state !== 'new' ? x : null;
  });
  assert.equal(ix.state, 'closed_complete');
  assert.equal(ix.direction, 'inbound');
  assert.equal(ix.caller_number, '15550199');
});

test('caller hangs up while queued: Closed Abandoned', async () => {
  // Nobody is Available: the caller waits in Support, then hangs up.
  const call = sipp(sb, 'caller.xml', { service: '5000', pauseMs: 2500 });
  const live = await until('waiting in Support', async () => {
    const qs = (await sb.api('GET', '/api/v1/queues', { token: tok.mia })).body.queues;
    const q = qs.find((x) => x.name === 'Support');
    return q.live.waiting === 1 && q.live.longest_wait_seconds >= 1 ? q.live : null;
  });
  assert.equal(live.agents_available, 0);
  const r = await call;
  assert.equal(r.code, 0, r.out);
  const ix = await until('abandoned', async () => {
    const x = await latest();
    return x && x.state !== 'new' ? x : null;
  });
  assert.equal(ix.state, 'closed_abandoned');
  assert.equal(ix.queue, 'Support');
});

test('a call reaches the longest-idle registered agent; hold and resume; audio both ways is recorded', async () => {
  const ned = await new Baresip(sb, 'ned').start();
  const beth = await new Baresip(sb, 'beth').start();
  try {
    await waitRegistered(sb, tok.admin, 'ned');
    await waitRegistered(sb, tok.admin, 'beth');
    await setPresence('beth', 'Available');
    await sleep(50);
    await setPresence('ned', 'Available'); // beth has been idle longer
    const mgr = await sb.events(tok.mia);
    const own = await sb.events(tok.beth);
    const call = sipp(sb, 'caller.xml', { service: '5000', pauseMs: 7000 });
    const ix = await until('assigned', async () => {
      const x = await latest();
      return x && x.state === 'work_in_progress' ? x : null;
    });
    assert.equal(ix.agent, 'beth');
    assert.equal((await presence('beth')).presence, 'Busy');
    assert.equal((await presence('ned')).presence, 'Available');
    // Call events: the manager sees the interaction assigned, beth her own Busy.
    await mgr.next((m) => m.type === 'interaction' && m.number === ix.number && m.to === 'work_in_progress' && m.agent === 'beth');
    await own.next((m) => m.type === 'presence' && m.to === 'Busy' && m.interaction === ix.number);
    // The agent's phone holds (re-INVITE sendonly): the caller hears music; then resumes.
    await beth.command('hold');
    await until('hold', async () => sb.log.includes(`call=${ix.number} agent=beth action=hold`));
    await beth.command('resume');
    await until('resume', async () => sb.log.includes(`call=${ix.number} agent=beth action=resume`));
    const r = await call;
    assert.equal(r.code, 0, r.out);
    await until('after call work', async () => (await presence('beth')).presence === 'AfterCallWork');
    const d = await detail(ix.number);
    assert.ok(d.activity.some((a) => a.kind === 'recording' && a.text.includes(`/api/v1/interactions/${ix.number}/recording`)));
    const wav = join(sb.dataDir, 'recordings', `${ix.number}.wav`);
    await until('recording file', async () => existsSync(wav) && wavInfo(wav).seconds > 0);
    const all = wavInfo(wav);
    const left = wavInfo(wav, 1);
    const right = wavInfo(wav, 2);
    assert.ok(all.seconds > 4 && all.seconds < 12, `recording length ${all.seconds}s`);
    assert.ok(left.rms > 0.01, `caller channel RMS ${left.rms}`);
    assert.ok(right.rms > 0.01, `agent channel RMS ${right.rms}`);
    // Only the assigned agent and managers may fetch it, with Range.
    const got = await fetch(`${sb.url}/api/v1/interactions/${ix.number}/recording`, {
      headers: { authorization: `Bearer ${tok.beth}`, range: 'bytes=0-43' } });
    assert.equal(got.status, 206);
    assert.equal((await got.arrayBuffer()).byteLength, 44);
    assert.match(got.headers.get('content-range'), /^bytes 0-43\/\d+$/);
    const denied = await sb.api('GET', `/api/v1/interactions/${ix.number}/recording`, { token: tok.ned });
    assert.equal(denied.status, 404);
    const mia = await fetch(`${sb.url}/api/v1/interactions/${ix.number}/recording`, { headers: { authorization: `Bearer ${tok.mia}` } });
    assert.equal(mia.status, 200);
    assert.equal(mia.headers.get('content-type'), 'audio/wav');
    await clear('beth');
    const closed = await detail(ix.number);
    assert.equal(closed.state, 'closed_complete');
    // The recording URL goes with every status change after it started.
    const url = `/api/v1/interactions/${ix.number}/recording`;
    const last = closed.activity.filter((a) => a.kind === 'state').at(-1);
    assert.match(last.text, /Closed Complete/);
    assert.ok(last.text.includes(`recording: ${url}`), last.text);
    mgr.close(); own.close();
  } finally {
    await ned.stop();
    await beth.stop();
  }
});

test('a missed offer goes to the next agent; the first becomes Missed', async () => {
  const ned = await new Baresip(sb, 'ned', { answer: 'manual' }).start(); // rings, never answers
  const beth = await new Baresip(sb, 'beth').start();
  try {
    await waitRegistered(sb, tok.admin, 'ned');
    await waitRegistered(sb, tok.admin, 'beth');
    await setPresence('ned', 'Away', 'Reset');
    await setPresence('ned', 'Available');
    await sleep(50);
    await setPresence('beth', 'Away', 'Reset');
    await setPresence('beth', 'Available');
    const call = sipp(sb, 'caller.xml', { service: '5000', pauseMs: 6000 });
    const ix = await until('assigned', async () => {
      const x = await latest();
      return x && x.state === 'work_in_progress' ? x : null;
    }, 20000);
    assert.equal(ix.agent, 'beth');
    assert.equal((await presence('ned')).presence, 'Missed');
    const d = await detail(ix.number);
    assert.ok(d.activity.some((a) => a.kind === 'offer' && /ned not answered/.test(a.text)));
    assert.equal((await call).code, 0);
    await until('acw', async () => (await presence('beth')).presence === 'AfterCallWork');
    await clear('beth');
  } finally {
    await ned.stop();
    await beth.stop();
  }
});

test('an agent without the role pair, or without a registered phone, is never offered', async () => {
  const carl = await new Baresip(sb, 'carl').start();
  try {
    await waitRegistered(sb, tok.admin, 'carl');
    // carl goes Available with the pair, then loses a role while Available.
    await sb.api('PUT', '/api/v1/users/carl/roles/awa_integration_user', { token: tok.admin });
    await setPresence('carl', 'Available');
    await sb.api('DELETE', '/api/v1/users/carl/roles/awa_integration_user', { token: tok.admin });
    // beth has the roles and is Available, but her phone is unregistered.
    const un = await sipp(sb, 'register.xml', { user: 'beth', password: 'demo-pass', expect: 200, expires: 0 });
    assert.equal(un.code, 0, un.out);
    assert.equal((await presence('beth')).registered, false);
    await setPresence('beth', 'Away', 'x');
    await setPresence('beth', 'Available');
    await setPresence('ned', 'Away', 'Not in Billing today');
    const mark = sb.log.length;
    const r = await sipp(sb, 'caller.xml', { service: '5001', pauseMs: 2500 }); // Billing: beth, carl, ned
    assert.equal(r.code, 0, r.out);
    const ix = await until('closed', async () => {
      const x = await latest();
      return x && x.state !== 'new' ? x : null;
    });
    assert.equal(ix.state, 'closed_abandoned');
    assert.equal(ix.agent, null);
    assert.doesNotMatch(sb.log.slice(mark), /action=offer/, 'nobody may be offered');
  } finally {
    await carl.stop();
  }
});

test('malformed SIP over UDP and TCP never crashes the server', async () => {
  const corpus = [
    'INVITE sip:5000@127.0.0.1 SIP/2.0\r\n\r\n',
    'INVITE sip:5000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nContent-Length: 99999\r\n\r\nv=0',
    'REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: garbage\r\nFrom: <>\r\nTo: <>\r\nCall-ID: \r\nCSeq: x\r\n\r\n',
    '\x00\x01\x02\x03\xff\xfe'.repeat(200),
    'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKnope\r\nCall-ID: none\r\nCSeq: 1 INVITE\r\n\r\n',
    'OPTIONS sip:x SIP/2.0\r\n' + 'X-Long: ' + 'a'.repeat(60000) + '\r\n\r\n',
    `INVITE sip:5000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:5000@127.0.0.1>\r\nCall-ID: bad-sdp-1\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:5999>\r\nContent-Type: application/sdp\r\nContent-Length: 20\r\n\r\nv=0\r\nm=audio x RTP\r\n`,
  ];
  await sendRaw(sb.sipPort, corpus, 'udp');
  await sendRaw(sb.sipPort, corpus, 'tcp');
  await sleep(500);
  const o = await sipp(sb, 'options.xml', {});
  assert.equal(o.code, 0, o.out);
  assert.equal((await sb.api('GET', '/api/v1/health')).status, 200);
});

test('no capacity: a call beyond max_calls gets 503 Over capacity, the others go on', async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'sip:\n  max_calls: 1\ncalls:\n  greeting_ms: 300\n');
  const small = await new Server({ args: ['--config', cfg] }).start();
  try {
    const first = sipp(small, 'caller.xml', { service: '5000', pauseMs: 2500 });
    await sleep(800);
    const second = await sipp(small, 'refused.xml', { service: '5000', expect: 503 });
    assert.equal(second.code, 0, second.out);
    assert.match(second.messages, /SIP\/2.0 503 Over capacity/);
    assert.equal((await first).code, 0);
  } finally {
    await small.stop();
  }
});

test('hold music and greeting files at other rates are resampled to 8 kHz; a bad file stops the start', async () => {
  const dir = tempDir('sb-cfg-');
  const bad = join(dir, 'not-audio.wav');
  writeFileSync(bad, 'this is not a WAV file');
  const cfg = writeConfig(dir, `media:\n  hold_music: ${bad}\n`);
  const srv = new Server({ args: ['--config', cfg] });
  await assert.rejects(srv.start(), /not-audio\.wav/);
  const { code } = await srv.exited;
  assert.equal(code, 1);
  // 44.1 kHz stereo music and a 16 kHz greeting are accepted, resampled once.
  const music = join(dir, 'hold44k.wav');
  execFileSync('sox', ['-n', '-r', '44100', '-c', '2', '-b', '16', music, 'synth', '1', 'sine', '440']);
  const greet = join(dir, 'greet16k.wav');
  execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', greet, 'synth', '0.5', 'sine', '440']);
  const cfg2 = writeConfig(dir, `media:\n  hold_music: ${music}\ncalls:\n  greeting: ${greet}\n`);
  const good = await new Server({ args: ['--config', cfg2] }).start();
  assert.match(good.log, /hold44k\.wav resampled from 44100 Hz to 8000 Hz \(1\.0 s\)/);
  assert.match(good.log, /greet16k\.wav resampled from 16000 Hz to 8000 Hz \(0\.5 s\)/);
  await good.stop();
});

test('a call flow: the menu key chooses the queue; hanging up in the flow is Closed Complete', async () => {
  // 5002 runs the demo flow: a spoken greeting, then "support 1, billing 2".
  const r = await sipp(sb, 'caller_dtmf.xml', { service: '5002', digit: '2', waitMs: 5500, pauseMs: 2500 });
  assert.equal(r.code, 0, r.out);
  const ix = await until('closed', async () => {
    const x = await latest();
    return x && x.state !== 'new' ? x : null;
  });
  assert.equal(ix.queue, 'Billing', sb.log.slice(-3000));
  assert.equal(ix.state, 'closed_abandoned');
  assert.match(sb.log, new RegExp(`call=${ix.number} action=flow ends queue=Billing`));
  // The caller's number is amy's mobile phone: identified, and greeted by name.
  const d = await detail(ix.number);
  assert.ok(d.activity.some((a) => a.kind === 'caller' && /Amy Customer \(amy\)/.test(a.text)), JSON.stringify(d.activity));
  // The API shows 5002's flow, and can point another number at it.
  const nums = (await sb.api('GET', '/api/v1/numbers', { token: tok.admin })).body.numbers;
  assert.deepEqual(nums.find((n) => n.number === '5002'), { number: '5002', flow: 'main' });
  const nf = await sb.api('PUT', '/api/v1/numbers/5003', { token: tok.admin, body: { flow: 'nope' } });
  assert.equal(nf.status, 400);
  assert.match(nf.body.message, /no flow named 'nope'/);
  const okf = await sb.api('PUT', '/api/v1/numbers/5003', { token: tok.admin, body: { flow: 'main' } });
  assert.deepEqual(okf.body, { number: '5003', flow: 'main' });
  assert.equal(sb.sql("SELECT flow FROM numbers WHERE did = '5003'"), 'main');
  // Hanging up during the greeting: never queued.
  const early = await sipp(sb, 'caller.xml', { service: '5003', pauseMs: 800 });
  assert.equal(early.code, 0, early.out);
  const ix2 = await until('closed', async () => {
    const x = await latest();
    return x && x.number !== ix.number && x.state !== 'new' ? x : null;
  });
  assert.equal(ix2.state, 'closed_complete');
  assert.equal(ix2.queue, null);
});
