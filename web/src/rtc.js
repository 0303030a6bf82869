// The browser is the phone (issue 15): WebRTC calls signalled over the
// event stream, exactly as RTC_PROTOCOL.md (docs/WEB.md, "The phone in the
// browser") says.
//
//   agent's browser: rtc.register → rtc.registered; rtc.offer → rings →
//     Accept: rtc.answer (our SDP answer) / Reject: rtc.reject;
//     End call: rtc.hangup; rtc.end from the server closes the connection.
//   any signed-in user (the "Call us" page): rtc.call with our offer →
//     rtc.answer (the server's) → talk; rtc.dtmf for the keypad.
//
// What the views read is in state.rtc: { device: 'browser'|'sip',
// registered, replaced, error, legs: { [leg]: incoming leg }, out: the
// outgoing call }. The RTCPeerConnections, microphones and audio elements
// stay here, outside the state.
import { audioContext, chooseMic, chooseSpeaker, canChooseSpeaker, keyTone, openMic, playRemote, startRing } from './audio.js';
import { sendEvent } from './events.js';
import { getState, initialRtc, isManager, setState, toast } from './state.js';

const KEY_DEVICE = 'switchboard.phone';
const live = new Map(); // leg id (or an outgoing call's ref) → { pc, mic, audio, stats }

const rtcPatch = (p) => setState((s) => ({ rtc: { ...s.rtc, ...(typeof p === 'function' ? p(s.rtc) : p) } }));
const legPatch = (id, p) => rtcPatch((r) => (r.legs[id] ? { legs: { ...r.legs, [id]: { ...r.legs[id], ...p } } } : {}));
const outPatch = (p) => rtcPatch((r) => (r.out ? { out: { ...r.out, ...p } } : {}));

let refSeq = 0;
const newRef = () => `c${Date.now().toString(36)}${++refSeq}`;

// ---- device choice (agents) ----

