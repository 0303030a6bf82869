// Helpers for the phone in the browser's tests (issue 15): a microphone
// file for Chromium's fake capture, the page's RTCPeerConnections (recorded
// as the page makes them, so a test can read their getStats()), and the
// softphone's device choice and presence.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './setup.mjs';

// A 48 kHz mono WAV of a sine (Chromium's --use-file-for-fake-audio-capture
// loops it): each party a tone of its own (tests/integration/lib/tones.mjs).
export function toneWav48(hz, seconds = 60) {
  const out = join(tempDir('sb-mic-'), `mic${hz}.wav`);
  execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', out, 'synth', String(seconds), 'sine', String(hz), 'vol', '0.3']);
  return out;
}

// A sentence spoken by espeak-ng, 48 kHz mono, between silences (Chromium
// loops the file: the sentence comes back every few seconds, so a bot that
// was still speaking its prompt the first time hears the next one).
export function speechWav48(text, { before = 2, after = 3 } = {}) {
  const dir = tempDir('sb-mic-');
  const raw = join(dir, 'espeak.wav');
  const out = join(dir, 'speech48.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-w', raw, text]);
  execFileSync('sox', [raw, '-r', '48000', '-c', '1', '-b', '16', out, 'pad', String(before), String(after)]);
  return out;
}

// Before any script of the page: every RTCPeerConnection it makes is kept
// in window.__pcs (the page's own objects, unchanged).
export async function recordPeerConnections(page) {
  await page.addInitScript(() => {
    const P = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = class extends P {
      constructor(...a) { super(...a); window.__pcs.push(this); }
    };
  });
}

// Observes the ring and the desktop notifications: the page's real
// oscillators (their frequency, and whether they still play) and every
// Notification it makes (title and body), in window.__osc and __notes.
export async function recordRinging(page) {
  await page.addInitScript(() => {
    window.__osc = [];
    window.__notes = [];
    const start = OscillatorNode.prototype.start, stop = OscillatorNode.prototype.stop;
    OscillatorNode.prototype.start = function (...a) {
      window.__osc.push({ hz: this.frequency.value, node: this, on: true });
      return start.apply(this, a);
    };
    OscillatorNode.prototype.stop = function (...a) {
      const o = window.__osc.find((x) => x.node === this);
      if (o) o.on = false;
      return stop.apply(this, a);
    };
    const N = window.Notification;
    if (N) {
      window.Notification = class extends N {
        constructor(title, opts) { window.__notes.push({ title, body: opts?.body || '' }); super(title, opts); }
      };
    }
  });
}
export const ringingNow = (page) => page.evaluate(() => window.__osc.filter((o) => o.on).map((o) => o.hz).sort((a, b) => a - b));

// The inbound audio of the page's newest connection: { energy, packets,
// level } from getStats() (totalAudioEnergy grows with what is played).
export async function inboundAudio(page) {
  return page.evaluate(async () => {
    const pc = window.__pcs[window.__pcs.length - 1];
    if (!pc) return null;
    const r = { energy: 0, packets: 0, bytes: 0, sent: 0, state: pc.connectionState };
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        r.energy += s.totalAudioEnergy || 0;
        r.packets += s.packetsReceived || 0;
        r.bytes += s.bytesReceived || 0;
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') r.sent += s.packetsSent || 0;
    });
    return r;
  });
}

// Polls the page's inbound audio until it grows past `from` (an earlier
// inboundAudio) by what ok says (by default: more energy, i.e. something
// was heard): no fixed sleep, a failure after ms.
export async function hearsMore(page, from, ok = (now) => now.energy > from.energy, ms = 10000) {
  let now;
  for (const t0 = Date.now(); Date.now() - t0 < ms; await new Promise((r) => setTimeout(r, 200))) {
    now = await inboundAudio(page);
    if (now && ok(now)) return now;
  }
  throw new Error(`the page's audio did not grow in ${ms} ms: ${JSON.stringify(from)} → ${JSON.stringify(now)}`);
}

// The agent makes this browser their phone and waits for the server's yes.
export async function useBrowserPhone(page) {
  const sp = page.locator('.softphone');
  await sp.getByRole('radio', { name: 'This browser' }).click();
  await sp.locator('.sp-device.ok', { hasText: 'Browser phone ready' }).waitFor();
}

// ready: false when a caller waits (the offer comes at once instead).
export async function goAvailable(page, { ready = true } = {}) {
  await page.locator('.presence-button').click();
  await page.getByRole('menuitem', { name: 'Available' }).click();
  if (ready) await page.locator('.softphone', { hasText: 'Ready for calls' }).waitFor();
}
