// The browser is the phone (issue 15, "Done when"), in Debian's Chromium
// with fake microphones playing a tone per party (lib/phone.mjs; the tones
// of tests/integration/lib/tones.mjs, so what each side received says whom
// it heard), against the real server and real baresip callers:
// - an agent answers a baresip caller in the browser and audio flows both
//   ways: the caller receives the agent's tone, the page's getStats() shows
//   inbound audio energy, the recording's two channels are not silent;
// - a browser customer (amy) calls the demo's flow, presses 1 on the keypad
//   while the bot asks, waits in Support and is answered by an agent in a
//   second browser; both hear each other;
// - click-to-call from a browser agent;
// - a warm transfer with both agents on browsers;
// - closing the agent's tab mid-offer sends the call to the next agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { launch, expectClean, shot, signIn } from './lib/browser.mjs';
import { goAvailable, inboundAudio, recordPeerConnections, toneWav48, useBrowserPhone } from './lib/phone.mjs';
import { Baresip, startServer, wavInfo } from './lib/setup.mjs';
import { TONES, readWav, toneLevel, toneWav } from '../integration/lib/tones.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, admin, agents, customers;
const until = (what, fn, ms = 15000) => sb.until(what, fn, ms);

before(async () => {
  sb = await startServer('calls:\n  greeting_ms: 0\n  offer_timeout: 20\n');
  admin = await sb.login('admin');
  // Two browsers: the agents' microphones play Ned's tone, the customers' Amy's.
  agents = await launch({ media: { audio: toneWav48(TONES.ned) } });
  customers = await launch({ media: { audio: toneWav48(TONES.amy) } });
});
after(async () => {
  await agents?.close();
  await customers?.close();
  await sb?.stop();
});

async function agentPage(user) {
  const page = await agents.page();
  await recordPeerConnections(page);
  await signIn(page, sb.url, user);
  await useBrowserPhone(page);
  return page;
}
const interactionOf = async (page) => (await page.locator('.softphone').getByRole('link', { name: /Open interaction/ })
  .first().textContent()).match(/INT\d+/)[0];
async function presence(user) {
  return (await sb.api('GET', `/api/v1/agents/${user}/presence`, { token: admin })).body.presence;
}
async function wrapUp(page) {
  await page.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
  await page.locator('.softphone').getByRole('button', { name: 'Clear contact' }).click();
  await page.locator('.softphone[data-phase="idle"]').waitFor();
}
// Sets an agent Away (a browser left open would take the next test's calls).
async function away(user) {
  const tok = await sb.login(user);
  if ((await presence(user)) === 'AfterCallWork') await sb.api('POST', `/api/v1/agents/${user}/clear`, { token: tok, body: {} });
  await sb.api('PUT', `/api/v1/agents/${user}/presence`, { token: tok, body: { status: 'Away', reason: 'Break' } });
}

test('an agent answers a baresip caller in the browser: the ring, Accept, audio both ways, the recording', async () => {
  const ned = await agentPage('ned');
  let amy;
  try {
    await goAvailable(ned);
    amy = await new Baresip(sb, '15550199', { audio: toneWav(TONES.amy), register: false }).start();
    await sleep(300);
    await amy.command('dial', `sip:5000@127.0.0.1:${sb.sipPort}`);
    const sp = ned.locator('.softphone');
    await ned.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 20000 });
    await sp.locator('[data-caller]', { hasText: 'Amy Customer' }).waitFor();
    // It rings: the tab's title says so.
    await ned.waitForFunction(() => document.title.startsWith('☎ Incoming call'));
    await shot(ned, 'browser-phone-offer');
    await sp.getByRole('button', { name: 'Accept' }).click();
    await ned.locator('.softphone[data-phase="connected"]').waitFor({ timeout: 15000 });
    await sp.locator('[data-browser-leg="connected"]').waitFor({ timeout: 10000 });
    assert.ok(!(await ned.title()).startsWith('☎'), 'the title is back once answered');
    const t0 = Date.now();
    await sleep(4000);
    const inb = await inboundAudio(ned);
    assert.equal(inb.state, 'connected');
    assert.ok(inb.packets > 100, `packets received ${inb.packets}`);
    assert.ok(inb.energy > 0, `the page's inbound audio energy ${inb.energy}`);
    assert.ok(inb.sent > 100, `packets sent ${inb.sent}`);
    const level = Number(await sp.locator('[role="meter"]').getAttribute('data-level'));
    assert.ok(level > 0, `the microphone's level meter moves (${level})`);
    await shot(ned, 'browser-phone-connected');
    // Mute silences the microphone's track (the meter drops to 0).
    await sp.getByRole('button', { name: 'Mute' }).click();
    await sp.locator('[role="meter"][data-level="0"]').waitFor();
    await sp.getByRole('button', { name: 'Unmute' }).click();
    const number = await interactionOf(ned);
    await sleep(1500);
    await sp.getByRole('button', { name: 'End call' }).click();
    await wrapUp(ned);

    // Amy (baresip) heard Ned's tone.
    const rx = readWav(amy.receivedWavs()[0]);
    const from = 1, to = Math.min((Date.now() - t0) / 1000, rx.samples.length / rx.rate - 0.5);
    const nedLevel = toneLevel(rx, TONES.ned, from, to);
    assert.ok(nedLevel > 0.02, `the caller hears the agent's tone (${nedLevel})`);
    // The recording: both channels not silent.
    const wav = join(sb.dataDir, 'recordings', `${number}.wav`);
    await until('the recording', async () => existsSync(wav) && wavInfo(wav).seconds > 3);
    assert.ok(wavInfo(wav, 1).rms > 0.01, `customer channel RMS ${wavInfo(wav, 1).rms}`);
    assert.ok(wavInfo(wav, 2).rms > 0.01, `agent channel RMS ${wavInfo(wav, 2).rms}`);
    expectClean(ned);
  } finally {
    await amy?.stop();
    await away('ned');
    await ned.close();
  }
});
