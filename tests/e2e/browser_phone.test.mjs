// The browser is the phone (issue 15, "Done when"), in Debian's Chromium
// with fake microphones playing a tone per party (lib/phone.mjs; the tones
// of tests/integration/lib/tones.mjs, so what each side received says whom
// it heard), against the real server and real baresip callers:
// - an agent answers a baresip caller in the browser: it rings (the title,
//   the ring's oscillators, a desktop notification while the tab is hidden)
//   and audio flows both ways: the caller receives the agent's tone, the page's getStats() shows
//   inbound audio energy, the recording's two channels are not silent;
// - a browser customer (amy) calls the demo's flow, presses 1 on the keypad
//   while the bot asks, waits in Support and is answered by an agent in a
//   second browser; both hear each other;
// - click-to-call from a browser agent;
// - a warm transfer with both agents on browsers;
// - closing the agent's tab mid-offer sends the call to the next agent;
// - Reject in the browser declines: the next agent gets the call;
// - a manager listens in from her browser (it answers the monitoring leg by itself).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { launch, expectClean, shot, signIn } from './lib/browser.mjs';
import { goAvailable, hearsMore, inboundAudio, recordPeerConnections, recordRinging, ringingNow, toneWav48, useBrowserPhone } from './lib/phone.mjs';
import { Baresip, farEnd, freeUdpPort, startServer, tempDir, wavInfo } from './lib/setup.mjs';
import { TONES, readWav, toneLevel, toneWav } from '../integration/lib/tones.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, admin, agents, customers, farPort;
const until = (what, fn, ms = 15000) => sb.until(what, fn, ms);

before(async () => {
  farPort = await freeUdpPort();
  sb = await startServer(`calls:\n  greeting_ms: 0\n  offer_timeout: 20\n  outbound_uri: "sip:127.0.0.1:${farPort}"\n  dial_timeout: 8\n`);
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
  await recordRinging(page);
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

// A test's end: the caller stops, the agents go Away, their pages close.
async function finish(amy, users, pages) {
  await amy?.stop();
  for (const u of users) await away(u);
  for (const p of pages) if (!p.isClosed()) await p.close();
}

test('an agent answers a baresip caller in the browser: the ring, Accept, audio both ways, the recording', async () => {
  const ned = await agentPage('ned');
  let amy;
  try {
    await goAvailable(ned);
    // The tab is in the background, and notifications are allowed.
    await ned.context().grantPermissions(['notifications'], { origin: sb.url });
    await ned.evaluate(() => Object.defineProperty(document, 'hidden', { configurable: true, get: () => true }));
    amy = await new Baresip(sb, '15550199', { audio: toneWav(TONES.amy), register: false }).start();
    await sleep(300);
    await amy.command('dial', `sip:5000@127.0.0.1:${sb.sipPort}`);
    const sp = ned.locator('.softphone');
    await ned.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 20000 });
    await sp.locator('[data-caller]', { hasText: 'Amy Customer' }).waitFor();
    // It rings: the tab's title says so.
    await ned.waitForFunction(() => document.title.startsWith('☎ Incoming call'));
    // The ring plays (a 480 + 620 Hz trill), and a hidden tab shows a desktop notification.
    assert.deepEqual(await ringingNow(ned), [480, 620], 'the ring plays');
    await ned.waitForFunction(() => window.__notes.length > 0, null, { timeout: 5000 });
    const notes = await ned.evaluate(() => window.__notes);
    assert.equal(notes.length, 1, JSON.stringify(notes));
    assert.equal(notes[0].title, 'Incoming call');
    assert.match(notes[0].body, /Amy Customer is calling/);
    await ned.evaluate(() => Object.defineProperty(document, 'hidden', { configurable: true, get: () => false }));
    await shot(ned, 'browser-phone-offer');
    await sp.getByRole('button', { name: 'Accept' }).click();
    await ned.locator('.softphone[data-phase="connected"]').waitFor({ timeout: 15000 });
    await sp.locator('[data-browser-leg="connected"]').waitFor({ timeout: 10000 });
    assert.ok(!(await ned.title()).startsWith('☎'), 'the title is back once answered');
    assert.deepEqual(await ringingNow(ned), [], 'the ring stops once answered');
    const t0 = Date.now();
    const inb = await hearsMore(ned, null, (a) => a.packets > 100 && a.energy > 0 && a.sent > 100);
    assert.equal(inb.state, 'connected');
    assert.ok(inb.packets > 100, `packets received ${inb.packets}`);
    assert.ok(inb.energy > 0, `the page's inbound audio energy ${inb.energy}`);
    assert.ok(inb.sent > 100, `packets sent ${inb.sent}`);
    const level = Number(await sp.locator('[role="meter"]').getAttribute('data-level'));
    assert.ok(level > 0, `the microphone's level meter moves (${level})`);
    await shot(ned, 'browser-phone-connected');
    // Audio: another microphone mid-call (Chromium's fake ones) replaces the
    // track being sent; the speaker list is there (setSinkId).
    await sp.getByRole('button', { name: 'Audio' }).click();
    const mics = sp.getByLabel('Microphone', { exact: true });
    await mics.locator('option').nth(1).waitFor({ state: 'attached' }); // the list arrives a moment later
    const ids = await mics.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    assert.ok(ids.length >= 1, 'the fake microphones are listed');
    assert.equal(await sp.getByLabel('Speaker', { exact: true }).count(), 1, 'a speaker picker (setSinkId)');
    const sent0 = (await inboundAudio(ned)).sent;
    await mics.selectOption(ids[ids.length - 1]);
    assert.equal(await ned.evaluate(() => localStorage.getItem('switchboard.mic')), ids[ids.length - 1]);
    await hearsMore(ned, null, (a) => a.sent > sent0 + 40); // still sending after the switch
    await sp.locator('[role="meter"]:not([data-level="0"])').waitFor();
    await sp.getByRole('button', { name: 'Audio' }).click();
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
    await finish(amy, ['ned'], [ned]);
  }
});

