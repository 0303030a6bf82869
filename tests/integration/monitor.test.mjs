// Monitoring (issue 14 item 3, SPEC.md §8): a voice_manager listens to,
// whispers to and barges into a live call from their own phone, switching
// modes on one session (no new ring). Each party's microphone is a tone of
// its own, so what each phone received shows whom it heard in each mode:
// listen (the manager hears both, heard by no one), whisper (heard by the
// agent only), barge (heard by both). Every action is in the interaction's
// activity stream and the audit log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { Baresip, waitRegistered } from './lib/peers.mjs';
import { readWav, toneLevel, toneWav } from './lib/tones.mjs';

const HZ = { amy: 300, ned: 2700, mia: 3650 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, tok;
const phones = [];

const act = (who, number, action, body) => sb.api('POST', `/api/v1/calls/${number}/${action}`, { token: tok[who], body });
async function phone(user, opts = {}) {
  const p = await new Baresip(sb, user, { audio: toneWav(HZ[user]), ...opts }).start();
  phones.push(p);
  if (opts.register === false) return p;
  if (user === 'mia') // not an agent: no presence to read; the registrar's log says it
    await sb.until('mia registered', async () => /agent=mia action=registered/.test(sb.log));
  else await waitRegistered(sb, tok.admin, user);
  return p;
}
// Which of the three tones a received dump holds in [a, b) seconds.
function heard(wav, a, b) {
  return Object.entries(HZ).filter(([, hz]) => toneLevel(wav, hz, a, b) > 0.02).map(([n]) => n).sort();
}

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'calls:\n  greeting_ms: 300\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
  tok = {};
  for (const u of ['admin', 'mia', 'ned', 'carl']) tok[u] = await sb.login(u);
});
after(async () => { for (const p of phones) await p.stop(); await sb.stop(); });

