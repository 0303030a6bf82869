// Call transcripts (issue 13, items 4-8; docs/TRANSCRIPTS.md) through the
// real server: a sipp customer says two sentences (flite's rms voice, made
// 8 kHz G.711 µ-law), one of them a card number, while the agent's baresip
// says two others (espeak-ng's en-us voice at 140 words a minute; baresip
// sends G.711) into a recorded call; when the call
// ends the transcript comes back with both channels, each utterance timed,
// the card number replaced by [redacted], a `transcript` activity entry, and
// the word error rate of each channel (computed here) under its bound. The
// search by the transcript's words, who may read it, the redacted recording
// for everyone but administrators, a manager's on-demand request run again
// after a restart, the policy that turns it off for a queue, and a queue
// sampled at a percent (predicted from the number's hash). Kept to
// one short call per test (CI time: the decoders run at SCHED_IDLE).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { Baresip, sipp, waitRegistered } from './lib/peers.mjs';

let sb, tok;
const CARD = 'four one one one one one one one one one one one one one one one'; // 4111 1111 1111 1111: Luhn-valid
const CUSTOMER = [
  'i was charged twice for the same order last month',
  `my card number is ${CARD}`,
];
const AGENT = [
  'thank you for calling how can i help you today',
  'i can see the second charge and i will refund it now',
];

// Two synthesisers: a flite voice, and espeak-ng (slower than its default
// 175 words a minute: docs/TRANSCRIPTS.md has the figures).
const flite = (voice) => (text, wav) => execFileSync('flite', ['-voice', voice, '-t', text, '-o', wav]);
const espeak = (...args) => (text, wav) => execFileSync('espeak-ng', [...args, '-w', wav, text]);

// The sentences spoken by `say`, a second of silence after each, 8 kHz.
function speech(say, sentences, out, format) {
  const dir = tempDir('sb-tspeech-');
  const parts = sentences.map((s, i) => {
    const w = join(dir, `s${i}.wav`);
    say(s, w);
    const p = join(dir, `p${i}.wav`);
    execFileSync('sox', [w, '-r', '8000', '-c', '1', '-b', '16', p, 'pad', '0', '1']);
    return p;
  });
  const path = join(dir, out);
  execFileSync('sox', [...parts, ...format, path, 'pad', '0.2', '2']);
  return path;
}

function words(s) {
  return s.toLowerCase().split(/\s+/).filter(Boolean);
}

// Word error rate: edit distance over the reference's words.
function wer(ref, hyp) {
  const r = words(ref), h = words(hyp);
  const d = Array.from({ length: r.length + 1 }, (_, i) => [i, ...Array(h.length).fill(0)]);
  for (let k = 1; k <= h.length; k++) d[0][k] = k;
  for (let i = 1; i <= r.length; i++) {
    for (let k = 1; k <= h.length; k++) {
      d[i][k] = Math.min(d[i - 1][k] + 1, d[i][k - 1] + 1, d[i - 1][k - 1] + (r[i - 1] === h[k - 1] ? 0 : 1));
    }
  }
  return d[r.length][h.length] / r.length;
}

async function transcript(number, token = tok.admin) {
  return sb.api('GET', `/api/v1/interactions/${number}/transcript`, { token });
}

async function transcriptDone(number, timeoutMs = 180000) {
  return sb.until(`the transcript of ${number}`, async () => {
    const r = await transcript(number);
    if (r.status === 200 && r.body.status === 'failed') throw new Error(`failed: ${r.body.error}`);
    return r.status === 200 && r.body.status === 'done' ? r.body : null;
  }, timeoutMs);
}

async function latest() {
  const r = await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok.admin });
  return r.body.interactions[0];
}

// One call to 5000: the customer says `say` (a µ-law file), ned answers and
// says his part; the call lasts about holdMs after the customer starts.
async function call(customerUlaw, holdMs) {
  const before = (await latest())?.number;
  const r = await sipp(sb, 'caller_speech.xml', { service: '5000', caller: '15550177',
    speech: customerUlaw, waitMs: 2500, pauseMs: holdMs, timeoutS: 90 });
  assert.equal(r.code, 0, r.out);
  const ix = await latest();
  assert.notEqual(ix.number, before, 'a new interaction');
  // ned wraps up, so that he is Available for the next call
  await sb.until('ned in after-call work', async () =>
    (await sb.api('GET', '/api/v1/agents/ned/presence', { token: tok.ned })).body.presence === 'AfterCallWork');
  const c = await sb.api('POST', '/api/v1/agents/ned/clear', { token: tok.ned, body: { wrap_up_code: 'Resolved' } });
  assert.equal(c.status, 200, JSON.stringify(c.body));
  return ix.number;
}

