// Transfers in the browser (issue 12, SPEC.md §6, the seed's "Transferring a
// call to an agent or queue"): Amy (a baresip caller) calls Support; Ned
// (signed in in one browser context, his baresip phone answering by hand)
// accepts; he opens Quick connects, types "beth", Enter, warm, a note,
// Enter; his softphone shows INTERNAL-TRANSFER with the customer on hold.
// Beth (another context, her own baresip phone) sees the offer as a
// transfer from Ned with the note and Amy's screen pop, accepts, Joins;
// the roster shows three parties; Ned leaves and goes to wrap-up; the
// interaction, opened in the browser, is Beth's with the transfer's
// activity. Then Cancel transfer, and a refusal shown in the server's words.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, expectClean, shot, signIn } from './lib/browser.mjs';
import { Baresip, startServer, waitRegistered } from './lib/setup.mjs';
import { TONES, toneWav } from '../integration/lib/tones.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, browser, admin, tok, phones;
const until = (what, fn, timeoutMs) => sb.until(what, fn, timeoutMs);


before(async () => {
  sb = await startServer('calls:\n  greeting_ms: 0\n  offer_timeout: 20\n');
  browser = await launch();
  admin = await sb.login('admin');
  tok = { ned: await sb.login('ned'), beth: await sb.login('beth') };
  phones = {
    ned: await new Baresip(sb, 'ned', { answer: 'manual', audio: toneWav(TONES.ned, 120) }).start(),
    beth: await new Baresip(sb, 'beth', { answer: 'manual', audio: toneWav(TONES.beth, 120) }).start(),
  };
  await waitRegistered(sb, admin, 'ned');
  await waitRegistered(sb, admin, 'beth');
});
after(async () => {
  for (const p of Object.values(phones || {})) await p.stop();
  await browser?.close();
  await sb?.stop();
});

async function setPresence(page, status) {
  await page.locator('.presence-button').click();
  await page.getByRole('menuitem', { name: status === 'Away' ? 'Away · Break' : status }).click();
  await page.locator(`.presence-button[data-presence="${status}"]`).waitFor();
}

async function presence(user) {
  return (await sb.api('GET', `/api/v1/agents/${user}/presence`, { token: admin })).body.presence;
}

// How many times the server has rung a phone with auto-answer (an Accept).
const autoAnswers = () => (sb.log.match(/action=invite to=[^\n]* auto-answer/g) || []).length;

// Accept in the softphone: the server re-rings the phone with auto-answer,
// which baresip 1.0 ignores, so the test answers on the device.
async function acceptOn(page, phone) {
  const before = autoAnswers();
  await page.locator('.softphone').getByRole('button', { name: 'Accept' }).click();
  await until('the phone re-rung with auto-answer', async () => autoAnswers() > before);
  await sleep(400);
  await phone.command('accept');
}

// Amy calls Support from baresip; Ned (the only one Available) is offered
// the call, accepts it in the browser and answers on his phone.
async function amyCallsNed(ned) {
  let amy = await new Baresip(sb, '15550199', { audio: toneWav(TONES.amy, 120), register: false }).start();
  await sleep(300);
  try {
    await amy.command('dial', `sip:5000@127.0.0.1:${sb.sipPort}`);
  } catch (e) { // once, on a loaded machine, her baresip never opened its control port: start another
    console.log(`amy's baresip did not take the dial (${e.message}); exit ${amy.proc?.exitCode}\n${amy.log.slice(-1500)}`);
    await amy.stop();
    amy = await new Baresip(sb, '15550199', { audio: toneWav(TONES.amy, 120), register: false }).start();
    await sleep(500);
    await amy.command('dial', `sip:5000@127.0.0.1:${sb.sipPort}`);
  }
  const sp = ned.locator('.softphone');
  await ned.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 20000 });
  await sp.locator('[data-caller]', { hasText: 'Amy Customer' }).waitFor();
  await acceptOn(ned, phones.ned);
  await ned.locator('.softphone[data-phase="connected"]').waitFor({ timeout: 10000 });
  const number = (await sp.getByRole('link', { name: /Open interaction/ }).first().textContent()).match(/INT\d+/)[0];
  return { amy, number };
}