// The agent picks the phone: "This browser" asks for the microphone (and
// politely for notifications) now, on their click, then registers.
export async function chooseDevice(device) {
  if (device === 'browser') {
    audioContext();
    if (window.Notification && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
    try {
      const mic = await openMic();
      for (const t of mic.getTracks()) t.stop(); // asked now; each call opens its own
    } catch (e) {
      rtcPatch({ error: e.message });
      return false;
    }
    localStorage.setItem(KEY_DEVICE, 'browser');
    rtcPatch({ device: 'browser', replaced: false, error: null });
    sendEvent({ type: 'rtc.register' }); // or onStreamOpen sends it when the stream is back
    return true;
  }
  localStorage.setItem(KEY_DEVICE, 'sip');
  const was = getState().rtc;
  rtcPatch({ device: 'sip', replaced: false, error: null, registered: false });
  if (was.registered) sendEvent({ type: 'rtc.unregister' });
  return true;
}

// The stream is (re)connected: the browser registers again, unless another
// browser took over (then only the agent's click takes it back).
export function onStreamOpen() {
  const { rtc, me } = getState();
  // Agents, and managers for monitoring (their Listen / Whisper / Barge).
  if (rtc.device === 'browser' && !rtc.replaced && (me?.is_agent || isManager(me))) sendEvent({ type: 'rtc.register' });
}

// The stream dropped: the server has unregistered this browser, and an
// offer ringing here went to the next agent. Calls already up keep their
// media until their connection fails.
export function onStreamClosed() {
  const { rtc } = getState();
  for (const l of Object.values(rtc.legs)) if (l.phase === 'ringing' || l.phase === 'answering') closeLeg(l.leg, 'closed');
  if (rtc.out && !rtc.out.leg && rtc.out.phase !== 'ended' && rtc.out.phase !== 'failed') {
    endOut('failed', 'The connection to the server dropped before the call was answered. Try again.');
  }
  rtcPatch({ registered: false });
}

// Signing out: every call of this browser ends here (the server ends its
// legs with the stream).
export function resetRtc() {
  for (const k of [...live.keys()]) release(k);
  setState({ rtc: initialRtc() });
  stopRingingIfNone();
}

// ---- messages from the server ----

export function onRtcMessage(m) {
  const { rtc } = getState();
  switch (m.type) {
    case 'rtc.registered':
      rtcPatch({ registered: true, replaced: false, error: null });
      break;
    case 'rtc.unregistered':
      rtcPatch({ registered: false, replaced: m.reason === 'replaced' });
      break;
    case 'rtc.offer':
      incoming(m);
      break;
    case 'rtc.answer':
      if (rtc.out && m.ref === rtc.out.ref) answered(m);
      break;
    case 'rtc.state':
      if (rtc.legs[m.leg]) legPatch(m.leg, { media: m.state });
      else if (rtc.out?.leg === m.leg) outPatch({ media: m.state });
      if (m.state === 'failed') mediaFailed(m.leg, m.why);
      break;
    case 'rtc.end':
      if (rtc.legs[m.leg]) closeLeg(m.leg, m.reason);
      else if (rtc.out?.leg === m.leg) endOut('ended', m.reason);
      break;
    case 'rtc.error':
      if (rtc.out && (m.ref === rtc.out.ref || (m.leg && m.leg === rtc.out.leg))) {
        if (!rtc.out.leg) endOut('failed', callRefusal(m));
        else toast(m.message || m.code);
      } else if (m.code === 'forbidden' && !m.leg && !m.ref) {
        rtcPatch({ error: m.message });
      } else {
        toast(`The browser phone: ${m.message || m.code}`);
      }
      break;
    default:
      break;
  }
}

function callRefusal(m) {
  if (m.code === 'not_found') return `${m.message || 'That number does not exist.'}`;
  return m.message || `The call was refused (${m.code}).`;
}

// ---- ringing ----

let ring = null; // { stop, timer, base, note }

function whoCalls(interaction) {
  const c = getState().call;
  if (c.interaction && interaction && c.interaction !== interaction) return 'a caller';
  return c.name || c.number || 'a caller';
}

function startRinging(leg) {
  if (ring) return;
  const base = document.title;
  const title = () => `☎ Incoming call · ${whoCalls(getState().rtc.legs[leg]?.interaction)}`;
  ring = { stop: startRing(), base, note: null, waited: 0 };
  document.title = title();
  ring.timer = setInterval(() => {
    document.title = document.title === ring.base ? title() : ring.base;
    notifyRing();
  }, 1000);
  notifyRing();
}

// A desktop notification while the tab is in the background. The offer's
// screen pop (who calls) may come a moment after the ring: up to 2 s are
// given to it before the notification says "a caller".
function notifyRing() {
  if (!ring || ring.note || !document.hidden || !window.Notification || Notification.permission !== 'granted') return;
  const who = whoCalls(null);
  if (who === 'a caller' && ring.waited++ < 2) return;
  try {
    ring.note = new Notification('Incoming call', { body: `Switchboard: ${who} is calling. Open the tab to answer.`, tag: 'switchboard-ring', requireInteraction: true });
    ring.note.onclick = () => { window.focus(); ring?.note?.close(); };
  } catch { ring.note = { close() {} }; /* notifications unavailable: not again */ }
}

function stopRingingIfNone() {
  if (!ring) return;
  if (Object.values(getState().rtc.legs).some((l) => l.phase === 'ringing')) return;
  ring.stop();
  clearInterval(ring.timer);
  ring.note?.close();
  if (document.title.startsWith('☎')) document.title = ring.base;
  ring = null;
}

// ---- calls to this browser (offers) ----

function incoming(m) {
  rtcPatch((r) => ({ legs: { ...r.legs, [m.leg]: { leg: m.leg, interaction: m.interaction || null, phase: 'ringing', sdp: m.sdp, muted: false } } }));
  // The server says to answer at once (auto_answer: a manager's monitoring
  // leg, or an offer already accepted). Click-to-call rings the agent first:
  // the agent has just asked for it, so the browser answers at once too (a
  // SIP phone gets auto-answer).
  const c = getState().call;
  if (m.auto_answer || (c.phase === 'dialing' && (!m.interaction || !c.interaction || c.interaction === m.interaction))) {
    acceptLeg(m.leg);
    return;
  }
  startRinging(m.leg);
}

// Gives the ICE agent a moment to gather its host candidates, so the SDP
// we send carries them (the server is ICE-lite: it answers our checks).
function gathered(pc, ms = 1500) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(res, ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(t); res(); }
    });
  });
}

