// The phone in the browser without a call (issue 15): who may read the
// site's numbers (GET /api/v1/callable-numbers: any signed-in user), the
// "Call us" page for amy (a customer with no roles) and the "Test call"
// link for an agent, the device choice remembered across a reload, and a
// refused microphone: a Chromium whose permission prompt is refused (no
// --use-fake-ui-for-media-stream; playwright refuses prompts) shows the clear
// message, both when an agent chooses "This browser" and when amy calls; the
// browser registers again by itself when the stream comes back after a
// server restart. A fake microphone speaking a sentence to the demo's bot:
// the bot hears the browser's Opus (decoded, resampled to 8 kHz for the
// recogniser) and routes amy by what she said.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, expectClean, shot, signIn } from './lib/browser.mjs';
import { startServer } from './lib/setup.mjs';
import { speechWav48 } from './lib/phone.mjs';

let sb, browser, refusing, speaking;

before(async () => {
  sb = await startServer();
  browser = await launch({ media: {} });
  refusing = await launch({ media: { allow: false } });
  speaking = await launch({ media: { audio: speechWav48('I have a question about my bill') } });
});
after(async () => {
  await browser?.close();
  await refusing?.close();
  await speaking?.close();
  await sb?.stop();
});

test('GET /api/v1/callable-numbers: any signed-in user reads the numbers; nobody else', async () => {
  const anon = await sb.api('GET', '/api/v1/callable-numbers');
  assert.equal(anon.status, 401);
  const amy = await sb.login('amy');
  const r = await sb.api('GET', '/api/v1/callable-numbers', { token: amy });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const byNumber = Object.fromEntries(r.body.numbers.map((n) => [n.number, n]));
  assert.equal(byNumber['5000']?.queue, 'Support');
  assert.equal(byNumber['5002']?.flow, 'main');
  // The admin list stays the admin's.
  assert.equal((await sb.api('GET', '/api/v1/numbers', { token: amy })).status, 403);
  // Same content as the admin's list.
  const admin = await sb.login('admin');
  assert.deepEqual((await sb.api('GET', '/api/v1/numbers', { token: admin })).body, r.body);
});

test('amy (no roles) lands on Call us with the site numbers; an agent has Test call', async () => {
  const page = await browser.page();
  try {
    await signIn(page, sb.url, 'amy');
    await page.waitForURL(/\/call$/);
    await page.getByRole('heading', { name: 'Call us' }).waitFor();
    const nums = page.getByRole('radiogroup', { name: 'Numbers' });
    await nums.getByText('5002').waitFor();
    await nums.getByText('Straight to the Support queue').waitFor();
    await nums.getByText(/Call flow “main”/).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Call us' }).count(), 1);
    await page.getByRole('radio', { name: /5002/ }).check();
    await page.getByRole('button', { name: 'Call 5002' }).waitFor();
    await page.getByRole('button', { name: 'Audio settings' }).click();
    await page.getByLabel('Microphone').waitFor();
    await shot(page, 'callus');
    expectClean(page);
  } finally {
    await page.close();
  }
  const ned = await browser.page();
  try {
    await signIn(ned, sb.url, 'ned');
    await ned.getByRole('link', { name: 'Test call' }).click();
    await ned.getByRole('heading', { name: 'Call us' }).waitFor();
    await ned.getByRole('radio', { name: /5000/ }).waitFor();
    expectClean(ned);
  } finally {
    await ned.close();
  }
});

