// The admin view in the browser (issue 10, item 14): the admin lands on it;
// a queue, an agent with a SIP password, her membership and a number are
// set up in the browser, and a real call to that number reaches her
// baresip phone, with no restart and no file edited. The audit log shows
// the changes; a flow that does not load shows its file:line beside the
// editor; a refused delete shows the server's reason; an external quick
// connect added in the browser is in the agents' list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, expectClean, shot, signIn } from './lib/browser.mjs';
import { Baresip, sipp, startServer, waitRegistered } from './lib/setup.mjs';

// web_root given explicitly, so the test also runs with an SB_BIN outside a
// project tree (the server's default is <project of the binary>/web/dist).
const WEB = new URL('../../web/dist', import.meta.url).pathname;
// Baresip takes the SIP password as an option (tests/integration/lib/peers.mjs),
// so zoe gets a SIP password of her own, not demo-pass.
const ZOE_SIP = 'zoe-phone-7400';
const ZOE_PASSWORD = 'zoe-signs-in-1';
// Chromium logs the refusals the test causes on purpose (422, 409).
const REFUSALS = [/status of 409/, /status of 422/];

let sb, browser, page, admin, phone;

before(async () => {
  sb = await startServer(`http:\n  web_root: ${WEB}\ncalls:\n  greeting_ms: 0\n  offer_timeout: 15\n`);
  browser = await launch();
  admin = await sb.login('admin');
  page = await browser.page();
});
after(async () => {
  await phone?.stop();
  await page?.close();
  await browser?.close();
  await sb?.stop();
});

const adminNav = () => page.getByRole('navigation', { name: 'Administration' });
const section = async (name, heading) => {
  await adminNav().getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
};
const toast = (text) => page.locator('.toast', { hasText: text }).waitFor();

test('the admin lands on the admin view; a non-admin is told it is for administrators', async () => {
  await signIn(page, sb.url, 'admin');
  await page.waitForURL(/\/admin\/users$/, { timeout: 8000 });
  await page.getByRole('heading', { level: 1, name: 'Users and agents' }).waitFor();
  const main = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await main.getByRole('link', { name: 'Admin' }).getAttribute('aria-current'), 'page');
  assert.equal(await main.getByRole('link', { name: 'Inbox' }).count(), 0, 'the admin is no agent');
  await page.locator('tr[data-user="ned"]').waitFor();
  await shot(page, 'admin-users');

  const other = await browser.page();
  try {
    await signIn(other, sb.url, 'beth');
    assert.equal(await other.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).count(), 0);
    await other.goto(`${sb.url}/admin/queues`);
    await other.getByRole('alert').filter({ hasText: 'Administrators only' }).waitFor();
    assert.equal(await other.locator('.admin-nav').count(), 0);
    expectClean(other);
  } finally {
    await other.close();
  }
  expectClean(page);
});

