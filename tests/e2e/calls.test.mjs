// The workspace with real SIP peers: a sipp caller waiting in a queue as the
// manager watches, and a call answered on a baresip agent's phone, followed
// in the softphone, wrapped up with Clear contact, then read back on the
// interaction's form (activity stream and the recording's player).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, expectClean, shot, signIn } from './lib/browser.mjs';
import { Baresip, sipp, startServer, waitRegistered } from './lib/setup.mjs';

let sb, browser, admin;
before(async () => {
  sb = await startServer('calls:\n  greeting_ms: 600\n  offer_timeout: 3\n');
  browser = await launch();
  admin = await sb.login('admin');
});
after(async () => {
  await browser?.close();
  await sb?.stop();
});

const waiting = (page, queue) => page.locator(`[data-queue="${queue}"] [data-waiting]`);

test('the live view: a caller waiting in Support raises the count, hanging up lowers it', async () => {
  const page = await browser.page();
  await signIn(page, sb.url, 'mia');
  await page.getByRole('heading', { name: 'Queues and agents' }).waitFor();
  await page.locator('.live-pill.on').waitFor();
  assert.equal(await waiting(page, 'Support').textContent(), '0');
  // No agent is Available: the caller waits until they hang up (about 4 s after the answer).
  const call = sipp(sb, 'caller.xml', { service: '5000', pauseMs: 4000 });
  await page.locator('[data-queue="Support"] [data-waiting]', { hasText: '1' }).waitFor({ timeout: 10000 });
  await page.locator('[data-queue="Support"].has-waiting').waitFor();
  await page.locator('[data-queue="Support"] [data-longest]', { hasText: /^0:0[1-9]$/ }).waitFor(); // it ticks
  await shot(page, 'manager-waiting');
  const r = await call;
  assert.equal(r.code, 0, r.out);
  await page.locator('[data-queue="Support"] [data-waiting]', { hasText: '0' }).waitFor({ timeout: 5000 });
  await page.locator('[data-queue="Support"] [data-abandoned]', { hasText: '1' }).waitFor({ timeout: 5000 });
  expectClean(page);
  await page.close();
});

