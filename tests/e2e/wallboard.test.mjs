// The wallboard in the browser (issue 14 items 1, 2, 4; docs/WALLBOARD.md):
// Mia's manager view follows sipp callers joining Support, abandoning and
// being answered on Ned's baresip phone without a reload and without
// polling — every figure comes from the event stream, so no request to
// /api/v1/queues is made at all and no GET repeats — shows the live call
// ticking in its state, raises the service-level alert, and lets Mia end a
// call, set Ned Away and sign him out from the view. Screenshots in build/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, expectClean, shot, signIn } from './lib/browser.mjs';
import { Baresip, sipp, startServer, waitRegistered } from './lib/setup.mjs';

let sb, browser, tok, phone;
before(async () => {
  sb = await startServer('calls:\n  greeting_ms: 300\n  offer_timeout: 20\n');
  browser = await launch();
  tok = { admin: await sb.login('admin'), ned: await sb.login('ned') };
  phone = await new Baresip(sb, 'ned').start();
  await waitRegistered(sb, tok.admin, 'ned');
});
after(async () => {
  await phone?.stop();
  await browser?.close();
  await sb?.stop();
});

async function nedPresence(status, reason) {
  const r = await sb.api('PUT', '/api/v1/agents/ned/presence', { token: tok.ned, body: { status, reason } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

test('the wallboard follows callers joining, abandoning and being answered, without a reload or polling', async () => {
  const page = await browser.page();
  const gets = [];
  page.on('request', (r) => { if (r.url().includes('/api/')) gets.push(`${r.method()} ${new URL(r.url()).pathname}${new URL(r.url()).search}`); });
  await nedPresence('Away', 'Break');
  await signIn(page, sb.url, 'mia');
  await page.getByRole('heading', { name: 'Queues and agents' }).waitFor();
  await page.locator('.live-pill.on').waitFor();
  const tile = page.locator('[data-queue="Support"]');
  await tile.waitFor();
  assert.equal(await tile.locator('[data-waiting]').textContent(), '0');
  assert.equal(await tile.locator('[data-offered]').textContent(), '0');
  assert.equal(await tile.locator('[data-sl]').textContent(), '—');
  await page.getByText('No call right now.').waitFor();
  const loadedAt = await page.evaluate(() => performance.timeOrigin);

  // A caller joins while nobody takes calls: waiting, the longest wait ticks,
  // the live call shows and ticks, the service level is at risk.
  const first = sipp(sb, 'caller.xml', { caller: '15550101', pauseMs: 4000 });
  await tile.locator('[data-waiting]', { hasText: '1' }).waitFor({ timeout: 10000 });
  await tile.locator('[data-longest]', { hasText: /^0:0[1-9]$/ }).waitFor();
  assert.equal(await tile.locator('[data-sl]').textContent(), '—', 'nothing decided yet');
  const row = page.locator('[data-calls] tr[data-phase="queued"]');
  await row.waitFor();
  assert.match(await row.textContent(), /Waiting in queue/);
  assert.match(await row.textContent(), /\+1 555 0101/);
  await row.locator('[data-in-phase]', { hasText: /^0:0[1-9]$/ }).waitFor();
  await tile.locator('[data-at-risk]').waitFor();
  await page.locator('[data-alert="sl_at_risk"]', { hasText: 'nobody is taking calls and 1 wait' }).waitFor();
  await shot(page, 'wallboard-waiting', { fullPage: true });
  // ... and abandons
  assert.equal((await first).code, 0);
  await tile.locator('[data-waiting]', { hasText: '0' }).waitFor({ timeout: 5000 });
  await tile.locator('[data-abandoned]', { hasText: '1' }).waitFor();
  assert.equal(await tile.locator('[data-offered]').textContent(), '1');
  assert.equal(await tile.locator('[data-sl]').textContent(), '100%', 'abandoned within the threshold (Amazon Connect)');
  await page.getByText('No call right now.').waitFor();
  await page.locator('[data-feed] li', { hasText: 'abandoned' }).waitFor();

  // Ned is Available: the next caller is answered on his phone.
  await nedPresence('Available');
  await tile.locator('[data-available]', { hasText: '1' }).waitFor();
  const second = sipp(sb, 'caller.xml', { caller: '15550102', pauseMs: 20000, timeoutS: 40 });
  const talking = page.locator('[data-calls] tr[data-phase="bridged"]');
  await talking.waitFor({ timeout: 15000 });
  assert.match(await talking.textContent(), /Talking/);
  assert.match(await talking.textContent(), /ned/);
  await tile.locator('[data-answered]', { hasText: '1' }).waitFor();
  await tile.locator('[data-on-call]', { hasText: '1' }).waitFor();
  assert.equal(await tile.locator('[data-offered]').textContent(), '2');
  assert.match(await tile.locator('[data-asa]').textContent(), /^0:0\d$/);
  await page.locator('[data-agent="ned"] .badge', { hasText: 'Busy' }).waitFor();
  for (const m of ['listen', 'whisper', 'barge']) assert.equal(await talking.locator(`[data-monitor="${m}"]`).count(), 1, m);
  await shot(page, 'wallboard', { fullPage: true });

  // Mia ends the call from the view (two steps): Ned wraps up.
  await talking.locator('[data-end]').click();
  await talking.locator('[data-end-confirm]').click();
  await page.getByText('No call right now.').waitFor({ timeout: 10000 });
  await page.locator('[data-agent="ned"] .badge', { hasText: 'After call work' }).waitFor();
  await second;
  const clear = await sb.api('POST', '/api/v1/agents/ned/clear', { token: tok.ned, body: { wrap_up_code: 'Resolved' } });
  assert.equal(clear.status, 200, JSON.stringify(clear.body));
  await tile.locator('[data-aht]', { hasText: /^0:\d\d$/ }).waitFor();
  // ... and sets him Away
  await page.locator('[data-agent="ned"] .badge', { hasText: 'Available' }).waitFor();
  await page.locator('[data-agent="ned"] [data-force-away]').click();
  await page.locator('[data-agent="ned"] .badge', { hasText: 'Away' }).waitFor();
  await tile.locator('[data-away]', { hasText: '1' }).waitFor();
  assert.equal((await sb.api('GET', '/api/v1/agents/ned/presence', { token: tok.admin })).body.presence, 'Away');
  // ... and signs him out
  await page.locator('[data-agent="ned"] [data-force-offline]').click();
  await page.locator('[data-agent="ned"] .badge', { hasText: 'Offline' }).waitFor();
  assert.equal(await page.locator('[data-agent="ned"] [data-force-offline]').count(), 0, 'nothing to do for an agent signed out');
  assert.equal((await sb.api('GET', '/api/v1/agents/ned/presence', { token: tok.admin })).body.presence, 'Offline');

  // No reload, no polling: the same document, no /queues read at all, no GET twice.
  assert.equal(await page.evaluate(() => performance.timeOrigin), loadedAt, 'the page was not reloaded');
  assert.deepEqual(gets.filter((g) => g.includes('/api/v1/queues')), [], 'no /queues request');
  assert.deepEqual(gets.filter((g) => g.startsWith('GET /api/v1/interactions')), [], 'today is not counted in the browser');
  const repeated = gets.filter((g, i) => g.startsWith('GET') && gets.indexOf(g) !== i);
  assert.deepEqual(repeated, [], `a GET repeated: ${JSON.stringify(gets)}`);
  expectClean(page);
  await page.close();
});
