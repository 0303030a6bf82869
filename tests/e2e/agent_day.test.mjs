// An agent's day in the browser (issue 10): callers already waiting when the
// agent comes back from a break pop up in the softphone (the offer was sent
// before the Available event and the panel used to clear it), and the
// recording player on an interaction opened during the call shows the whole
// call once it ends, without a reload; the phone's registration is live.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, expectClean, shot, signIn } from './lib/browser.mjs';
import { Baresip, sipp, startServer, waitRegistered, wavInfo } from './lib/setup.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, browser, admin, phone;

before(async () => {
  sb = await startServer('calls:\n  greeting_ms: 0\n  offer_timeout: 20\n');
  browser = await launch();
  admin = await sb.login('admin');
  phone = await new Baresip(sb, 'ned', { answer: 'manual' }).start();
  await waitRegistered(sb, admin, 'ned');
});
after(async () => {
  await phone?.stop();
  await browser?.close();
  await sb?.stop();
});

const until = (what, fn, timeoutMs) => sb.until(what, fn, timeoutMs);

async function queuedCallers() {
  const r = await sb.api('GET', '/api/v1/queues', { token: admin });
  return r.body.queues.find((q) => q.name === 'Support')?.live.waiting || 0;
}

test('a caller waiting when the agent comes back from a break pops up; the player shows the whole call after it ends', async () => {
  const page = await browser.page();
  const viewer = await browser.page();
  try {
    await signIn(page, sb.url, 'ned');
    await page.locator('.sp-device.ok', { hasText: 'Phone registered' }).waitFor();
    await page.locator('.presence-button[data-presence="Away"]').waitFor();
    // amy calls while ned is on his break: she waits in Support.
    const call = sipp(sb, 'caller.xml', { service: '5000', caller: '15550199', pauseMs: 9000, timeoutS: 60 });
    await until('amy waiting in Support', async () => (await queuedCallers()) === 1);
    // Back from the break: the offer is sent at once, before the Available event.
    await page.locator('.presence-button').click();
    await page.getByRole('menuitem', { name: 'Available' }).click();
    const sp = page.locator('.softphone');
    await page.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 10000 });
    await sp.locator('[data-caller]', { hasText: 'Amy Customer' }).waitFor();
    await sleep(1500); // every event of the change has arrived by now
    assert.equal(await page.locator('.softphone[data-phase="offer"]').count(), 1, 'the offer is still shown');
    assert.equal(await sp.getByText('Ready for calls').count(), 0);
    await shot(page, 'agent-day-offer-after-break');

    await sp.getByRole('button', { name: 'Accept' }).click();
    await until('the auto-answer INVITE', async () => /action=accept: re-ringing with auto-answer/.test(sb.log));
    await sleep(300);
    await phone.command('accept');
    await page.locator('.softphone[data-phase="connected"]').waitFor({ timeout: 10000 });
    const number = (await sp.getByRole('link', { name: /Open interaction/ }).textContent()).match(/INT\d+/)[0];
    // A note during the call (issue 10): in the activity stream at once.
    await sp.locator('#call-note').fill('Amy asked about her router again.');
    await sp.getByRole('button', { name: 'Add note' }).click();
    await page.locator('.toast', { hasText: 'Note added' }).waitFor();

    // The interaction opened (by the agent, in another tab) two seconds into the call.
    await sleep(2000);
    await signIn(viewer, sb.url, 'ned');
    await viewer.goto(`${sb.url}/interactions/${number}`);
    await viewer.getByRole('heading', { name: number }).waitFor();
    const duration = () => viewer.locator('audio').evaluate((a) => new Promise((ok) => {
      if (a.readyState >= 1 && Number.isFinite(a.duration)) ok(a.duration);
      a.addEventListener('loadedmetadata', () => ok(a.duration), { once: true });
      setTimeout(() => ok(-1), 5000);
    }));
    const early = await duration();
    assert.ok(early > 0 && early < 6, `during the call the player has what was recorded so far (${early} s)`);

    await call; // amy hangs up after her pause
    await page.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 15000 });
    const file = wavInfo(join(sb.dataDir, 'recordings', `${number}.wav`), 1).seconds;
    let late = early;
    const t0 = Date.now();
    while (Math.abs(late - file) > 0.5 && Date.now() - t0 < 8000) {
      await sleep(500);
      late = await duration();
    }
    assert.ok(Math.abs(late - file) <= 0.5, `the player shows ${late} s of a ${file} s recording, without a reload`);
    await shot(viewer, 'agent-day-recording-after-call');
    await sp.getByRole('button', { name: 'Clear contact' }).click();
    await page.locator('.softphone[data-phase="idle"]').waitFor();
    await page.locator('.presence-button[data-presence="Available"]').waitFor();

    // The phone goes away (un-REGISTER): the panel says so at once, no reload,
    // and plainly that no call can reach the agent; it comes back the same way.
    await phone.stop();
    phone = null;
    await page.locator('.sp-device.warn', { hasText: 'Phone not registered' }).waitFor({ timeout: 10000 });
    await sp.getByText(/no call can reach you: your SIP phone is not registered/).waitFor();
    await shot(page, 'agent-day-no-phone');
    phone = await new Baresip(sb, 'ned', { answer: 'manual' }).start();
    await page.locator('.sp-device.ok', { hasText: 'Phone registered' }).waitFor({ timeout: 10000 });
    await sp.getByText('Ready for calls').waitFor();
    expectClean(page);
    expectClean(viewer);
  } finally {
    await viewer.close();
    await page.close();
  }
});

