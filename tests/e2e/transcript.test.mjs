// The transcript in the browser (issue 13, item 8; docs/TRANSCRIPTS.md): one
// short recorded call (a sipp customer in flite's rms voice, ned's baresip
// in flite's awb voice, through G.711) is transcribed by the real server;
// the interaction form shows the transcript beside the recording player as
// a conversation (customer / agent, times), clicking an utterance seeks the
// player there and highlights it, and the manager's interaction search finds
// the call by words said in it, showing them in context (FTS5 snippet).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { launch, expectClean, shot, signIn } from './lib/browser.mjs';
import { Baresip, sipp, startServer, tempDir, waitRegistered } from './lib/setup.mjs';

// A flite voice saying the sentences, a second of silence after each, 8 kHz.
function speech(voice, sentences, out, format) {
  const dir = tempDir('sb-e2e-speech-');
  const parts = sentences.map((s, i) => {
    const w = join(dir, `s${i}.wav`);
    execFileSync('flite', ['-voice', voice, '-t', s, '-o', w]);
    const p = join(dir, `p${i}.wav`);
    execFileSync('sox', [w, '-r', '8000', '-c', '1', '-b', '16', p, 'pad', '0', '1']);
    return p;
  });
  const path = join(dir, out);
  execFileSync('sox', [...parts, ...format, path, 'pad', '0.2', '0']);
  return path;
}

let sb, browser, admin, ned, number;
before(async () => {
  sb = await startServer('calls:\n  greeting_ms: 600\n  offer_timeout: 10\n');
  browser = await launch();
  admin = await sb.login('admin');
  const customer = speech('rms', ['i was charged twice for the same order last month'], 'customer.ulaw',
    ['-e', 'u-law', '-t', 'raw']);
  // the agent speaks once the customer has finished (about 8 s in)
  const agent = speech('awb', ['i can see the second charge and i will refund it now'], 'agent.wav', []);
  const late = join(agent, '..', 'agent-late.wav');
  execFileSync('sox', [agent, late, 'pad', '8', '20']);
  ned = await new Baresip(sb, 'ned', { audio: late }).start();
  await waitRegistered(sb, admin, 'ned');
  const tned = await sb.login('ned');
  const p = await sb.api('PUT', '/api/v1/agents/ned/presence', { token: tned, body: { status: 'Available' } });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const r = await sipp(sb, 'caller_speech.xml', { service: '5000', caller: '15550177', speech: customer,
    waitMs: 2500, pauseMs: 11000, timeoutS: 60 });
  assert.equal(r.code, 0, r.out);
  number = (await sb.api('GET', '/api/v1/interactions?limit=1', { token: admin })).body.interactions[0].number;
});
after(async () => {
  await browser?.close();
  await ned?.stop();
  await sb?.stop();
});

test('the interaction form shows the transcript as a conversation beside the player; a click seeks and highlights', async () => {
  const t = await sb.until('the transcript', async () => {
    const r = await sb.api('GET', `/api/v1/interactions/${number}/transcript`, { token: admin });
    if (r.body?.status === 'failed') throw new Error(r.body.error);
    return r.body?.status === 'done' ? r.body : null;
  }, 120000);
  const cust = t.utterances.find((u) => u.channel === 'customer'), ag = t.utterances.find((u) => u.channel === 'agent');
  assert.ok(cust && ag, JSON.stringify(t.utterances));
  const page = await browser.page();
  try {
    await signIn(page, sb.url, 'mia');
    await page.goto(`${sb.url}/interactions/${number}`);
    const list = page.getByRole('list', { name: 'Transcript' });
    await list.waitFor();
    const items = list.locator('li');
    assert.equal(await items.count(), t.utterances.length);
    // in time order, each with its speaker and m:ss, the text as stored
    for (let i = 0; i < t.utterances.length; i++) {
      const u = t.utterances[i], li = items.nth(i);
      assert.equal(await li.getAttribute('data-channel'), u.channel);
      const s = Math.floor(u.start_ms / 1000);
      assert.equal(await li.locator('.utt-who').textContent(),
        `${u.channel === 'customer' ? 'Customer' : 'Agent'} · ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`);
      assert.equal(await li.locator('.utt-text').textContent(), u.text);
    }
    // the customer on one side, the agent on the other
    const x = async (ch) => (await list.locator(`li[data-channel="${ch}"] .utt-btn`).first().boundingBox()).x;
    assert.ok(await x('agent') > await x('customer') + 50, 'agent utterances sit on the right');
    // the same card as the player
    const card = page.locator('section', { has: page.getByRole('heading', { name: 'Recording' }) });
    await card.locator('audio').waitFor();
    await card.getByRole('list', { name: 'Transcript' }).waitFor();
    // click the agent's utterance: the player goes there, the utterance lights up
    const audio = page.locator('audio');
    await audio.evaluate((a) => new Promise((ok) => (a.readyState >= 1 ? ok() : a.addEventListener('loadedmetadata', ok))));
    const agentLi = list.locator(`li[data-channel="agent"][data-start="${ag.start_ms}"]`);
    await agentLi.locator('button').click();
    const at = await audio.evaluate((a) => a.currentTime);
    assert.ok(Math.abs(at * 1000 - ag.start_ms) < 600, `the player at ${at} s, the utterance at ${ag.start_ms} ms`);
    await list.locator(`li[data-start="${ag.start_ms}"][aria-current="true"]`).waitFor({ timeout: 5000 });
    assert.equal(await list.locator('li[aria-current="true"]').count(), 1, 'only the one being played');
    await shot(page, 'transcript');
    // the activity stream has its entry
    await page.getByRole('list', { name: /Activity stream/ }).locator('[data-kind="transcript"] .act-kind',
      { hasText: 'Transcript' }).waitFor();
    expectClean(page);

    // the manager's search finds the call by words said in it, and not by words that were not
    await page.getByRole('link', { name: 'Interactions' }).click();
    const words = page.getByLabel('Words said');
    await words.fill('refund zebra');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(/No interactions match these filters/).waitFor();
    const said = ['refund', 'charged', 'charge', 'order', 'month'].filter((w) => t.utterances.some((u) => u.text.split(' ').includes(w)));
    assert.ok(said.length >= 1, JSON.stringify(t.utterances));
    await words.fill(said.join(' ').toUpperCase());
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: number }).waitFor();
    // under the row, the words in context, the searched ones marked
    const match = page.locator('tr.ix-match');
    await match.waitFor();
    assert.match(await match.innerText(), /^Said:/);
    const marked = (await match.locator('mark').allInnerTexts()).map((x) => x.toLowerCase());
    assert.ok(marked.length >= 1 && marked.every((x) => said.includes(x)), JSON.stringify(marked));
    await shot(page, 'transcript-search');
    expectClean(page);
  } finally {
    await page.close();
  }
});
