// Signing in and out in the browser, and a session that ends under the
// page: the workspace goes back to the sign-in page and says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, expectClean, shot, signIn } from './lib/browser.mjs';
import { startServer } from './lib/setup.mjs';

let sb, browser;
before(async () => {
  sb = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await sb?.stop();
});

test('a wrong password is refused with a message; the right one opens the inbox', async () => {
  const page = await browser.page();
  await page.goto(`${sb.url}/`);
  await page.waitForURL(/\/signin$/); // not signed in: sent to the sign-in page
  await shot(page, 'signin');
  await page.getByLabel('User name').fill('ned');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await assert.doesNotReject(page.getByRole('alert').filter({ hasText: 'user name or password is not right' }).waitFor());
  assert.equal(await page.getByLabel('Password').inputValue(), '', 'the password field is emptied');
  // Chromium itself logs the 401 of the refused sign-in.
  expectClean(page, [/status of 401/]);
  await page.getByLabel('Password').fill('demo-pass');
  await page.getByLabel('Password').press('Enter'); // the keyboard works too
  await page.getByRole('heading', { name: 'Good to see you, Ned' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).waitFor();
  assert.equal(await page.locator('.me-name').textContent(), 'Ned Agent');
  expectClean(page);
  await page.close();
});

test('sign out ends the session on the server too', async () => {
  const page = await browser.page();
  await signIn(page, sb.url, 'beth');
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('switchboard.session')).token);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('[data-flash]').filter({ hasText: 'You are signed out' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/signin');
  const me = await sb.api('GET', '/api/v1/me', { token });
  assert.equal(me.status, 401, 'the token no longer works');
  // Reloading stays signed out.
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  expectClean(page);
  await page.close();
});

test('a session ended elsewhere sends the page back to sign-in with the reason', async () => {
  const page = await browser.page();
  await signIn(page, sb.url, 'ned');
  await page.getByRole('heading', { name: 'Good to see you, Ned' }).waitFor();
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('switchboard.session')).token);
  // The session ends on the server (as when it expires): the page's next request gets a 401.
  assert.equal((await sb.api('POST', '/api/v1/logout', { token })).status, 200);
  await page.getByRole('link', { name: 'Interactions' }).click();
  await page.locator('[data-flash]').filter({ hasText: 'session has expired or was ended' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/signin');
  expectClean(page, [/status of 401/, /WebSocket/]);
  await shot(page, 'signin-expired');
  await page.close();
});

test('a stored token the server no longer knows is dropped at load', async () => {
  const page = await browser.page();
  await page.goto(`${sb.url}/signin`);
  await page.evaluate(() => localStorage.setItem('switchboard.session',
    JSON.stringify({ token: 'f'.repeat(64), user_name: 'ned' })));
  await page.goto(`${sb.url}/interactions`);
  // (20 s: once, under a loaded CI machine, 8 s was not enough for the first page load.)
  await page.locator('[data-flash]').filter({ hasText: 'session has expired' }).waitFor({ timeout: 20000 });
  assert.equal(new URL(page.url()).pathname, '/signin');
  assert.equal(await page.evaluate(() => localStorage.getItem('switchboard.session')), null);
  expectClean(page, [/status of 401/]);
  await page.close();
});