// Picking an entry moves the focus to the warm/blind choice, warm checked.
const warmFocused = (page) => page.waitForFunction(() => document.activeElement?.name === 'qc-mode'
  && document.activeElement.value === 'warm' && document.activeElement.checked);

// At 1000 px the softphone is 300 px wide: the panel must fit it.
async function fitsAt1000(page, name) {
  await page.setViewportSize({ width: 1000, height: 768 });
  await sleep(100);
  const over = await page.locator('.softphone').evaluate((el) => el.scrollWidth - el.clientWidth);
  assert.ok(over <= 0, `the softphone overflows by ${over} px at 1000 px`);
  await shot(page, name);
  await page.setViewportSize({ width: 1366, height: 768 });
}

const roster = (page) => page.locator('.softphone').getByRole('list', { name: 'On the call' });

test('warm transfer as in the seed: Quick connects → beth → warm; INTERNAL-TRANSFER; Beth accepts and joins; Ned leaves; the interaction is Beth\'s', async () => {
  const ned = await browser.page();
  const beth = await browser.page();
  let amy;
  try {
    await signIn(ned, sb.url, 'ned');
    await signIn(beth, sb.url, 'beth');
    await ned.locator('.sp-device.ok').waitFor();
    await beth.locator('.sp-device.ok').waitFor();
    await setPresence(ned, 'Available');
    const call = await amyCallsNed(ned);
    amy = call.amy;
    const { number } = call;
    await setPresence(beth, 'Available');
    const nsp = ned.locator('.softphone');
    const bsp = beth.locator('.softphone');

    // Quick connects: the search box has the focus; typing filters.
    await nsp.getByRole('button', { name: 'Quick connects' }).click();
    const qc = nsp.getByRole('dialog', { name: 'Quick connects' });
    await qc.waitFor();
    const search = qc.getByRole('combobox');
    assert.equal(await search.evaluate((el) => el === document.activeElement), true, 'the search box has the focus');
    const list = qc.getByRole('listbox', { name: 'Quick connects' });
    await list.getByRole('option', { name: /Beth Agent/ }).waitFor();
    await list.getByRole('option', { name: /Billing/ }).waitFor(); // queues, with their callers waiting
    // The other agents who may take calls: not Ned himself, not Carl (no agent role pair).
    assert.equal(await list.getByRole('option', { name: /Ned Agent/ }).count(), 0);
    assert.equal(await list.getByRole('option', { name: /Carl Trainee/ }).count(), 0);
    await shot(ned, 'transfer-quick-connects');
    await fitsAt1000(ned, 'transfer-quick-connects-1000');
    await ned.keyboard.type('beth');
    assert.equal(await list.getByRole('option').count(), 1, 'only Beth matches "beth"');
    assert.equal(await list.getByRole('option', { name: /Beth Agent/ }).getAttribute('aria-selected'), 'true');
    await ned.keyboard.press('Enter');
    // Warm or blind: warm by default, and it has the focus.
    const warm = qc.getByRole('radio', { name: /Warm/ });
    await warm.waitFor();
    assert.equal(await warm.isChecked(), true);
    assert.equal(await warm.evaluate((el) => el === document.activeElement), true);
    await qc.locator('[data-transfer-to]', { hasText: 'Beth Agent' }).waitFor();
    await ned.keyboard.press('Tab');
    await ned.keyboard.type('billing question');
    assert.equal(await qc.getByLabel(/Note for Beth/).inputValue(), 'billing question');
    await shot(ned, 'transfer-warm-or-blind');
    await ned.keyboard.press('Enter');

    // Ned: INTERNAL-TRANSFER, Amy on hold with music, Beth's phone ringing.
    await nsp.locator('[data-internal-transfer]', { hasText: 'INTERNAL-TRANSFER' }).waitFor();
    await qc.waitFor({ state: 'detached' });
    await roster(ned).locator('[data-role="customer"][data-state="on_hold"]', { hasText: 'Amy Customer' }).waitFor();
    await roster(ned).locator('[data-role="customer"]', { hasText: 'On hold · hearing music' }).waitFor();
    await roster(ned).locator('[data-role="agent"]', { hasText: 'Ned Agent (you)' }).waitFor();
    await roster(ned).locator('[data-role="consult"][data-state="dialling"]', { hasText: 'Beth Agent' }).waitFor();
    await nsp.getByRole('button', { name: 'Cancel transfer' }).waitFor();
    assert.equal(await nsp.getByRole('button', { name: 'End call' }).count(), 0, 'End call is Leave during a transfer');

    // Beth: the offer says it is a transfer, from whom and why, with Amy's screen pop.
    await beth.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 10000 });
    await bsp.getByText('Incoming transfer').waitFor();
    await bsp.locator('[data-transfer-from="ned"]', { hasText: 'Transfer from Ned Agent' }).waitFor();
    await bsp.locator('[data-transfer-note]', { hasText: 'billing question' }).waitFor();
    await bsp.locator('[data-caller]', { hasText: 'Amy Customer' }).waitFor();
    await bsp.getByRole('link', { name: /User amy.*Amy Customer/ }).waitFor();
    await shot(ned, 'transfer-internal-transfer-ringing');
    await shot(beth, 'transfer-offer-to-beth');

    // Beth accepts: the consult. Ned and Beth talk; Amy still on hold.
    await acceptOn(beth, phones.beth);
    await beth.locator('.softphone[data-phase="connected"]').waitFor({ timeout: 10000 });
    await bsp.locator('[data-xfer-phase="consult"][data-xfer-role="second"]').waitFor();
    await bsp.getByText(/Consulting with Ned Agent/).waitFor();
    await roster(beth).locator('[data-role="customer"][data-state="on_hold"]').waitFor();
    await roster(beth).locator('[data-role="consult"]', { hasText: 'Beth Agent (you)' }).waitFor();
    await nsp.locator('[data-xfer-phase="consult"]').waitFor();
    await roster(ned).locator('[data-role="consult"][data-state="up"]', { hasText: 'Talking with Ned' }).waitFor();
    await shot(beth, 'transfer-consult-beth');

    // Join: three parties, no one on hold.
    await bsp.getByRole('button', { name: 'Join' }).click();
    for (const p of [ned, beth]) {
      await p.locator('.softphone [data-xfer-phase="conference"]').waitFor();
      await roster(p).getByRole('listitem').nth(2).waitFor();
      assert.equal(await roster(p).getByRole('listitem').count(), 3, 'three parties');
      assert.equal(await roster(p).locator('[data-state="on_hold"]').count(), 0, 'no one on hold');
    }
    await roster(ned).locator('[data-role="customer"]', { hasText: 'On the call' }).waitFor();
    assert.equal(await nsp.getByRole('button', { name: 'Cancel transfer' }).count(), 0, 'no cancel after the join');
    assert.equal(await bsp.getByRole('button', { name: 'Join' }).count(), 0);
    await shot(ned, 'transfer-three-parties');
    await fitsAt1000(ned, 'transfer-three-parties-1000');
    await sleep(1000);

    // Ned leaves: his softphone goes to wrap-up; the call is Beth's.
    await nsp.getByRole('button', { name: 'Leave' }).click();
    await ned.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await ned.locator('.presence-button[data-presence="AfterCallWork"]').waitFor();
    await nsp.locator('[data-handed-over]', { hasText: 'to Beth Agent' }).waitFor();
    await bsp.locator('[data-xfer-notice]', { hasText: 'Ned Agent left: the call is yours now.' }).waitFor();
    await bsp.locator('[data-internal-transfer]').waitFor({ state: 'detached' });
    await bsp.locator('.sp-status', { hasText: 'Connected' }).waitFor();
    await bsp.getByRole('button', { name: 'Hold', exact: true }).waitFor();
    assert.equal(await beth.locator('.presence-button').getAttribute('data-presence'), 'Busy');
    await shot(beth, 'transfer-call-is-beths');

    // The interaction, opened in Beth's browser (it is hers now): Beth
    // assigned, the transfer's activity in order.
    await bsp.getByRole('link', { name: `Open interaction ${number}` }).click();
    await beth.getByRole('heading', { name: number }).waitFor();
    await beth.locator('.field', { hasText: 'Assigned to' }).getByText('Beth Agent (beth)').waitFor();
    const activity = beth.getByRole('list', { name: /Activity stream/ });
    for (const re of [/Transfer to Beth Agent started: billing question/, /Beth Agent accepted the transfer/,
      /Beth Agent joined/, /^Ned Agent left$/, /Reassigned from Ned Agent to Beth Agent/]) {
      await activity.locator('[data-kind="transfer"] .act-text', { hasText: re }).waitFor();
    }
    // In the order they happened (the stream is newest first).
    const texts = await activity.locator('[data-kind="transfer"] .act-text').allTextContents();
    const order = ['started', 'accepted', 'joined', 'left', 'Reassigned'].map((w) => texts.findIndex((t) => t.includes(w)));
    assert.deepEqual([...order].sort((a, b) => b - a), order, `newest first: ${JSON.stringify(texts)}`);
    await shot(beth, 'transfer-interaction-reassigned');

    // Ned's Clear contact adds his note; Beth ends and clears, which closes it.
    await nsp.getByLabel('Note for the activity stream').fill('Handed to Beth for billing.');
    await nsp.getByRole('button', { name: 'Clear contact' }).click();
    await ned.locator('.presence-button[data-presence="Available"]').waitFor();
    await bsp.getByRole('button', { name: 'End call' }).click();
    await beth.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await bsp.getByRole('button', { name: 'Clear contact' }).click();
    await beth.locator('.presence-button[data-presence="Available"]').waitFor();
    await beth.locator('.badge', { hasText: 'Closed Complete' }).waitFor();
    await activity.locator('[data-kind="note"]', { hasText: 'Handed to Beth for billing.' }).waitFor();
    expectClean(ned);
    expectClean(beth);
  } catch (e) { // what each softphone showed, for the failure's report
    await shot(ned, 'transfer-failed-ned').catch(() => {});
    await shot(beth, 'transfer-failed-beth').catch(() => {});
    throw e;
  } finally {
    await amy?.stop();
    await ned.close();
    await beth.close();
  }
});