test('listen, whisper, barge on one session: who hears whom, the records, and the refusals', async () => {
  const ned = await phone('ned');
  assert.equal((await sb.api('PUT', '/api/v1/agents/ned/presence', { token: tok.ned, body: { status: 'Available' } })).status, 200);
  const amy = await phone('amy', { register: false });
  await sleep(300);
  const t0 = Date.now();
  const at = () => (Date.now() - t0) / 1000;
  await amy.command('dial', `sip:5000@127.0.0.1:${sb.sipPort}`);
  const ix = await sb.until('Ned has the call', async () => {
    const x = (await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok.admin })).body.interactions[0];
    return x && x.state === 'work_in_progress' && x.agent === 'ned' ? x : null;
  });
  // Refusals: an agent may not monitor; a bad mode; a manager without a phone.
  let r = await act('ned', ix.number, 'monitor', { mode: 'listen' });
  assert.equal(r.status, 403, JSON.stringify(r.body));
  r = await act('mia', ix.number, 'monitor', { mode: 'spy' });
  assert.equal(r.status, 400);
  assert.match(r.body.message, /listen, whisper, barge or stop/);
  r = await act('mia', ix.number, 'monitor', { mode: 'listen' });
  assert.equal(r.status, 409, JSON.stringify(r.body));
  assert.equal(r.body.error, 'no_device');
  r = await act('mia', 'INT0009999', 'monitor', { mode: 'listen' });
  assert.equal(r.status, 404);
  r = await act('mia', ix.number, 'monitor', { mode: 'stop' });
  assert.equal(r.status, 409, 'nothing to stop');

  const mia = await phone('mia');
  await sleep(1500);
  r = await act('mia', ix.number, 'monitor', { mode: 'listen' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await sb.until('Mia on the call', async () => (await sb.api('GET', `/api/v1/calls/${ix.number}`, { token: tok.mia })).body.legs
    .some((l) => l.role === 'supervisor' && l.user_name === 'mia' && l.state === 'up'));
  // The live calls (the wallboard's list): this one, its agent and who monitors it.
  const live = await sb.api('GET', '/api/v1/calls', { token: tok.mia });
  assert.equal(live.status, 200, JSON.stringify(live.body));
  const mine = live.body.calls.find((x) => x.interaction === ix.number);
  assert.equal(mine.phase, 'bridged');
  assert.equal(mine.agent, 'ned');
  assert.equal(mine.queue, 'Support');
  assert.equal(mine.monitored_by, 'mia');
  assert.equal(mine.caller, amy.user);
  assert.ok(mine.seconds_in_phase >= 0);
  assert.equal((await sb.api('GET', '/api/v1/calls', { token: tok.ned })).status, 403);
  const tListen = at();
  await sleep(3000);
  const tWhisper = at();
  r = await act('mia', ix.number, 'monitor', { mode: 'whisper' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await sleep(3000);
  const tBarge = at();
  r = await act('mia', ix.number, 'monitor', { mode: 'barge' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await sleep(3000);
  const tStop = at();
  // one ring for the whole session
  assert.equal((sb.log.match(/action=invite to=sip:mia/g) || []).length, 1, 'switching modes does not re-ring');
  const amyRx = readWav(amy.receivedWavs()[0]), nedRx = readWav(ned.receivedWavs()[0]), miaRx = readWav(mia.receivedWavs()[0]);
  const tCapture = at();
  r = await act('mia', ix.number, 'monitor', { mode: 'stop' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await sleep(500);
  const ro = (await sb.api('GET', `/api/v1/calls/${ix.number}`, { token: tok.mia })).body;
  assert.ok(!ro.legs.some((l) => l.role === 'supervisor'), JSON.stringify(ro));
  assert.equal(ro.phase, 'bridged', 'the call goes on');

  // The audio, mode by mode (each dump mapped to the call's time by its end).
  const win = (rx, end) => { const s = end - rx.samples.length / rx.rate; return (a, b) => heard(rx, a - s + 0.6, b - s - 0.4); };
  const inAmy = win(amyRx, tCapture), inNed = win(nedRx, tCapture);
  const miaStart = tCapture - miaRx.samples.length / miaRx.rate;
  const inMia = (a, b) => heard(miaRx, Math.max(0, a - miaStart) + 0.6, b - miaStart - 0.4);
  assert.deepEqual(inMia(tListen, tWhisper), ['amy', 'ned'], 'listen: Mia hears both');
  assert.deepEqual(inAmy(tListen, tWhisper), ['ned'], 'listen: Amy does not hear Mia');
  assert.deepEqual(inNed(tListen, tWhisper), ['amy'], 'listen: Ned does not hear Mia');
  assert.deepEqual(inMia(tWhisper, tBarge), ['amy', 'ned'], 'whisper: Mia hears both');
  assert.deepEqual(inAmy(tWhisper, tBarge), ['ned'], 'whisper: Amy does not hear Mia');
  assert.deepEqual(inNed(tWhisper, tBarge), ['amy', 'mia'], 'whisper: Ned hears Mia');
  assert.deepEqual(inAmy(tBarge, tStop), ['mia', 'ned'], 'barge: Amy hears Mia');
  assert.deepEqual(inNed(tBarge, tStop), ['amy', 'mia'], 'barge: Ned hears Mia');

  // The records: the activity stream and the audit log.
  const d = (await sb.api('GET', `/api/v1/interactions/${ix.number}`, { token: tok.admin })).body;
  const mon = d.activity.filter((a) => a.kind === 'monitor').map((a) => a.text);
  assert.deepEqual(mon, ['Mia Manager started to listen', 'Mia Manager switched from listen to whisper',
    'Mia Manager switched from whisper to barge', 'Mia Manager stopped monitoring'], JSON.stringify(mon));
  const audit = (await sb.api('GET', '/api/v1/audit?action=monitor', { token: tok.admin })).body.entries;
  assert.ok(audit.length >= 4, JSON.stringify(audit));
  assert.ok(audit.every((e) => e.actor === 'mia' && e.object === ix.number), JSON.stringify(audit));
  await amy.command('hangup');
});