// How long espeak-ng speaks a text (the server renders its prompts with it).
function spokenSeconds(text) {
  const w = join(tempDir('sb-len-'), 'x.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-w', w, text]);
  return wavInfo(w).seconds;
}
async function waiting(queue) {
  const r = await sb.api('GET', '/api/v1/queues', { token: admin });
  return r.body.queues.find((q) => q.name === queue)?.live.waiting || 0;
}

test('amy calls the demo flow from the browser, presses 2 for billing on the keypad, waits in Billing, Ned answers in his browser', async () => {
  const amy = await customers.page();
  await recordPeerConnections(amy);
  const ned = await agentPage('ned');
  try {
    await signIn(amy, sb.url, 'amy');
    await amy.waitForURL(/\/call$/);
    await amy.getByRole('radio', { name: /5002/ }).check();
    await amy.getByRole('button', { name: 'Call 5002' }).click();
    const card = amy.getByLabel('Your call');
    await amy.locator('[data-call-phase="connected"]').waitFor({ timeout: 15000 });
    const t0 = Date.now();
    await card.locator('[data-timer]', { hasText: /0:0[1-9]/ }).waitFor();
    // The bot asks after the greeting; 2 (billing) while it does. Without
    // a digit the flow would end in Support (no_input), so Billing says
    // the digit arrived.
    const greet = spokenSeconds('Hello Amy, thank you for calling Switchboard.');
    await sleep(Math.max(0, greet * 1000 + 1500 - (Date.now() - t0)));
    await card.getByRole('button', { name: 'Press 2' }).click();
    await card.locator('[data-digits]', { hasText: '2' }).waitFor();
    await shot(amy, 'callus-connected');
    await until('amy waiting in Billing', async () => (await waiting('Billing')) === 1, 20000);
    const heard = await inboundAudio(amy);
    assert.ok(heard.energy > 0, `amy heard the greeting and the bot (${heard.energy})`);

    // Ned comes back: the offer says Billing; he answers in his browser.
    await goAvailable(ned, { ready: false });
    const sp = ned.locator('.softphone');
    await ned.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 15000 });
    await sp.locator('.sp-caller', { hasText: 'Queue Billing' }).waitFor();
    await sp.locator('[data-caller]', { hasText: 'Amy Customer' }).waitFor();
    await sp.getByRole('button', { name: 'Accept' }).click();
    await sp.locator('[data-browser-leg="connected"]').waitFor({ timeout: 15000 });
    const a0 = await inboundAudio(amy);
    const n0 = await inboundAudio(ned);
    const tb = Date.now();
    const a1 = await hearsMore(amy, a0);
    const n1 = await hearsMore(ned, n0);
    await sleep(Math.max(0, 3000 - (Date.now() - tb))); // a recording of over 2 s (asserted below)
    assert.ok(a1.energy > a0.energy, `amy hears ned (${a0.energy} → ${a1.energy})`);
    assert.ok(n1.energy > n0.energy, `ned hears amy (${n0.energy} → ${n1.energy})`);
    const number = await interactionOf(ned);

    // amy hangs up: her page says so; Ned wraps up.
    await card.getByRole('button', { name: 'Hang up' }).click();
    await card.locator('[data-call-ended]', { hasText: 'You hung up.' }).waitFor();
    await wrapUp(ned);
    const wav = join(sb.dataDir, 'recordings', `${number}.wav`);
    await until('the recording', async () => existsSync(wav) && wavInfo(wav).seconds > 2);
    assert.ok(wavInfo(wav, 1).rms > 0.01, `customer channel RMS ${wavInfo(wav, 1).rms}`);
    assert.ok(wavInfo(wav, 2).rms > 0.01, `agent channel RMS ${wavInfo(wav, 2).rms}`);
    const ix = (await sb.api('GET', `/api/v1/interactions/${number}`, { token: admin })).body;
    assert.equal(ix.queue, 'Billing');
    expectClean(amy);
    expectClean(ned);
  } finally {
    await away('ned');
    await amy.close();
    await ned.close();
  }
});