test('Cancel transfer by keyboard (Alt+Q, arrows, Enter); a refusal in the server\'s words; a transfer not taken', async () => {
  const ned = await browser.page();
  const beth = await browser.page();
  let amy;
  try {
    await signIn(ned, sb.url, 'ned');
    await signIn(beth, sb.url, 'beth');
    await setPresence(beth, 'Away');
    await setPresence(ned, 'Available');
    const call = await amyCallsNed(ned);
    amy = call.amy;
    await setPresence(beth, 'Available');
    const nsp = ned.locator('.softphone');
    const bsp = beth.locator('.softphone');

    // Alt+Q opens Quick connects; Down moves past the agents who cannot take it; Escape closes.
    await ned.keyboard.press('Alt+q');
    const qc = nsp.getByRole('dialog', { name: 'Quick connects' });
    await qc.waitFor();
    const list = qc.getByRole('listbox');
    await list.getByRole('option', { name: /Beth Agent/ }).waitFor();
    const active = () => list.locator('[aria-selected="true"]').getAttribute('data-key');
    assert.equal(await active(), 'agent:beth', 'the first that can be picked');
    await ned.keyboard.press('ArrowDown');
    assert.match(await active(), /^queue:/);
    await ned.keyboard.press('ArrowUp');
    assert.equal(await active(), 'agent:beth');
    await ned.keyboard.press('Escape');
    await qc.waitFor({ state: 'detached' });
    assert.equal(await nsp.getByRole('button', { name: 'Quick connects' }).evaluate((el) => el === document.activeElement), true,
      'the focus goes back to the button');

    // A refusal: Beth goes Away between the pick and the transfer.
    await ned.keyboard.press('Alt+q');
    await qc.getByRole('combobox').waitFor();
    await list.getByRole('option', { name: /Beth Agent/ }).waitFor();
    await ned.keyboard.press('Enter');
    await warmFocused(ned);
    await setPresence(beth, 'Away');
    await ned.keyboard.press('Enter');
    await qc.locator('[data-transfer-error]', { hasText: 'that agent is not Available' }).waitFor();
    await shot(ned, 'transfer-refused');
    await ned.keyboard.press('Escape');
    await qc.waitFor({ state: 'detached' });
    await setPresence(beth, 'Available');

    // Warm transfer to Beth, accepted; then Ned cancels it during the consult.
    await ned.keyboard.press('Alt+q');
    await qc.getByRole('combobox').fill('Beth');
    await ned.keyboard.press('Enter');
    await warmFocused(ned);
    await ned.keyboard.press('Enter');
    await nsp.locator('[data-internal-transfer]').waitFor();
    await beth.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 10000 });
    await bsp.locator('[data-transfer-from="ned"]').waitFor();
    assert.equal(await bsp.locator('[data-transfer-note]').count(), 0, 'no note given');
    await acceptOn(beth, phones.beth);
    await nsp.locator('[data-xfer-phase="consult"]').waitFor({ timeout: 10000 });
    await bsp.locator('[data-xfer-phase="consult"]').waitFor();
    await ned.keyboard.press('Alt+x'); // Cancel transfer
    await nsp.locator('[data-xfer-notice]', { hasText: 'Transfer to Beth Agent cancelled' }).waitFor();
    await nsp.locator('[data-internal-transfer]').waitFor({ state: 'detached' });
    await nsp.locator('.sp-status', { hasText: 'Connected' }).waitFor(); // back with Amy, not on hold
    assert.equal(await nsp.locator('.sp-status').getAttribute('data-held'), 'false');
    await beth.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await beth.locator('.toast', { hasText: 'Ned cancelled the transfer.' }).waitFor();
    await bsp.locator('[data-helped]', { hasText: 'You were on Ned Agent’s call: the interaction stays theirs.' }).waitFor();
    // Beth took part: she may still open it (read-only for her, it is Ned's).
    assert.equal(await bsp.getByRole('link', { name: /Open interaction/ }).count(), 1);
    await shot(ned, 'transfer-cancelled');
    await bsp.getByRole('button', { name: 'Clear contact' }).click();
    await beth.locator('.presence-button[data-presence="Available"]').waitFor();

    // A transfer Beth rejects: Ned keeps the call, the customer still on hold.
    await ned.keyboard.press('Alt+q');
    await qc.getByRole('combobox').fill('beth');
    await ned.keyboard.press('Enter');
    await warmFocused(ned);
    await ned.keyboard.press('Enter');
    await beth.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 10000 });
    await bsp.getByRole('button', { name: 'Reject' }).click();
    await nsp.locator('[data-xfer-notice]', { hasText: 'Beth Agent rejected it' }).waitFor();
    await nsp.locator('.sp-status[data-held="true"]', { hasText: 'On hold' }).waitFor();
    await shot(ned, 'transfer-not-taken');
    await nsp.getByRole('button', { name: 'Resume' }).click();
    await nsp.locator('.sp-status[data-held="false"]', { hasText: 'Connected' }).waitFor();
    assert.equal(await nsp.locator('[data-xfer-notice]').count(), 0, 'the notice goes with the hold');

    await nsp.getByRole('button', { name: 'End call' }).click();
    await ned.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await nsp.getByRole('button', { name: 'Clear contact' }).click();
    await ned.locator('.presence-button[data-presence="Available"]').waitFor();
    expectClean(ned, [/status of 409/]); // the refusal, on purpose
    expectClean(beth);
  } catch (e) { // what each softphone showed, for the failure's report
    await shot(ned, 'transfer-failed-ned').catch(() => {});
    await shot(beth, 'transfer-failed-beth').catch(() => {});
    throw e;
  } finally {
    await amy?.stop();
    await ned.close();
    await beth.close();
    for (const u of ['ned', 'beth']) {
      if ((await presence(u)) === 'AfterCallWork') await sb.api('POST', `/api/v1/agents/${u}/clear`, { token: tok[u], body: {} });
    }
  }
});

