// Debian's Chromium, headless, driven by playwright-core (no browser
// download: executablePath is the system one). playwright starts it with a
// fresh --user-data-dir of its own, and every page gets its own context
// (its own localStorage: separate sign-ins). Every page records console errors, uncaught exceptions and failed
// requests; expectClean() fails the test on any that the test did not
// expect (e.g. the 401 of a wrong password, which Chromium logs itself).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const SHOTS = resolve(new URL('../../../build/screenshots/', import.meta.url).pathname);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// extraArgs: more Chromium flags (fake media devices for the browser phone).
export async function launch({ extraArgs = [] } = {}) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', ...extraArgs],
  });
  return {
    browser,
    async page() {
      const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-US', timezoneId: 'UTC' });
      ctx.setDefaultTimeout(8000);
      const page = await ctx.newPage();
      const close = page.close.bind(page);
      page.close = async () => { await close(); await ctx.close(); };
      page.problems = [];
      page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
      page.on('pageerror', (e) => page.problems.push(`exception: ${e.message}`));
      page.on('requestfailed', (r) => {
        const why = r.failure()?.errorText || '';
        // A recording's Blob URL revoked on navigation, or a request the
        // page itself aborted by leaving: not a problem.
        if (!/ERR_ABORTED/.test(why)) page.problems.push(`request failed: ${r.url()} ${why}`);
      });
      return page;
    },
    async close() {
      await browser.close();
    },
  };
}

// Fails on console errors, exceptions and failed requests, except those
// matching one of allow (RegExps), which the test caused on purpose.
export function expectClean(page, allow = []) {
  const bad = page.problems.filter((p) => !allow.some((re) => re.test(p)));
  page.problems = [];
  assert.deepEqual(bad, [], 'the page reported errors');
}

export async function shot(page, name, { fullPage = false } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

export async function signIn(page, url, user, password = 'demo-pass') {
  await page.goto(`${url}/signin`);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.topbar').waitFor();
}