function peer(key, mic, onUp, onDown) {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  const audio = new Audio();
  audio.autoplay = true;
  const entry = { pc, mic, audio, stats: null, last: null };
  live.set(key, entry);
  for (const t of mic.getAudioTracks()) pc.addTrack(t, mic);
  pc.ontrack = (e) => playRemote(audio, e.streams[0] || new MediaStream([e.track]));
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'connected') onUp();
    if (pc.connectionState === 'failed') onDown();
  };
  entry.stats = setInterval(() => quality(entry).then((q) => q && entry.onQuality?.(q)), 2000);
  return entry;
}

function release(key) {
  const e = live.get(key);
  if (!e) return;
  live.delete(key);
  clearInterval(e.stats);
  try { e.pc.close(); } catch { /* closed */ }
  for (const t of e.mic?.getTracks() || []) t.stop();
  e.audio.srcObject = null;
}

// Accept in the browser: the microphone (asked now if it was not when the
// browser was chosen), our answer to the server's offer, rtc.answer.
export async function acceptLeg(leg) {
  const l = getState().rtc.legs[leg];
  if (!l || l.phase !== 'ringing') return false;
  audioContext();
  legPatch(leg, { phase: 'answering' });
  let mic;
  try {
    mic = await openMic();
  } catch (e) {
    legPatch(leg, { phase: 'ringing' });
    rtcPatch({ error: e.message });
    return false;
  }
  if (getState().rtc.legs[leg]?.phase !== 'answering') { for (const t of mic.getTracks()) t.stop(); return false; }
  stopRingingIfNone();
  rtcPatch({ error: null });
  const e = peer(leg, mic, () => legPatch(leg, { phase: 'connected', startedAt: Date.now() }),
    () => mediaFailed(leg, 'ice'));
  e.onQuality = (q) => legPatch(leg, { quality: q });
  try {
    await e.pc.setRemoteDescription({ type: 'offer', sdp: l.sdp });
    await e.pc.setLocalDescription(await e.pc.createAnswer());
    await gathered(e.pc);
  } catch (err) {
    toast(`The call could not be answered in the browser: ${err.message}`);
    rejectLeg(leg);
    return false;
  }
  if (!live.has(leg)) return false; // ended meanwhile
  sendEvent({ type: 'rtc.answer', leg, sdp: e.pc.localDescription.sdp });
  legPatch(leg, { phase: 'connecting' });
  return true;
}

export function rejectLeg(leg) {
  sendEvent({ type: 'rtc.reject', leg });
  closeLeg(leg, 'rejected');
}

export function hangupLeg(leg) {
  sendEvent({ type: 'rtc.hangup', leg });
  closeLeg(leg, 'hangup');
}

function closeLeg(leg, reason) {
  release(leg);
  rtcPatch((r) => {
    const legs = { ...r.legs };
    delete legs[leg];
    return { legs };
  });
  stopRingingIfNone();
  return reason;
}

function mediaFailed(leg, why) {
  const { rtc } = getState();
  const text = `The call's audio could not connect (${why || 'no answer to the connectivity checks'}): a firewall may block UDP to the server's media ports.`;
  if (rtc.legs[leg]) { legPatch(leg, { failed: text }); }
  else if (rtc.out && (rtc.out.leg === leg || rtc.out.ref === leg)) outPatch({ failed: text });
}

// Mute in the browser: the microphone's track stops sending sound.
export function muteLeg(key, muted) {
  const e = live.get(key);
  for (const t of e?.mic?.getAudioTracks() || []) t.enabled = !muted;
  if (getState().rtc.legs[key]) legPatch(key, { muted });
  else outPatch({ muted });
}

export const micOf = (key) => live.get(key)?.mic || null;

// A new microphone chosen during a call replaces the track being sent.
export async function switchMic(id) {
  chooseMic(id);
  for (const e of live.values()) {
    const sender = e.pc.getSenders().find((s) => s.track?.kind === 'audio');
    if (!sender) continue;
    try {
      const mic = await openMic();
      const track = mic.getAudioTracks()[0];
      track.enabled = sender.track.enabled;
      await sender.replaceTrack(track);
      for (const t of e.mic.getTracks()) t.stop();
      e.mic = mic;
    } catch (err) {
      toast(err.message);
    }
  }
  setState({}); // the level meter follows the new stream
}

export function switchSpeaker(id) {
  chooseSpeaker(id);
  if (!canChooseSpeaker()) return;
  for (const e of live.values()) e.audio.setSinkId(id || '').catch((err) => toast(`That speaker cannot be used: ${err.message}`));
}