test('to the Billing queue, warm: Amy waits there on hold (INTERNAL-TRANSFER), Beth is offered it as a transfer, consults, Ned leaves', async () => {
  const ned = await browser.page();
  const beth = await browser.page();
  let amy;
  try {
    await signIn(ned, sb.url, 'ned');
    await signIn(beth, sb.url, 'beth');
    await setPresence(beth, 'Away');
    await setPresence(ned, 'Available');
    const call = await amyCallsNed(ned);
    amy = call.amy;
    const { number } = call;
    const nsp = ned.locator('.softphone');
    const bsp = beth.locator('.softphone');

    // Quick connects → "billing" → the Billing queue → warm, a note.
    await nsp.getByRole('button', { name: 'Quick connects' }).click();
    const qc = nsp.getByRole('dialog', { name: 'Quick connects' });
    await qc.getByRole('combobox').waitFor();
    await ned.keyboard.type('billing');
    const list = qc.getByRole('listbox');
    await list.getByRole('option', { name: /Billing/ }).waitFor();
    assert.equal(await list.getByRole('option').count(), 1, 'only the Billing queue matches');
    await list.locator('[data-key="queue:Billing"][aria-selected="true"]', { hasText: '0 waiting' }).waitFor();
    await ned.keyboard.press('Enter');
    await warmFocused(ned);
    await qc.locator('[data-transfer-to]', { hasText: 'Billing' }).waitFor();
    await qc.getByText(/The customer waits in the Billing queue on hold; you stay on/).waitFor();
    await qc.getByLabel(/Note for the next agent/).fill('refund');
    await ned.keyboard.press('Enter');

    // Amy waits in Billing, on hold; Ned stays on, with INTERNAL-TRANSFER.
    await nsp.locator('[data-xfer-phase="xfer_queued"] [data-internal-transfer]').waitFor();
    await nsp.getByText(/The customer waits in Billing on hold/).waitFor();
    await roster(ned).locator('[data-role="customer"][data-state="on_hold"]', { hasText: 'Amy Customer' }).waitFor();
    await nsp.getByRole('button', { name: 'Cancel transfer' }).waitFor();
    await shot(ned, 'transfer-queue-waiting');

    // Beth comes back: the queue offers her the call as a transfer from Ned.
    await setPresence(beth, 'Available');
    await beth.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 10000 });
    await bsp.locator('[data-transfer-from="ned"]', { hasText: 'Transfer from Ned Agent' }).waitFor();
    await bsp.locator('[data-transfer-note]', { hasText: 'refund' }).waitFor();
    await bsp.locator('.sp-caller', { hasText: 'Amy Customer' }).waitFor();
    await nsp.getByText(/Ringing Beth Agent in Billing/).waitFor();
    await roster(ned).locator('[data-role="consult"][data-state="dialling"]', { hasText: 'Beth Agent' }).waitFor();
    await shot(beth, 'transfer-queue-offer-to-beth');
    await acceptOn(beth, phones.beth);
    await bsp.locator('[data-xfer-phase="consult"]').waitFor({ timeout: 10000 });
    await nsp.locator('[data-xfer-phase="consult"]').waitFor();

    // Ned leaves after the consult: wrap-up; the call and the interaction are Beth's.
    await nsp.getByRole('button', { name: 'Leave' }).click();
    await ned.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await nsp.locator('[data-handed-over]', { hasText: 'through Billing to Beth Agent' }).waitFor();
    await bsp.locator('[data-xfer-notice]', { hasText: 'the call is yours now' }).waitFor();
    await bsp.getByRole('link', { name: `Open interaction ${number}` }).click();
    await beth.locator('.field', { hasText: 'Assigned to' }).getByText('Beth Agent (beth)').waitFor();
    const activity = beth.getByRole('list', { name: /Activity stream/ });
    await activity.locator('[data-kind="transfer"]', { hasText: 'Transfer to queue Billing started: refund' }).waitFor();
    await activity.locator('[data-kind="transfer"]', { hasText: 'Reassigned from Ned Agent to Beth Agent' }).waitFor();
    await shot(beth, 'transfer-queue-reassigned');

    await nsp.getByRole('button', { name: 'Clear contact' }).click();
    await ned.locator('.presence-button[data-presence="Available"]').waitFor();
    await bsp.getByRole('button', { name: 'End call' }).click();
    await beth.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await bsp.getByRole('button', { name: 'Clear contact' }).click();
    await beth.locator('.presence-button[data-presence="Available"]').waitFor();
    expectClean(ned);
    expectClean(beth);
  } catch (e) {
    await shot(ned, 'transfer-failed-ned').catch(() => {});
    await shot(beth, 'transfer-failed-beth').catch(() => {});
    throw e;
  } finally {
    await amy?.stop();
    await ned.close();
    await beth.close();
  }
});