test('keyboard first: Alt+A accepts, Alt+H holds and resumes, Alt+M mutes, Alt+E ends, Ctrl+Enter clears; ? lists them', async () => {
  const page = await browser.page();
  try {
    await signIn(page, sb.url, 'ned');
    await page.locator('.sp-device.ok', { hasText: 'Phone registered' }).waitFor({ timeout: 10000 });
    // The softphone comes before the page's content in the tab order.
    assert.equal(await page.evaluate(() => Boolean(document.querySelector('.softphone')
      .compareDocumentPosition(document.querySelector('main')) & Node.DOCUMENT_POSITION_FOLLOWING)), true);
    await page.locator('.presence-button').click();
    await page.getByRole('menuitem', { name: 'Available' }).click();
    await page.locator('.presence-button[data-presence="Available"]').waitFor();

    await page.locator('body').click({ position: { x: 5, y: 300 } }); // focus nowhere in particular
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    for (const k of ['A', 'R', 'H', 'M', 'E', 'C']) await help.getByText(k, { exact: true }).first().waitFor();
    await shot(page, 'agent-day-shortcuts');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });

    const call = sipp(sb, 'caller.xml', { service: '5000', caller: '15550199', pauseMs: 20000, timeoutS: 60 });
    const sp = page.locator('.softphone');
    await page.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 15000 });
    assert.match(await sp.getByRole('button', { name: 'Accept' }).getAttribute('title'), /\(Alt\+A\)/);
    // The screen pop has her history: the first test's call, its agent and its note.
    const hist = sp.getByRole('list', { name: 'Earlier calls' });
    await hist.locator('li', { hasText: 'ned' }).first().waitFor();
    await hist.getByText('Amy asked about her router again.').waitFor();
    await page.keyboard.press('Alt+KeyA');
    await sp.locator('[data-accepted]').waitFor();
    await until('the auto-answer INVITE', async () => /action=accept: re-ringing with auto-answer/.test(sb.log));
    await sleep(300);
    await phone.command('accept');
    await page.locator('.softphone[data-phase="connected"]').waitFor({ timeout: 10000 });
    await page.keyboard.press('Alt+KeyH');
    await sp.locator('.sp-status[data-held="true"]').waitFor();
    await page.keyboard.press('Alt+KeyH');
    await sp.locator('.sp-status[data-held="false"]').waitFor();
    await page.keyboard.press('Alt+KeyM');
    await sp.locator('.chip', { hasText: 'Muted' }).waitFor();
    await page.keyboard.press('Alt+KeyE');
    await page.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await sp.locator('#wrap-note').fill('Sorted by keyboard.');
    await page.keyboard.press('Control+Enter');
    await page.locator('.softphone[data-phase="idle"]').waitFor({ timeout: 10000 });
    await page.locator('.presence-button[data-presence="Available"]').waitFor();
    await call;
    // Her case's form lists her calls too (issue 10: the customer history on the forms).
    await page.goto(`${sb.url}/records/case/CS0001002`); // her case: its contact's phone is hers
    const calls = page.getByRole('list', { name: 'Earlier calls' });
    await calls.locator('li', { hasText: 'Sorted by keyboard.' }).waitFor();
    assert.ok(await calls.locator('li').count() >= 2, 'both of her calls');
    expectClean(page);
  } finally {
    await page.close();
  }
});

test('an agent without the call roles is told so plainly, not "Something went wrong"', async () => {
  const page = await browser.page();
  try {
    await signIn(page, sb.url, 'carl'); // awa_agent only (README): may not take calls or read records
    const sp = page.locator('.softphone');
    await sp.locator('[data-no-roles]', { hasText: 'Your account cannot take or place calls yet.' }).waitFor();
    await sp.getByText(/needs the roles sn_openframe\.user and interaction_agent/).waitFor();
    await page.locator('[data-refused]', { hasText: 'Not available to your account' }).first().waitFor();
    assert.equal(await page.getByText('Something went wrong').count(), 0);
    await shot(page, 'agent-day-no-roles');
    expectClean(page, [/403/]);
  } finally {
    await page.close();
  }
});

test('the workspace uses a 1920-px screen and stays usable at 1000 px', async () => {
  for (const [width, height] of [[1920, 1080], [1000, 800]]) {
    const page = await browser.page();
    try {
      await page.setViewportSize({ width, height });
      await signIn(page, sb.url, 'ned');
      await page.locator('.softphone').waitFor();
      await page.getByRole('tab', { name: 'Cases' }).waitFor();
      const m = await page.evaluate(() => ({
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        page: document.querySelector('.page').getBoundingClientRect().width,
        phone: document.querySelector('.softphone').getBoundingClientRect().width,
        // a card whose content is wider than it must scroll, not spill out
        spill: [...document.querySelectorAll('.card')].filter((c) => c.scrollWidth > c.clientWidth + 1
          && getComputedStyle(c).overflowX === 'visible').length,
      }));
      assert.equal(m.overflow, 0, `${width} px: the page scrolls sideways by ${m.overflow} px`);
      assert.equal(m.spill, 0, `${width} px: a card's content runs out of it`);
      if (width === 1920) assert.ok(m.page >= 1300, `1920 px: the page is only ${m.page} px wide`);
      assert.ok(m.phone >= 280, `${width} px: the softphone is ${m.phone} px`);
      await shot(page, `agent-day-layout-${width}`);
      expectClean(page);
    } finally {
      await page.close();
    }
  }
});