test('a queue, an agent with a SIP password, her membership and a number, set up in the browser', async () => {
  // b. the queue
  await section('Queues', 'Queues');
  const nq = page.getByRole('form', { name: 'New queue' });
  await nq.getByLabel('Name', { exact: true }).fill('Escalations');
  await nq.getByLabel('Service level (seconds)').fill('30');
  await nq.getByLabel('Wrap-up codes').fill('Resolved\nEscalated further');
  await nq.getByRole('button', { name: 'Create queue' }).click();
  await toast('Queue Escalations created.');
  await page.locator('tr[data-queue="Escalations"]').waitFor();

  // c. the user, with the agent roles and a SIP password
  await section('Users', 'Users and agents');
  const nu = page.getByRole('form', { name: 'New user' });
  await nu.getByLabel('User name', { exact: true }).fill('zoe');
  await nu.getByLabel('Name', { exact: true }).fill('Zoe Agent');
  await nu.getByLabel('Email', { exact: true }).fill('zoe@example.com');
  await nu.getByLabel('Password', { exact: true }).fill(ZOE_PASSWORD);
  await nu.getByLabel('SIP password', { exact: true }).fill(ZOE_SIP);
  await nu.getByText(/registers with: user name zoe/).waitFor(); // the form says what the phone uses
  // the realm and the registrar to type into the phone come from the server (GET /api/v1/me)
  await nu.getByText(new RegExp(`realm switchboard, registrar sip:127\\.0\\.0\\.1:${sb.sipPort}`)).waitFor();
  await nu.getByLabel('sn_openframe.user', { exact: true }).check();
  await nu.getByLabel('interaction_agent', { exact: true }).check();
  await nu.getByText('With these roles: an agent who can take calls.').waitFor();
  await shot(page, 'admin-user-create');
  await nu.getByRole('button', { name: 'Create user' }).click();
  await toast('User zoe created.');
  const zoeRow = page.locator('tr[data-user="zoe"]');
  await zoeRow.locator('[data-sip]', { hasText: 'Yes' }).waitFor();
  await zoeRow.getByText('interaction_agent').waitFor();

  // … and a member of Escalations
  await section('Queues', 'Queues');
  await page.getByRole('button', { name: 'Edit Escalations' }).click();
  const members = page.getByRole('region', { name: 'Members of Escalations' });
  await members.getByLabel('Add a member', { exact: true }).selectOption('zoe');
  await members.getByRole('button', { name: 'Add member' }).click();
  await toast('zoe added to Escalations.');
  await members.locator('tr[data-member="zoe"]').waitFor();
  await page.locator('tr[data-queue="Escalations"] [data-members]', { hasText: 'zoe' }).waitFor();
  await shot(page, 'admin-queue-members');

  // d. 7400 → Escalations
  await section('Numbers', 'Numbers');
  const nn = page.getByRole('form', { name: 'Set a number' });
  await nn.getByLabel('Number', { exact: true }).fill('7400');
  await nn.getByLabel('Queue', { exact: true }).selectOption('Escalations');
  await nn.getByRole('button', { name: 'Save number' }).click();
  await toast('Number 7400 now leads to the queue Escalations.');
  await page.locator('tr[data-number="7400"] [data-target]', { hasText: 'Queue Escalations' }).waitFor();
  await shot(page, 'admin-numbers');

  // What the server now holds.
  const q = await sb.api('GET', '/api/v1/queues/Escalations', { token: admin });
  assert.equal(q.body.service_level_seconds, 30);
  assert.deepEqual(q.body.wrap_up_codes, ['Resolved', 'Escalated further']);
  assert.deepEqual(q.body.members, ['zoe']);
  const n = await sb.api('GET', '/api/v1/numbers', { token: admin });
  assert.deepEqual(n.body.numbers.find((x) => x.number === '7400'), { number: '7400', queue: 'Escalations' });
  expectClean(page);
});