let ned, customerUlaw;
before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'calls:\n  greeting_ms: 600\n  offer_timeout: 10\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
  tok = {};
  for (const u of ['admin', 'ned', 'mia', 'beth']) tok[u] = await sb.login(u);
  customerUlaw = speech(flite('rms'), CUSTOMER, 'customer.ulaw', ['-e', 'u-law', '-t', 'raw']);
  const agentWav = speech(espeak('-v', 'en-us', '-s', '140'), AGENT, 'agent.wav', []);
  execFileSync('sox', [agentWav, join(agentWav, '..', 'agent30.wav'), 'pad', '0', '30']);
  ned = await new Baresip(sb, 'ned', { audio: join(agentWav, '..', 'agent30.wav') }).start();
  await waitRegistered(sb, tok.admin, 'ned');
  // beth is not in Support's offer path for this test: only ned answers
  const r = await sb.api('PUT', '/api/v1/agents/ned/presence', { token: tok.ned, body: { status: 'Available' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});
after(async () => {
  await ned?.stop();
  await sb.stop();
});

let number;
test('a recorded call ends with a transcript of both channels, timed, redacted, within its word error bounds', async () => {
  number = await call(customerUlaw, 14000);
  const t = await transcriptDone(number);
  assert.equal(t.engine, 'pocketsphinx');
  assert.equal(t.reason, 'policy');
  assert.ok(t.audio_ms > 8000, `audio_ms ${t.audio_ms}`);
  const byCh = { customer: [], agent: [] };
  for (const u of t.utterances) {
    assert.ok(u.channel in byCh, u.channel);
    assert.ok(Number.isInteger(u.start_ms) && u.end_ms > u.start_ms, JSON.stringify(u));
    assert.ok(u.end_ms <= t.audio_ms + 50, JSON.stringify(u));
    byCh[u.channel].push(u);
  }
  for (const ch of ['customer', 'agent']) {
    const us = byCh[ch];
    assert.ok(us.length >= 1, `${ch}: ${us.length} utterances`);
    for (let i = 1; i < us.length; i++) assert.ok(us[i].start_ms >= us[i - 1].end_ms - 50, 'in time order');
  }
  const heard = (ch) => byCh[ch].map((u) => u.text).join(' ');
  // the reference as the transcript should read: the card number redacted
  const refCustomer = CUSTOMER.join(' ').replace(CARD, '[redacted]');
  const w = { customer: wer(refCustomer, heard('customer')), agent: wer(AGENT.join(' '), heard('agent')) };
  console.log(`customer: ${heard('customer')}\nagent: ${heard('agent')}\nWER customer ${(w.customer * 100).toFixed(1)}% agent ${(w.agent * 100).toFixed(1)}%`);
  assert.ok(w.customer <= 0.30, `customer WER ${w.customer}`);
  // espeak-ng decodes far worse than flite (docs/TRANSCRIPTS.md: 70 % on the
  // bench's 45 sentences; these two measured 41-50 % through the server)
  assert.ok(w.agent <= 0.65, `agent (espeak-ng) WER ${w.agent}`);
  // PII: the card number is gone from the text, [redacted] stands there
  assert.match(heard('customer'), /\[redacted\]/);
  assert.doesNotMatch(heard('customer'), /one one one one one one/);
  assert.ok(t.redacted >= 1);
  // the activity stream says so
  const d = (await sb.api('GET', `/api/v1/interactions/${number}`, { token: tok.admin })).body;
  const entry = d.activity.find((a) => a.kind === 'transcript');
  assert.ok(entry, JSON.stringify(d.activity));
  assert.match(entry.text, /Transcript: \d+ utterances .*redacted/);
  assert.match(entry.text, new RegExp(`/api/v1/interactions/${number}/transcript`));
});

test('interaction search finds the call by words of its transcript (FTS5), for whom may see it', async () => {
  const find = async (text, token = tok.admin) => sb.api('GET', `/api/v1/interactions?text=${encodeURIComponent(text)}`, { token });
  const heard = (await transcript(number)).body.utterances.map((u) => u.text).join(' ');
  // two words the decoder heard, in another order and case: all of them must be there
  const [w1, w2] = ['refund', 'charged', 'charge', 'order', 'calling', 'month'].filter((w) => heard.split(' ').includes(w));
  assert.ok(w1 && w2, `the decoder heard too few of the words looked for: ${heard}`);
  const hit = await find(`${w2.toUpperCase()}, ${w1}`);
  assert.equal(hit.status, 200, JSON.stringify(hit.body));
  assert.deepEqual(hit.body.interactions.map((i) => i.number), [number]);
  // the matched words in context (FTS5 snippet): pieces in order, the words marked
  const m = hit.body.interactions[0].transcript_match;
  assert.ok(Array.isArray(m) && m.length >= 2, JSON.stringify(m));
  const marked = m.filter((p) => p.match).map((p) => p.text.toLowerCase());
  assert.ok(marked.length >= 1 && marked.every((x) => x === w1 || x === w2), JSON.stringify(m));
  const ctx = m.map((p) => p.text).join('').replace(/^\.\.\.|\.\.\.$/g, '').trim();
  const ctxWords = ctx.split(/\s+/);
  assert.ok(ctxWords.length >= 2 && ctxWords.length <= 16, ctx);
  assert.ok(ctxWords.every((x) => heard.split(' ').includes(x)), `${ctx} | ${heard}`);
  assert.equal((await sb.api('GET', '/api/v1/interactions?limit=5', { token: tok.admin })).body.interactions[0].transcript_match, undefined, 'only a search by words has it');
  assert.deepEqual((await find(`${w1} zebra`)).body.interactions, [], 'every word must be said');
  // the text searched is the redacted one: the card's digits are not in it
  assert.deepEqual((await find('card')).body.interactions.map((i) => i.number), [number]);
  assert.deepEqual((await find('card four')).body.interactions, []);
  // nothing typed is FTS5 syntax: words only, all of them to be found
  const syntax = await find('refund AND NOT "x* OR');
  assert.equal(syntax.status, 200, JSON.stringify(syntax.body));
  assert.deepEqual(syntax.body.interactions, []);
  assert.deepEqual((await find(w1, tok.ned)).body.interactions.map((i) => i.number), [number], 'the agent of the call');
  assert.deepEqual((await find(w1, tok.beth)).body.interactions, [], 'another agent sees only their own');
  const bad = await find("?! -- '");
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'invalid_parameter');
  assert.match(bad.body.message, /'text'/);
});