test('click-to-call from a browser agent: the browser answers its own leg, the customer (a sipp UAS echoing) is called, audio flows', async () => {
  const far = await farEnd(farPort);
  const ned = await agentPage('ned');
  try {
    // A reload registers the browser again (the choice is remembered).
    await ned.goto(`${sb.url}/records/incident/INC0001002`);
    await ned.locator('[data-form="incident"]').waitFor();
    await ned.locator('.sp-device.ok', { hasText: 'Browser phone ready' }).waitFor();
    await ned.getByRole('link', { name: /^Call .*mobile phone \+1 555 0103/ }).click();
    const sp = ned.locator('.softphone');
    await ned.locator('.softphone[data-phase="connected"]').waitFor({ timeout: 20000 });
    await sp.locator('[data-browser-leg="connected"]').waitFor({ timeout: 10000 });
    assert.match(far.messages(), /INVITE sip:\+15550103@127\.0\.0\.1:\d+ SIP\/2\.0/);
    await sp.locator('.sp-caller', { hasText: 'Outbound' }).waitFor();
    const e0 = await inboundAudio(ned);
    const e1 = await hearsMore(ned, e0);
    assert.ok(e1.energy > e0.energy, `the echo of Ned's microphone comes back (${e0.energy} → ${e1.energy})`);
    await shot(ned, 'browser-phone-click-to-call');
    await sp.getByRole('button', { name: 'End call' }).click();
    await wrapUp(ned);
    assert.equal(await far.exited, 0, far.out());
    expectClean(ned);
  } finally {
    if (far.proc.exitCode === null) far.proc.kill('SIGTERM');
    await away('ned');
    await ned.close();
  }
});