test('a refused microphone: the agent choosing This browser and amy calling are told what to do', async () => {
  const ned = await refusing.page();
  try {
    await signIn(ned, sb.url, 'ned');
    const sp = ned.locator('.softphone');
    await sp.getByRole('radio', { name: 'My SIP phone' }).waitFor();
    assert.equal(await sp.getByRole('radio', { name: 'My SIP phone' }).getAttribute('aria-checked'), 'true', 'the SIP phone by default');
    await sp.getByRole('radio', { name: 'This browser' }).click();
    const err = sp.locator('[data-mic-error]');
    await err.waitFor();
    assert.match(await err.innerText(), /Microphone blocked: the browser refused Switchboard the microphone.*Allow it in the site settings/s);
    // Still the SIP phone: a browser without a microphone is no phone.
    assert.equal(await sp.getByRole('radio', { name: 'My SIP phone' }).getAttribute('aria-checked'), 'true');
    expectClean(ned);
  } finally {
    await ned.close();
  }
  const amy = await refusing.page();
  try {
    await signIn(amy, sb.url, 'amy');
    await amy.getByRole('radio', { name: /5000/ }).check();
    await amy.getByRole('button', { name: 'Call 5000' }).click();
    const err = amy.locator('[data-call-error]');
    await err.waitFor();
    assert.match(await err.innerText(), /Microphone blocked/);
    await amy.getByRole('button', { name: 'New call' }).waitFor();
    expectClean(amy);
  } finally {
    await amy.close();
  }
});

// Ned signs in and picks This browser; his softphone once it is ready.
async function nedOnBrowser(ned) {
  await signIn(ned, sb.url, 'ned');
  const sp = ned.locator('.softphone');
  await sp.getByRole('radio', { name: 'This browser' }).click();
  await sp.locator('.sp-device.ok', { hasText: 'Browser phone ready' }).waitFor();
  return sp;
}

test('the device choice is remembered in this browser', async () => {
  const ned = await browser.page();
  try {
    const sp = await nedOnBrowser(ned);
    assert.equal(await ned.evaluate(() => localStorage.getItem('switchboard.phone')), 'browser');
    await ned.reload();
    await sp.getByRole('radio', { name: 'This browser', checked: true }).waitFor();
    await sp.getByRole('radio', { name: 'My SIP phone' }).click();
    await sp.locator('.sp-device', { hasText: 'Phone not registered' }).waitFor();
    assert.equal(await ned.evaluate(() => localStorage.getItem('switchboard.phone')), 'sip');
    expectClean(ned);
  } finally {
    await ned.close();
  }
});

test('the browser registers again when the event stream comes back (a server restart)', async () => {
  const ned = await browser.page();
  try {
    const sp = await nedOnBrowser(ned);
    await sb.stop({ keep: true });
    await sp.locator('.sp-device.warn', { hasText: 'Browser phone connecting' }).waitFor();
    await sp.getByText('Reconnecting to live updates').waitFor();
    sb.log = '';
    await sb.start();
    await sp.locator('.sp-device.ok', { hasText: 'Browser phone ready' }).waitFor({ timeout: 20000 });
    assert.match(sb.log, /agent=ned action=browser registered/);
    // The page's requests and socket failed while the server was down: that is the test.
    expectClean(ned, [/ERR_CONNECTION_REFUSED|WebSocket|Failed to load resource/]);
  } finally {
    await ned.close();
  }
});

test('amy tells the demo bot what she wants from her browser: the bot hears her and queues her in Billing', async () => {
  const amy = await speaking.page();
  try {
    const admin = await sb.login('admin');
    const waiting = async (queue) => (await sb.api('GET', '/api/v1/queues', { token: admin }))
      .body.queues.find((q) => q.name === queue)?.live.waiting || 0;
    await signIn(amy, sb.url, 'amy');
    await amy.getByRole('radio', { name: /5002/ }).check();
    await amy.getByRole('button', { name: 'Call 5002' }).click();
    await amy.locator('[data-call-phase="connected"]').waitFor({ timeout: 15000 });
    // No key is pressed: without the words the flow would end in Support
    // (no_input), so Billing and the recogniser's line say the bot heard her.
    await sb.until('the bot recognising amy', async () =>
      /block=ask action=recognised intent=billing .*text="i have a question about my bill"/.test(sb.log), 30000);
    await sb.until('amy waiting in Billing', async () => (await waiting('Billing')) === 1, 15000);
    assert.equal(await waiting('Support'), 0);
    const card = amy.getByLabel('Your call');
    await card.getByRole('button', { name: 'Hang up' }).click();
    await card.locator('[data-call-ended]', { hasText: 'You hung up.' }).waitFor();
    await sb.until('Billing empty again', async () => (await waiting('Billing')) === 0);
    expectClean(amy);
  } finally {
    await amy.close();
  }
});