test('the transcript is for the agent of the call and managers; the recording is redacted but for administrators', async () => {
  assert.equal((await transcript(number, tok.ned)).status, 200);
  assert.equal((await transcript(number, tok.beth)).status, 404);
  const none = await transcript('INT9999999', tok.admin);
  assert.equal(none.status, 404);
  assert.equal(none.body.error, 'not_found');
  const get = (token) => fetch(`${sb.url}/api/v1/interactions/${number}/recording`,
    { headers: { authorization: `Bearer ${token}`, range: 'bytes=0-' } }).then(async (r) => Buffer.from(await r.arrayBuffer()));
  const original = await get(tok.admin), redacted = await get(tok.ned);
  assert.equal(redacted.length, original.length, 'the same length: words replaced, not cut');
  assert.ok(!redacted.equals(original), 'the copy differs');
  // where the two differ, the redacted copy holds the tone on both channels
  const frames = [];
  for (let i = 44; i + 4 <= original.length; i += 4) if (original.readInt32LE(i) !== redacted.readInt32LE(i)) frames.push((i - 44) / 4);
  const seconds = frames.length / 8000;
  assert.ok(seconds > 2 && seconds < 12, `${seconds} s replaced`);
  const f = frames[Math.floor(frames.length / 2)] * 4 + 44;
  assert.equal(redacted.readInt16LE(f), redacted.readInt16LE(f + 2), 'both channels the same tone');
});