test('to the Billing queue, blind, by keyboard: Ned wraps up at once; Beth, back from a break, gets the call as hers', async () => {
  const ned = await browser.page();
  const beth = await browser.page();
  let amy;
  try {
    await signIn(ned, sb.url, 'ned');
    await signIn(beth, sb.url, 'beth');
    await setPresence(beth, 'Away');
    await setPresence(ned, 'Available');
    const call = await amyCallsNed(ned);
    amy = call.amy;
    const nsp = ned.locator('.softphone');
    const bsp = beth.locator('.softphone');

    await ned.keyboard.press('Alt+q');
    const qc = nsp.getByRole('dialog', { name: 'Quick connects' });
    const list = qc.getByRole('listbox');
    await list.locator('[data-key="queue:Billing"]').waitFor();
    // Beth is Away: greyed, with the reason; the first that can be picked is a queue.
    const bethOpt = list.getByRole('option', { name: /Beth Agent/ });
    assert.equal(await bethOpt.getAttribute('aria-disabled'), 'true');
    await bethOpt.getByText('that agent is not Available').waitFor();
    assert.equal(await list.locator('[aria-selected="true"]').getAttribute('data-key'), 'queue:Support');
    await shot(ned, 'transfer-quick-connects-greyed');
    await ned.keyboard.press('ArrowDown');
    assert.equal(await list.locator('[aria-selected="true"]').getAttribute('data-key'), 'queue:Billing');
    await ned.keyboard.press('Enter');
    await warmFocused(ned);
    await ned.keyboard.press('ArrowDown'); // the radio group: Blind
    await ned.waitForFunction(() => document.activeElement?.value === 'blind' && document.activeElement.checked);
    await qc.getByText(/The customer waits in the Billing queue; you leave the call now/).waitFor();
    await shot(ned, 'transfer-queue-blind');
    await ned.keyboard.press('Enter');

    await ned.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await nsp.locator('[data-handed-over]', { hasText: 'to the Billing queue: the agent there who takes it gets the interaction' }).waitFor();
    await nsp.getByRole('button', { name: 'Clear contact' }).click();
    await ned.locator('.presence-button[data-presence="Available"]').waitFor();

    await setPresence(beth, 'Available');
    await beth.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 10000 });
    await bsp.locator('[data-transfer-from="ned"]').waitFor();
    await acceptOn(beth, phones.beth);
    await beth.locator('.softphone[data-phase="connected"]').waitFor({ timeout: 10000 });
    await bsp.locator('[data-xfer-notice]', { hasText: 'Ned Agent left: the call is yours now.' }).waitFor();
    await bsp.locator('[data-internal-transfer]').waitFor({ state: 'detached' });
    await shot(beth, 'transfer-queue-blind-beths');
    await bsp.getByRole('button', { name: 'End call' }).click();
    await beth.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await bsp.getByRole('button', { name: 'Clear contact' }).click();
    await beth.locator('.presence-button[data-presence="Available"]').waitFor();
    expectClean(ned);
    expectClean(beth);
  } catch (e) {
    await shot(ned, 'transfer-failed-ned').catch(() => {});
    await shot(beth, 'transfer-failed-beth').catch(() => {});
    throw e;
  } finally {
    await amy?.stop();
    await ned.close();
    await beth.close();
  }
});

