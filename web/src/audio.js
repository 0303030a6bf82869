// The browser's audio for the phone in the browser (issue 15): one
// AudioContext (started by a click, as browsers require), the ring and the
// keypad's tones generated with WebAudio (no audio files), the microphone
// with the agent's chosen device and a clear message when it is refused,
// the list of microphones and speakers, a level meter, and the speaker
// chosen for a call's audio (setSinkId where the browser has it).
import { useEffect, useState } from 'preact/hooks';

const KEY_MIC = 'switchboard.mic';
const KEY_SPEAKER = 'switchboard.speaker';
let ctx = null;

// The AudioContext, created (or resumed) on a user's click: a context made
// without one stays suspended. Called from every click that may lead to
// sound (choosing the browser as phone, Accept, Call).
export function audioContext() {
  if (!ctx) {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    ctx = new AC();
  }
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  return ctx;
}
// After a reload the first click anywhere unlocks the ring.
document.addEventListener('pointerdown', () => ctx?.state === 'suspended' && ctx.resume().catch(() => {}), true);

// The ring: a two-tone warble (a desk phone's trill), 1.2 s on, 2.8 s off,
// until stop() is called.
export function startRing() {
  const ac = audioContext();
  if (!ac) return () => {};
  const gain = ac.createGain();
  gain.gain.value = 0;
  gain.connect(ac.destination);
  const osc = [ac.createOscillator(), ac.createOscillator()];
  osc[0].frequency.value = 480;
  osc[1].frequency.value = 620;
  for (const o of osc) { o.connect(gain); o.start(); }
  const burst = () => {
    const t = ac.currentTime;
    for (let i = 0; i < 12; i++) { // 50 ms on / 50 ms off: a trill
      gain.gain.setValueAtTime(0.12, t + i * 0.1);
      gain.gain.setValueAtTime(0, t + i * 0.1 + 0.05);
    }
  };
  burst();
  const timer = setInterval(burst, 4000);
  return () => {
    clearInterval(timer);
    for (const o of osc) { try { o.stop(); } catch { /* stopped */ } }
    gain.disconnect();
  };
}

// A keypad key's tone (DTMF pair, 120 ms), so the caller hears the press.
const DTMF = { 1: [697, 1209], 2: [697, 1336], 3: [697, 1477], 4: [770, 1209], 5: [770, 1336], 6: [770, 1477],
  7: [852, 1209], 8: [852, 1336], 9: [852, 1477], '*': [941, 1209], 0: [941, 1336], '#': [941, 1477] };
export function keyTone(key) {
  const ac = audioContext();
  const f = DTMF[key];
  if (!ac || !f) return;
  const gain = ac.createGain();
  gain.gain.value = 0.08;
  gain.connect(ac.destination);
  for (const hz of f) {
    const o = ac.createOscillator();
    o.frequency.value = hz;
    o.connect(gain);
    o.start();
    o.stop(ac.currentTime + 0.12);
  }
  setTimeout(() => gain.disconnect(), 300);
}

export const chosenMic = () => localStorage.getItem(KEY_MIC) || '';
export const chosenSpeaker = () => localStorage.getItem(KEY_SPEAKER) || '';
export function chooseMic(id) { localStorage.setItem(KEY_MIC, id || ''); }
export function chooseSpeaker(id) { localStorage.setItem(KEY_SPEAKER, id || ''); }
export const canChooseSpeaker = () => typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

// What to tell the user when the browser gives no microphone.
export function micMessage(e) {
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
    return 'This page cannot use a microphone: browsers allow it only on https:// (or http://127.0.0.1). Ask your administrator for the https address of Switchboard.';
  }
  switch (e?.name) {
    case 'NotAllowedError': case 'SecurityError':
      return 'Microphone blocked: the browser refused Switchboard the microphone, so you cannot talk from this browser. Allow it in the site settings (the icon left of the address), then try again.';
    case 'NotFoundError': case 'OverconstrainedError':
      return 'No microphone found: plug one in (or choose another in Audio settings), then try again.';
    case 'NotReadableError':
      return 'The microphone is in use by another program or cannot be opened: close that program, then try again.';
    default:
      return `The microphone could not be opened: ${e?.message || e}`;
  }
}

// The microphone (the chosen one; the default when it is gone). Throws an
// Error whose message is micMessage's.
export async function openMic() {
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) throw new Error(micMessage(null));
  const base = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  const id = chosenMic();
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: id ? { ...base, deviceId: { exact: id } } : base });
  } catch (e) {
    if (id && (e.name === 'OverconstrainedError' || e.name === 'NotFoundError')) {
      chooseMic('');
      return openMic();
    }
    throw new Error(micMessage(e));
  }
}

// Microphones and speakers (labels once the microphone was allowed).
export function useAudioDevices() {
  const [list, setList] = useState({ mics: [], speakers: [] });
  useEffect(() => {
    const md = navigator.mediaDevices;
    if (!md?.enumerateDevices) return undefined;
    const read = () => md.enumerateDevices().then((ds) => setList({
      mics: ds.filter((d) => d.kind === 'audioinput'),
      speakers: ds.filter((d) => d.kind === 'audiooutput'),
    }), () => {});
    read();
    md.addEventListener?.('devicechange', read);
    return () => md.removeEventListener?.('devicechange', read);
  }, []);
  return list;
}

// The level of a stream's audio, 0..1 (RMS, scaled so speech fills the
// bar), ten times a second while the stream lives.
export function useLevel(stream) {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (!stream || !stream.getAudioTracks().length) { setLevel(0); return undefined; }
    const ac = audioContext();
    if (!ac) return undefined;
    const src = ac.createMediaStreamSource(stream);
    const an = ac.createAnalyser();
    an.fftSize = 1024;
    src.connect(an);
    const buf = new Float32Array(an.fftSize);
    const t = setInterval(() => {
      an.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      const rms = Math.sqrt(sum / buf.length);
      setLevel(Math.min(1, rms * 4));
    }, 100);
    return () => { clearInterval(t); src.disconnect(); };
  }, [stream]);
  return level;
}

// Plays a call's remote audio on the chosen speaker.
export function playRemote(el, stream) {
  el.srcObject = stream;
  const sink = chosenSpeaker();
  if (sink && canChooseSpeaker()) el.setSinkId(sink).catch(() => {});
  el.play().catch(() => {});
}