test('an answered call in the softphone, Clear contact, and the interaction form with its recording', async () => {
  const phone = await new Baresip(sb, 'ned').start();
  const agent = await browser.page();
  const mgr = await browser.page();
  try {
    await waitRegistered(sb, admin, 'ned');
    await signIn(agent, sb.url, 'ned');
    await agent.locator('.sp-device.ok', { hasText: 'Phone registered' }).waitFor();
    await agent.locator('.presence-button').click();
    await agent.getByRole('menuitem', { name: 'Available' }).click();
    await agent.locator('.softphone', { hasText: 'Ready for calls' }).waitFor();
    await signIn(mgr, sb.url, 'mia');
    await mgr.locator('.live-pill.on').waitFor();

    // amy (+1 555 0199) calls Support; ned's phone auto-answers.
    const call = sipp(sb, 'caller.xml', { service: '5000', caller: '15550199', pauseMs: 6000 });
    const sp = agent.locator('.softphone');
    await agent.locator('.softphone[data-phase="connected"]').waitFor({ timeout: 10000 });
    await sp.getByRole('link', { name: /Case CS0001002/ }).waitFor(); // screen pop: amy's cases
    // Caller identification: the name from her records, her number beside it.
    await sp.locator('[data-caller]', { hasText: 'Amy Customer' }).waitFor();
    await sp.locator('.sp-caller', { hasText: '+1 555 0199' }).waitFor(); // shown as the records show it (issue 10)
    assert.match(await sp.textContent(), /Recording/);
    await sp.locator('[data-timer]', { hasText: /^0:0[1-9]$/ }).waitFor(); // the call timer runs
    for (const name of ['Mute', 'Hold', 'Keypad', 'End call']) {
      assert.equal(await sp.getByRole('button', { name, exact: true }).count(), 1, name);
    }
    await sp.getByRole('button', { name: 'Keypad' }).click();
    await shot(agent, 'softphone-call');
    await sp.getByRole('button', { name: 'Keypad' }).click();
    // The manager sees ned Busy on that call.
    const row = mgr.locator('[data-agent="ned"]');
    await row.locator('.badge', { hasText: 'Busy' }).waitFor();
    await row.getByRole('link', { name: /^INT/ }).waitFor();
    await shot(mgr, 'manager');

    // The caller hangs up: wrap-up, then Clear contact with a code and a note.
    assert.equal((await call).code, 0);
    await agent.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await agent.locator('.presence-button[data-presence="AfterCallWork"]').waitFor();
    await sp.getByLabel('Wrap-up code').selectOption('Resolved');
    // the codes are the call's queue's (Support's list in the demo), not a fixed list
    assert.ok(await sp.locator('#wrap-code option', { hasText: 'Callback needed' }).count() === 1);
    await sp.getByLabel('Note for the activity stream').fill('Amy asked about her router; sent a replacement.');
    await shot(agent, 'softphone-wrapup');
    const ixLink = sp.getByRole('link', { name: /Open interaction/ });
    const number = (await ixLink.textContent()).match(/INT\d+/)[0];
    await sp.getByRole('button', { name: 'Clear contact' }).click();
    await agent.locator('.presence-button[data-presence="Available"]').waitFor();
    await agent.locator('.softphone[data-phase="idle"]').waitFor();

    // The interaction's form: its activity stream and the recording's player.
    await agent.goto(`${sb.url}/interactions/${number}`);
    await agent.getByRole('heading', { name: number }).waitFor();
    await agent.locator('.badge', { hasText: 'Closed Complete' }).waitFor();
    await agent.getByText('Wrap-up code', { exact: true }).waitFor(); // a field of the interaction
    // its durations, from its contact trace record (docs/CTR.md): Amy talked about 6 s
    const fieldValue = (label) => agent.locator('.field', { has: agent.getByText(label, { exact: true }) }).locator('dd');
    assert.match(await fieldValue('Talk time').textContent(), /^0:0[3-9]$/);
    assert.equal(await fieldValue('Hold time').textContent(), '0:00');
    assert.match(await fieldValue('Queue wait').textContent(), /^0:0\d$/);
    assert.match(await fieldValue('After-call work').textContent(), /^0:\d\d$/);
    const activity = agent.getByRole('list', { name: /Activity stream/ });
    await activity.locator('[data-kind="ctr"]', { hasText: `Contact trace record ${number}-1 (inbound)` }).waitFor();
    assert.equal(await activity.locator('[data-kind="ctr"] .act-kind').textContent(), 'Trace record');
    await activity.locator('[data-kind="note"]', { hasText: 'sent a replacement' }).waitFor();
    await activity.locator('[data-kind="recording"]').first().waitFor();
    assert.ok(await activity.locator('[data-kind="presence"]').count() > 0);
    const audio = agent.locator('audio');
    await audio.waitFor();
    const seconds = await audio.evaluate((a) => new Promise((ok) => {
      if (a.readyState >= 1) ok(a.duration);
      a.addEventListener('loadedmetadata', () => ok(a.duration));
      setTimeout(() => ok(-1), 5000);
    }));
    assert.ok(seconds > 3 && seconds < 15, `the player reads a ${seconds} s recording`);
    await shot(agent, 'interaction');
    expectClean(agent);

    // The manager's search finds it by agent and direction.
    await mgr.getByRole('link', { name: 'Interactions' }).click();
    await mgr.getByLabel('Agent').selectOption('ned');
    await mgr.getByLabel('Direction').selectOption('inbound');
    await mgr.getByRole('button', { name: 'Search' }).click();
    await mgr.getByRole('link', { name: number }).waitFor();
    await mgr.getByLabel('State').selectOption('closed_abandoned');
    await mgr.getByRole('button', { name: 'Search' }).click();
    await mgr.getByText('No interactions match these filters.').waitFor();
    await mgr.getByLabel('State').selectOption('');
    await mgr.getByRole('button', { name: 'Search' }).click();
    await mgr.getByRole('link', { name: number }).waitFor();
    await shot(mgr, 'search');
    expectClean(mgr);
  } finally {
    await agent.close();
    await mgr.close();
    await phone.stop();
  }
});