// Call quality from the connection's statistics (RTCP receiver reports and
// our own reception): packet loss over the last interval, jitter, round
// trip. Poor: 3% lost, 30 ms jitter or 300 ms round trip.
async function quality(e) {
  if (e.pc.connectionState !== 'connected') return null;
  let stats;
  try { stats = await e.pc.getStats(); } catch { return null; }
  let lost = 0, got = 0, jitter = 0, rtt = null;
  stats.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') { lost += s.packetsLost || 0; got += s.packetsReceived || 0; jitter = Math.max(jitter, s.jitter || 0); }
    if (s.type === 'remote-inbound-rtp' && s.kind === 'audio' && s.roundTripTime != null) rtt = s.roundTripTime;
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && rtt == null && s.currentRoundTripTime != null) rtt = s.currentRoundTripTime;
  });
  const prev = e.last || { lost: 0, got: 0 };
  e.last = { lost, got };
  const dl = lost - prev.lost, dt = dl + (got - prev.got);
  const loss = dt > 0 ? Math.max(0, dl / dt) : 0;
  const q = { loss, jitter, rtt };
  q.poor = loss >= 0.03 || jitter >= 0.03 || (rtt != null && rtt >= 0.3);
  return q;
}

// ---- calls from this browser (the "Call us" page) ----

export async function callNumber(to) {
  const { rtc } = getState();
  if (rtc.out && !['ended', 'failed'].includes(rtc.out.phase)) return;
  audioContext();
  const ref = newRef();
  rtcPatch({ out: { ref, to, leg: null, phase: 'starting', muted: false, digits: '' } });
  let mic;
  try {
    mic = await openMic();
  } catch (e) {
    endOut('failed', e.message);
    return;
  }
  if (getState().rtc.out?.ref !== ref) { for (const t of mic.getTracks()) t.stop(); return; }
  const e = peer(ref, mic, () => outPatch({ phase: 'connected', startedAt: Date.now() }), () => mediaFailed(ref, 'ice'));
  e.onQuality = (q) => outPatch({ quality: q });
  try {
    await e.pc.setLocalDescription(await e.pc.createOffer());
    await gathered(e.pc);
  } catch (err) {
    endOut('failed', `The browser could not start the call: ${err.message}`);
    return;
  }
  if (getState().rtc.out?.ref !== ref) return;
  if (!sendEvent({ type: 'rtc.call', ref, to, sdp: e.pc.localDescription.sdp })) {
    endOut('failed', 'Not connected to the server right now. Wait for the connection, then try again.');
    return;
  }
  outPatch({ phase: 'calling' });
}

async function answered(m) {
  const out = getState().rtc.out;
  const e = live.get(out.ref);
  if (!e) return;
  live.delete(out.ref);
  live.set(m.leg, e);
  outPatch({ leg: m.leg, phase: 'connecting' });
  try {
    await e.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
  } catch (err) {
    sendEvent({ type: 'rtc.hangup', leg: m.leg });
    endOut('failed', `The server's answer could not be used: ${err.message}`);
  }
}

function endOut(phase, reason) {
  const out = getState().rtc.out;
  if (!out) return;
  release(out.leg || out.ref);
  release(out.ref);
  outPatch({ phase, reason, endedAt: Date.now() });
}

export function hangupOut() {
  const out = getState().rtc.out;
  if (!out) return;
  if (out.leg) sendEvent({ type: 'rtc.hangup', leg: out.leg });
  endOut('ended', 'hangup');
}

// The keypad: the digits go as rtc.dtmf, which the server feeds to the
// flow as RFC 4733 events; a tone plays here so the caller hears the press.
export function sendDigits(digits) {
  const out = getState().rtc.out;
  if (!out?.leg) return;
  sendEvent({ type: 'rtc.dtmf', leg: out.leg, digits });
  keyTone(digits);
  outPatch({ digits: (out.digits + digits).slice(-24) });
}

export function clearOut() {
  const out = getState().rtc.out;
  if (out && ['ended', 'failed'].includes(out.phase)) rtcPatch({ out: null });
}

// The browser leg of the softphone's call, if any: the one offered for its
// interaction (or the only one when the offer named none).
export function legOfCall(s) {
  const legs = Object.values(s.rtc.legs);
  return legs.find((l) => l.interaction && l.interaction === s.call.interaction)
    || (legs.length === 1 && (!legs[0].interaction || !s.call.interaction) ? legs[0] : null);
}
