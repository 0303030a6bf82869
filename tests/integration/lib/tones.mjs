// Who hears whom, by tone: each party's microphone is a pure tone of its
// own (sox synth), and what a party received (baresip's dump-*-dec.wav, or
// a channel of a recording) is measured per tone with the Goertzel
// algorithm over a time window. The tones sit where the built-in hold
// music has no energy (its notes and their harmonics span 349-2093 Hz), so
// "hears the hold music and not the consult" is measurable too.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './server.mjs';

export const TONES = { amy: 300, ned: 2700, beth: 3300 };

// A mono 8 kHz 16-bit WAV of a sine at hz, `seconds` long (quiet enough
// that three summed stay far from clipping).
export function toneWav(hz, seconds = 90) {
  const out = join(tempDir('sb-tone-'), `tone${hz}.wav`);
  execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', out, 'synth', String(seconds), 'sine', String(hz), 'vol', '0.25']);
  return out;
}

// 16-bit PCM samples of a WAV (channel: 0-based, of the file's channels).
export function readWav(path, channel = 0) {
  const b = readFileSync(path);
  let off = 12, fmt = null;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    let size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { channels: b.readUInt16LE(off + 10), rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
    if (id === 'data') {
      if (!fmt || fmt.bits !== 16) throw new Error(`${path}: not 16-bit PCM`);
      if (size === 0 || size === 0xffffffff || off + 8 + size > b.length) size = b.length - off - 8; // still being written
      const n = Math.floor(size / 2 / fmt.channels);
      const s = new Float64Array(n);
      for (let i = 0; i < n; i++) s[i] = b.readInt16LE(off + 8 + 2 * (i * fmt.channels + channel)) / 32768;
      return { samples: s, rate: fmt.rate };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

// The amplitude of hz in [from, to) seconds (a full-scale sine gives ~1).
export function toneLevel(wav, hz, from, to) {
  const { samples, rate } = wav;
  const a = Math.max(0, Math.floor(from * rate)), z = Math.min(samples.length, Math.floor(to * rate));
  if (z - a < rate / 10) throw new Error(`window ${from}-${to}s is outside the ${samples.length / rate}s received`);
  const w = 2 * Math.PI * hz / rate, k = 2 * Math.cos(w);
  let s1 = 0, s2 = 0;
  for (let i = a; i < z; i++) {
    const s0 = samples[i] + k * s1 - s2;
    s2 = s1; s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return 2 * Math.sqrt(Math.max(0, power)) / (z - a);
}

// The RMS of [from, to) seconds.
export function rmsLevel(wav, from, to) {
  const { samples, rate } = wav;
  const a = Math.max(0, Math.floor(from * rate)), z = Math.min(samples.length, Math.floor(to * rate));
  let sum = 0;
  for (let i = a; i < z; i++) sum += samples[i] * samples[i];
  return z > a ? Math.sqrt(sum / (z - a)) : 0;
}

// Which of the named tones are heard in [from, to): level above `min`.
export function heard(wav, from, to, min = 0.02) {
  return Object.entries(TONES).filter(([, hz]) => toneLevel(wav, hz, from, to) > min).map(([n]) => n).sort();
}