test('the policy: a queue at 0 % is not transcribed; bad values are refused', async () => {
  const bad = await sb.api('PUT', '/api/v1/transcripts/policy/default', { token: tok.admin, body: { percent: 101 } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /percent/);
  assert.equal((await sb.api('PUT', '/api/v1/transcripts/policy/default', { token: tok.ned, body: { percent: 0 } })).status, 403);
  assert.equal((await sb.api('PUT', '/api/v1/transcripts/policy/9999', { token: tok.admin, body: { percent: 0 } })).status, 404);
  assert.equal((await sb.api('DELETE', '/api/v1/transcripts/policy/default', { token: tok.admin })).status, 400);
  const put = await sb.api('PUT', '/api/v1/transcripts/policy/Support', { token: tok.admin, body: { percent: 0 } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual(put.body, { queues: [{ queue: 'default', percent: 100 }, { queue: 'Support', percent: 0 }], redact: true });
  const n = await call(customerUlaw, 6000);
  await new Promise((r) => setTimeout(r, 3000));
  const t = await transcript(n);
  assert.equal(t.status, 404, JSON.stringify(t.body));
  assert.equal(t.body.error, 'no_transcript');
  const audit = await sb.api('GET', '/api/v1/audit?action=transcripts', { token: tok.admin });
  assert.ok(audit.body.entries.some((e) => e.object === 'transcripts.policy/Support'), JSON.stringify(audit.body));
  const del = await sb.api('DELETE', '/api/v1/transcripts/policy/Support', { token: tok.admin });
  assert.deepEqual(del.body.queues, [{ queue: 'default', percent: 100 }]);
});

// The sample's seam (src/transcript/transcript.c, number_hash): a call is
// transcribed when FNV-1a of its interaction number, mod 100, is under its
// queue's percent — reproducible, so the test predicts it.
function sampleHash(number) {
  let h = 2166136261;
  for (const c of Buffer.from(number)) h = Math.imul(h ^ c, 16777619) >>> 0;
  return h % 100;
}
const nextNumber = (number, k) => `INT${String(Number(number.slice(3)) + k).padStart(7, '0')}`;

test('a queue sampled at p %: the calls whose number hashes under p are transcribed, the others not; on demand takes one the sample skipped', async () => {
  // the next two calls' numbers, and a percent that takes one and skips the other
  const last = (await latest()).number;
  const [a, b] = [nextNumber(last, 1), nextNumber(last, 2)];
  assert.notEqual(sampleHash(a), sampleHash(b), 'pick other numbers if this ever happens');
  const pct = Math.max(sampleHash(a), sampleHash(b)); // 1..99: a sample, not all or none
  const put = await sb.api('PUT', '/api/v1/transcripts/policy/Support', { token: tok.admin, body: { percent: pct } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const got = {};
  for (let i = 0; i < 2; i++) {
    const n = await call(customerUlaw, 3000);
    got[n] = sampleHash(n) < pct;
  }
  assert.deepEqual(Object.keys(got), [a, b], 'the numbers predicted');
  const taken = Object.keys(got).filter((n) => got[n]), skipped = Object.keys(got).filter((n) => !got[n]);
  assert.equal(taken.length, 1);
  assert.equal(skipped.length, 1);
  // the taken one is queued by the policy at once; the skipped one never is
  const t = await sb.until('the sampled call queued', async () => {
    const r = await transcript(taken[0]);
    return r.status === 200 ? r.body : null;
  }, 10000);
  assert.equal(t.reason, 'policy');
  await new Promise((r) => setTimeout(r, 2000));
  const none = await transcript(skipped[0]);
  assert.equal(none.status, 404, JSON.stringify(none.body));
  assert.equal(none.body.error, 'no_transcript');
  // a manager asks for the skipped one: it is transcribed all the same
  const req = await sb.api('POST', `/api/v1/interactions/${skipped[0]}/transcript`, { token: tok.mia });
  assert.equal(req.status, 202, JSON.stringify(req.body));
  const done = await transcriptDone(skipped[0]);
  assert.equal(done.reason, 'on_demand');
  assert.equal(done.requested_by, 'mia');
  assert.ok(done.utterances.some((u) => u.channel === 'customer' && /charged|order|month|card/.test(u.text)), JSON.stringify(done.utterances));
  await sb.api('DELETE', '/api/v1/transcripts/policy/Support', { token: tok.admin });
});

test('a manager asks for a transcript again (agents may not; twice at once is 409); a job running when the server stops runs again after the restart', async () => {
  const agent = await sb.api('POST', `/api/v1/interactions/${number}/transcript`, { token: tok.ned });
  assert.equal(agent.status, 403);
  const r = await sb.api('POST', `/api/v1/interactions/${number}/transcript`, { token: tok.admin });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.deepEqual(r.body, { interaction: number, status: 'queued' });
  const again = await sb.api('POST', `/api/v1/interactions/${number}/transcript`, { token: tok.admin });
  assert.equal(again.status, 409);
  assert.equal(again.body.error, 'already_queued');
  const noRec = await sb.api('POST', '/api/v1/interactions/INT9999999/transcript', { token: tok.admin });
  assert.equal(noRec.status, 404);
  await sb.until('the job running', async () => (await transcript(number)).body?.status === 'running', 30000);
  await ned.stop();
  await sb.restart();
  tok.admin = await sb.login('admin');
  const t = await transcriptDone(number);
  assert.equal(t.reason, 'on_demand');
  assert.equal(t.requested_by, 'admin');
  assert.match(sb.log, new RegExp(`interaction=${number} action=transcript resumed`));
});