test('a call to 7400 reaches zoe’s phone, registered with the SIP password set in the browser', async () => {
  // e. her phone registers with the SIP password (baresip auto-answers)
  phone = await new Baresip(sb, 'zoe', { password: ZOE_SIP }).start();
  await waitRegistered(sb, admin, 'zoe', 10000);
  // f. she signs in (Offline → Away) and goes Available
  const zoe = await sb.login('zoe', ZOE_PASSWORD);
  assert.equal((await sb.api('GET', '/api/v1/agents/zoe/presence', { token: zoe })).body.presence, 'Away');
  const av = await sb.api('PUT', '/api/v1/agents/zoe/presence', { token: zoe, body: { status: 'Available' } });
  assert.equal(av.status, 200, JSON.stringify(av.body));
  // The admin's list shows her presence live (the event stream).
  await section('Users', 'Users and agents');
  const presence = page.locator('tr[data-user="zoe"] [data-presence]');
  await presence.getByText('Available').waitFor({ timeout: 5000 });
  await presence.getByText('phone registered').waitFor();

  // g. a caller dials 7400: the call is offered to zoe and her phone answers
  const call = sipp(sb, 'caller.xml', { service: '7400', caller: '15550123', pauseMs: 4000, timeoutS: 30 });
  const busy = await sb.until('zoe Busy on the call', async () => {
    const r = await sb.api('GET', '/api/v1/agents/zoe/presence', { token: admin });
    return r.body.presence === 'Busy' && r.body;
  }, 15000);
  assert.match(busy.interaction, /^INT\d+$/);
  const ix = await sb.api('GET', `/api/v1/interactions/${busy.interaction}`, { token: admin });
  assert.equal(ix.body.agent, 'zoe');
  assert.equal(ix.body.queue, 'Escalations');
  // Offered from Escalations to zoe, and answered on her phone (baresip auto-answers).
  const said = ix.body.activity.map((a) => a.text).join('\n');
  assert.match(said, /queued\) — Escalations/);
  assert.match(said, /assigned\) — zoe/);
  assert.match(said, /zoe: Available → Busy — inbound call accepted/);
  await presence.getByText('Busy').waitFor({ timeout: 5000 });
  await presence.scrollIntoViewIfNeeded();
  await shot(page, 'admin-users-zoe-busy');
  const r = await call;
  assert.equal(r.code, 0, `the caller's call was answered and ended cleanly:\n${r.out.slice(-1500)}`);
  await sb.until('zoe in wrap-up', async () =>
    (await sb.api('GET', '/api/v1/agents/zoe/presence', { token: admin })).body.presence === 'AfterCallWork', 10000);
  const clear = await sb.api('POST', '/api/v1/agents/zoe/clear', { token: zoe, body: { wrap_up_code: 'Resolved' } });
  assert.equal(clear.status, 200, JSON.stringify(clear.body));
  expectClean(page);
});