test('blind to an agent: Ned leaves at once and waits on the ring without controls; Beth answers, the call is hers, Ned wraps up', async () => {
  const ned = await browser.page();
  const beth = await browser.page();
  let amy;
  try {
    await signIn(ned, sb.url, 'ned');
    await signIn(beth, sb.url, 'beth');
    await setPresence(beth, 'Away');
    await setPresence(ned, 'Available');
    const call = await amyCallsNed(ned);
    amy = call.amy;
    await setPresence(beth, 'Available');
    const nsp = ned.locator('.softphone');
    const bsp = beth.locator('.softphone');

    await ned.keyboard.press('Alt+q');
    const qc = nsp.getByRole('dialog', { name: 'Quick connects' });
    await qc.getByRole('combobox').fill('beth');
    await ned.keyboard.press('Enter');
    await warmFocused(ned);
    await ned.keyboard.press('ArrowDown');
    await qc.getByText(/The call goes to Beth and you leave it now/).waitFor();
    await ned.keyboard.press('Enter');

    // Ned has left; he stays Busy until Beth answers (a short ring).
    await nsp.getByText(/You left the call\. The transfer to Beth Agent goes on/).waitFor();
    await roster(ned).locator('[data-role="consult"][data-state="dialling"]', { hasText: 'Beth Agent' }).waitFor();
    assert.equal(await roster(ned).locator('[data-role="agent"]').count(), 0, 'Ned is no longer on it');
    assert.equal(await nsp.locator('[data-xfer-phase] button').count(), 0, 'nothing left to press');
    await shot(ned, 'transfer-blind-left');
    await beth.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 10000 });
    await acceptOn(beth, phones.beth);
    await bsp.locator('[data-xfer-notice]', { hasText: 'Ned Agent left: the call is yours now.' }).waitFor({ timeout: 10000 });
    await bsp.locator('.sp-status', { hasText: 'Connected' }).waitFor();
    await ned.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await nsp.locator('[data-handed-over]', { hasText: 'to Beth Agent: the interaction is theirs now' }).waitFor();
    await nsp.getByRole('button', { name: 'Clear contact' }).click();
    await ned.locator('.presence-button[data-presence="Available"]').waitFor();
    await bsp.getByRole('button', { name: 'End call' }).click();
    await beth.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await bsp.getByRole('button', { name: 'Clear contact' }).click();
    await beth.locator('.presence-button[data-presence="Available"]').waitFor();
    expectClean(ned);
    expectClean(beth);
  } catch (e) {
    await shot(ned, 'transfer-failed-ned').catch(() => {});
    await shot(beth, 'transfer-failed-beth').catch(() => {});
    throw e;
  } finally {
    await amy?.stop();
    await ned.close();
    await beth.close();
  }
});