async function amyCalls(service = '5000') {
  const amy = await new Baresip(sb, '15550199', { audio: toneWav(TONES.amy), register: false }).start();
  await sleep(300);
  await amy.command('dial', `sip:${service}@127.0.0.1:${sb.sipPort}`);
  return amy;
}

test('a warm transfer with both agents on browsers: Ned to Beth, consult, Join, Ned leaves; Amy hears Beth', async () => {
  const ned = await agentPage('ned');
  const beth = await agentPage('beth');
  let amy;
  try {
    await goAvailable(ned);
    amy = await amyCalls();
    const nsp = ned.locator('.softphone');
    const bsp = beth.locator('.softphone');
    await ned.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 20000 });
    await nsp.getByRole('button', { name: 'Accept' }).click();
    await nsp.locator('[data-browser-leg="connected"]').waitFor({ timeout: 15000 });
    await goAvailable(beth);
    await nsp.getByRole('button', { name: 'Quick connects' }).click();
    const qc = nsp.getByRole('dialog', { name: 'Quick connects' });
    await qc.getByRole('listbox', { name: 'Quick connects' }).getByRole('option', { name: /Beth Agent/ }).waitFor();
    await ned.keyboard.type('beth');
    await ned.keyboard.press('Enter');
    await qc.getByRole('radio', { name: /Warm/ }).waitFor();
    await ned.keyboard.press('Enter');
    await nsp.locator('[data-internal-transfer]').waitFor();

    // Beth's browser rings with the transfer; she answers there.
    await beth.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 15000 });
    await bsp.getByText('Incoming transfer').waitFor();
    await beth.waitForFunction(() => document.title.startsWith('☎ Incoming call'));
    await bsp.getByRole('button', { name: 'Accept' }).click();
    await bsp.locator('[data-xfer-phase="consult"][data-xfer-role="second"]').waitFor({ timeout: 15000 });
    await bsp.getByRole('button', { name: 'Join' }).click();
    await nsp.locator('[data-xfer-phase="conference"]').waitFor();
    await sleep(1000);
    await nsp.getByRole('button', { name: 'Leave' }).click();
    await wrapUp(ned);
    await bsp.locator('[data-xfer-notice]', { hasText: 'the call is yours now' }).waitFor();
    const b0 = await inboundAudio(beth);
    const tLeft = Date.now();
    await sleep(3000);
    const b1 = await inboundAudio(beth);
    assert.ok(b1.energy > b0.energy, `Beth hears Amy (${b0.energy} → ${b1.energy})`);
    await amy.command('hangup');
    await wrapUp(beth);
    // What Amy received in the last seconds: the agents' tone (Beth's browser; Ned has left).
    const rx = readWav(amy.receivedWavs()[0]);
    const end = rx.samples.length / rx.rate;
    const lvl = toneLevel(rx, TONES.ned, end - (Date.now() - tLeft) / 1000 + 0.5, end - 0.5);
    assert.ok(lvl > 0.02, `Amy hears Beth after Ned left (${lvl})`);
    expectClean(ned);
    expectClean(beth);
  } finally {
    await finish(amy, ['ned', 'beth'], [ned, beth]);
  }
});

test('closing the agent\'s tab mid-offer sends the call to the next agent', async () => {
  const ned = await agentPage('ned');
  const beth = await agentPage('beth');
  let amy;
  try {
    await goAvailable(ned);
    await goAvailable(beth);
    amy = await amyCalls();
    // Whoever is offered the call first closes the tab while it rings.
    const first = await Promise.race([ned, beth].map((p) => p.locator('.softphone[data-phase="offer"]')
      .waitFor({ timeout: 20000 }).then(() => p)));
    const next = first === ned ? beth : ned;
    const nextUser = first === ned ? 'beth' : 'ned';
    await first.close();
    const sp = next.locator('.softphone');
    await next.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 20000 });
    await sp.getByRole('button', { name: 'Accept' }).click();
    await sp.locator('[data-browser-leg="connected"]').waitFor({ timeout: 15000 });
    const number = await interactionOf(next);
    const ix = (await sb.api('GET', `/api/v1/interactions/${number}`, { token: admin })).body;
    assert.equal(ix.agent, nextUser);
    const e0 = await inboundAudio(next);
    await hearsMore(next, e0); // the next agent hears Amy
    await amy.command('hangup');
    await wrapUp(next);
    expectClean(next);
  } finally {
    await finish(amy, ['ned', 'beth'], [ned, beth]);
  }
});