test('the audit log shows the admin’s changes, with filters', async () => {
  await section('Audit log', 'Audit log');
  for (const [action, object] of [['queue.create', 'Escalations'], ['user.create', 'zoe'],
    ['queue.member_set', 'Escalations/zoe'], ['number.set', '7400']]) {
    const row = page.locator(`tr[data-action="${action}"][data-object="${object}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /admin/, `${action} by admin`);
  }
  const created = await page.locator('tr[data-action="user.create"][data-object="zoe"]').textContent();
  assert.match(created, /sip_account/);
  assert.ok(!created.includes(ZOE_SIP) && !created.includes(ZOE_PASSWORD), 'no password in the log');
  assert.match(await page.locator('tr[data-action="number.set"]').first().textContent(), /queue.*Escalations/);
  await shot(page, 'admin-audit');
  // Only the queue changes.
  await page.getByLabel('Action', { exact: true }).fill('queue');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('tr[data-action="user.create"]').waitFor({ state: 'detached' });
  const actions = await page.locator('tr[data-action]').evaluateAll((rows) => rows.map((r) => r.dataset.action));
  assert.ok(actions.length >= 2 && actions.every((a) => a.startsWith('queue.')), actions.join(' '));
  expectClean(page);
});

test('a flow that does not load shows file:line beside the editor, with the line marked', async () => {
  await section('Flows', 'Call flows');
  await page.locator('tr[data-flow="main"]').waitFor();
  await page.getByRole('button', { name: 'New flow' }).click();
  const form = page.getByRole('form', { name: 'New flow' });
  await form.getByLabel('Flow name').fill('after-hours');
  await form.getByLabel('Flow YAML').fill([
    '# After hours: a word, then the escalations queue',
    'start: greet',
    'blocks:',
    '  greet:',
    '    kind: play',
    '    text: One moment please.',
    '    next: agents',
    '  agents:',
    '    kind: queue',
    '    queue: Escalation', // no such queue
    ''].join('\n'));
  await form.getByRole('button', { name: 'Create flow' }).click();
  const err = form.locator('[data-flow-error]');
  await err.waitFor();
  assert.equal(await err.getAttribute('role'), 'alert');
  const text = await err.textContent();
  assert.match(text, /after-hours\.yaml:8/);
  assert.match(text, /no queue named 'Escalation'/);
  assert.equal(await form.locator('.ed-ln-err').textContent(), '8', 'line 8 is marked in the gutter');
  await form.locator('.ed-band').waitFor();
  assert.equal(await form.getByLabel('Flow YAML').getAttribute('aria-invalid'), 'true');
  await form.getByRole('button', { name: 'Go to line 8' }).click();
  const selected = await form.getByLabel('Flow YAML').evaluate((t) => t.value.slice(t.selectionStart, t.selectionEnd));
  assert.equal(selected, '  agents:');
  await shot(page, 'admin-flow-error');
  assert.equal((await sb.api('GET', '/api/v1/flows/after-hours', { token: admin })).status, 404, 'nothing was written');

  // Fixed, it saves and is listed.
  const yaml = form.getByLabel('Flow YAML');
  await yaml.fill((await yaml.inputValue()).replace('queue: Escalation\n', 'queue: Support\n'));
  await form.getByRole('button', { name: 'Create flow' }).click();
  await toast('Flow after-hours saved');
  await page.waitForURL(/\/admin\/flows\/after-hours$/);
  await page.locator('tr[data-flow="after-hours"]').waitFor();
  await page.getByRole('form', { name: 'Flow after-hours' }).waitFor();
  expectClean(page, REFUSALS);
});

test('a refused delete shows the server’s reason: number 7400 leads to Escalations', async () => {
  await section('Queues', 'Queues');
  await page.getByRole('button', { name: 'Edit Escalations' }).click();
  await page.getByRole('button', { name: 'Delete queue Escalations' }).click();
  await page.getByRole('group', { name: 'Delete Escalations' }).getByRole('button', { name: 'Yes, delete' }).click();
  const refusal = page.locator('.danger [data-form-error]');
  await refusal.waitFor();
  assert.match(await refusal.textContent(), /cannot be deleted while number 7400 leads to it/);
  await refusal.scrollIntoViewIfNeeded();
  await shot(page, 'admin-queue-delete-refused');
  assert.equal((await sb.api('GET', '/api/v1/queues/Escalations', { token: admin })).status, 200, 'still there');
  expectClean(page, REFUSALS);
});

test('an external quick connect added in the browser is in the agents’ list; a duplicate name is refused beside the form; edit and delete', async () => {
  await section('Quick connects', 'Quick connects');
  await page.locator('tr[data-quick-connect="Legal desk"]').waitFor(); // the demo's two
  await page.locator('tr[data-quick-connect="Field service"] [data-number]', { hasText: '+1 555 0171' }).waitFor();
  const form = page.getByRole('form', { name: 'Add a quick connect' });
  await form.getByLabel('Name', { exact: true }).fill('legal DESK');
  await form.getByLabel('Number', { exact: true }).fill('+1 555 0190');
  await form.getByRole('button', { name: 'Add quick connect' }).click();
  const refusal = form.locator('[data-form-error]');
  await refusal.waitFor();
  assert.match(await refusal.textContent(), /a quick connect named 'legal DESK' exists/);
  await form.getByLabel('Name', { exact: true }).fill('Night line');
  await form.getByLabel('Number', { exact: true }).fill('+44 20 7946 0018');
  await form.getByRole('button', { name: 'Add quick connect' }).click();
  await toast('Quick connect Night line added.');
  await page.locator('tr[data-quick-connect="Night line"] [data-number]', { hasText: '+44 20 7946 0018' }).waitFor();
  await shot(page, 'admin-quick-connects');

  // What an agent's picker now lists (GET /api/v1/quick-connects as ned).
  const ned = await sb.login('ned');
  const l = await sb.api('GET', '/api/v1/quick-connects', { token: ned });
  assert.equal(l.status, 200, JSON.stringify(l.body));
  assert.deepEqual(l.body.external.map((x) => [x.name, x.number]),
    [['Legal desk', '+1 555 0170'], ['Field service', '+1 555 0171'], ['Night line', '+44 20 7946 0018']]);

  // Edit sends only what changed; Delete asks first.
  // The outcome is the row (and the audit entry below), not the 3.5-s toast.
  // On loaded CI runs the typed number was twice not what Save sent (the row
  // never changed; the cause is not found yet, see the session's note): the
  // field's value is checked before Save, and typed again if it was lost.
  const edit = page.getByRole('form', { name: 'Edit quick connect' });
  const newRow = page.locator('tr[data-quick-connect="Night line"] [data-number]', { hasText: '+44 20 7946 0019' });
  for (let attempt = 0; ; attempt++) {
    await page.getByRole('button', { name: 'Edit Night line' }).click();
    // Edit moves the focus to the form's first field once the form has
    // painted (useReveal's effect): typing before that lands in Name.
    await page.waitForFunction(() => document.activeElement?.id === 'qc-name');
    const num = edit.getByLabel('Number', { exact: true });
    await num.fill('+44 20 7946 0019');
    for (let i = 0; i < 20 && (await num.inputValue()) !== '+44 20 7946 0019'; i++) await new Promise((r) => setTimeout(r, 100));
    await edit.getByRole('button', { name: 'Save quick connect' }).click();
    try {
      await newRow.waitFor({ timeout: 5000 });
      break;
    } catch (e) {
      const said = await page.locator('[data-form-error]').allTextContents().catch(() => []);
      if (attempt === 1) throw new Error(`the edit did not apply twice; the form said: ${JSON.stringify(said)}`);
      console.log('quick connect edit not applied, once:', JSON.stringify(said));
    }
  }
  await page.getByRole('button', { name: 'Delete Night line' }).click();
  await page.getByRole('group', { name: 'Delete Night line' }).getByRole('button', { name: 'Yes, delete' }).click();
  await toast('Quick connect Night line deleted.');
  await page.locator('tr[data-quick-connect="Night line"]').waitFor({ state: 'detached' });
  const audit = await sb.api('GET', '/api/v1/audit?action=quick_connect', { token: admin });
  assert.deepEqual(audit.body.entries.map((e) => [e.action, e.object, e.after]), [
    ['quick_connect.delete', 'Night line', null],
    ['quick_connect.update', 'Night line', { number: '+44 20 7946 0019' }],
    ['quick_connect.create', 'Night line', { name: 'Night line', number: '+44 20 7946 0018' }]]);
  expectClean(page, REFUSALS);
});

test('the admin view uses a 1920-px screen and stays usable at 1000 px', async () => {
  for (const [width, height] of [[1920, 1080], [1000, 800]]) {
    await page.setViewportSize({ width, height });
    for (const s of ['users', 'queues', 'quick-connects', 'audit']) {
      await page.goto(`${sb.url}/admin/${s}`);
      await page.locator('.admin-grid .card, .admin-audit .card').first().waitFor();
      await page.locator('.loading').waitFor({ state: 'detached' });
      const m = await page.evaluate(() => ({
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        page: document.querySelector('.page').getBoundingClientRect().width,
        spill: [...document.querySelectorAll('.card')].filter((c) => c.scrollWidth > c.clientWidth + 1
          && getComputedStyle(c).overflowX === 'visible').length,
      }));
      assert.equal(m.overflow, 0, `${width} px, ${s}: the page scrolls sideways by ${m.overflow} px`);
      assert.equal(m.spill, 0, `${width} px, ${s}: a card's content runs out of it`);
      if (width === 1920) assert.ok(m.page >= 1500, `1920 px: the page is only ${m.page} px wide`);
    }
    await shot(page, `admin-layout-${width}`);
  }
  await page.setViewportSize({ width: 1366, height: 768 });
  expectClean(page);
});