test('to an external number from Quick connects: blind (warm is not available), Ned wraps up, the interaction stays his', async () => {
  // The external numbers are an administrator's list (the demo defines Legal desk, +1 555 0170).
  const qcList = await sb.api('GET', '/api/v1/quick-connects?q=legal', { token: tok.ned });
  const legal = qcList.body.external.find((x) => /Legal/.test(x.name));
  assert.ok(legal, JSON.stringify(qcList.body));
  const ned = await browser.page();
  let amy;
  try {
    await signIn(ned, sb.url, 'ned');
    await setPresence(ned, 'Available');
    const call = await amyCallsNed(ned);
    amy = call.amy;
    const { number } = call;
    const nsp = ned.locator('.softphone');

    await ned.keyboard.press('Alt+q');
    const qc = nsp.getByRole('dialog', { name: 'Quick connects' });
    await qc.getByRole('combobox').waitFor();
    await ned.keyboard.type('legal');
    const opt = qc.getByRole('listbox').getByRole('option', { name: new RegExp(legal.name) });
    await opt.waitFor();
    await opt.getByText('+1 555 0170').waitFor();
    await ned.keyboard.press('Enter');
    await ned.waitForFunction(() => document.activeElement?.value === 'blind' && document.activeElement.checked);
    assert.equal(await qc.getByRole('radio', { name: /Warm/ }).isDisabled(), true);
    await qc.getByText(/The call goes to Legal desk and you leave it now/).waitFor();
    await ned.keyboard.press('Tab');
    await ned.keyboard.type('contract');
    await shot(ned, 'transfer-external');
    await ned.keyboard.press('Enter');

    await ned.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await nsp.locator('[data-handed-over]', { hasText: 'You transferred the call to +1 555 0170. Wrap it up: the interaction stays yours.' }).waitFor();
    await nsp.getByRole('link', { name: `Open interaction ${number}` }).click();
    const activity = ned.getByRole('list', { name: /Activity stream/ });
    await activity.locator('[data-kind="transfer"]', { hasText: /Transfer to Legal desk \(.*\) started by Ned Agent: contract/ }).waitFor();
    await ned.locator('.field', { hasText: 'Assigned to' }).getByText('Ned Agent (ned)').waitFor();
    await nsp.getByRole('button', { name: 'Clear contact' }).click();
    await ned.locator('.presence-button[data-presence="Available"]').waitFor();
    expectClean(ned);
  } catch (e) {
    await shot(ned, 'transfer-failed-ned').catch(() => {});
    throw e;
  } finally {
    await amy?.stop();
    await ned.close();
  }
});