test('Reject in the browser declines the offer (rtc.reject): Ned is Missed, the call goes to Beth, the ring stops', async () => {
  const ned = await agentPage('ned');
  const beth = await agentPage('beth');
  let amy;
  try {
    await goAvailable(ned);
    amy = await amyCalls();
    const nsp = ned.locator('.softphone');
    await ned.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 20000 });
    await ned.waitForFunction(() => document.title.startsWith('☎ Incoming call'));
    await goAvailable(beth);
    await nsp.getByRole('button', { name: 'Reject' }).click();
    await ned.locator('.softphone[data-phase="idle"]').waitFor();
    await ned.waitForFunction(() => !document.title.startsWith('☎'));
    await until('ned Missed', async () => (await presence('ned')) === 'Missed');
    assert.equal(await ned.evaluate(() => window.__pcs.length), 0, 'no connection was made for a rejected offer');
    const bsp = beth.locator('.softphone');
    await beth.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 20000 });
    await bsp.getByRole('button', { name: 'Accept' }).click();
    await bsp.locator('[data-browser-leg="connected"]').waitFor({ timeout: 15000 });
    assert.equal((await sb.api('GET', `/api/v1/interactions/${await interactionOf(beth)}`, { token: admin })).body.agent, 'beth');
    await sleep(1000);
    await amy.command('hangup');
    await wrapUp(beth);
    expectClean(ned);
    expectClean(beth);
  } finally {
    await finish(amy, ['ned', 'beth'], [ned, beth]);
  }
});

test('a manager listens in from her browser: Mia picks This browser on the live view, Listen, her browser answers by itself and hears the call', async () => {
  const ned = await agentPage('ned');
  const mia = await agents.page();
  await recordPeerConnections(mia);
  let amy;
  try {
    await signIn(mia, sb.url, 'mia');
    await mia.waitForURL(/\/manager$/);
    const choice = mia.getByRole('radiogroup', { name: 'Listen in on' });
    await choice.getByRole('radio', { name: 'This browser' }).click();
    await mia.locator('.sp-device.ok', { hasText: 'Browser phone ready' }).waitFor();
    await goAvailable(ned);
    amy = await amyCalls();
    const nsp = ned.locator('.softphone');
    await ned.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 20000 });
    await nsp.getByRole('button', { name: 'Accept' }).click();
    await nsp.locator('[data-browser-leg="connected"]').waitFor({ timeout: 15000 });
    const talking = mia.locator('[data-calls] tr[data-phase="bridged"]');
    await talking.waitFor({ timeout: 15000 });
    await talking.locator('[data-monitor="listen"]').click();
    await mia.waitForFunction(() => window.__pcs.length === 1 && window.__pcs[0].connectionState === 'connected', null, { timeout: 15000 });
    assert.ok(!(await mia.title()).startsWith('☎'), 'a monitoring leg does not ring');
    const m0 = await inboundAudio(mia);
    const m1 = await hearsMore(mia, m0);
    assert.ok(m1.energy > m0.energy, `Mia hears the call (${m0.energy} → ${m1.energy})`);
    await shot(mia, 'browser-phone-manager-listens');
    await amy.command('hangup');
    await wrapUp(ned);
    await mia.waitForFunction(() => window.__pcs[0].connectionState === 'closed', null, { timeout: 10000 });
    expectClean(ned);
    expectClean(mia);
  } finally {
    await finish(amy, ['ned'], [ned, mia]);
  }
});
