// The flows' bot (issue 4) with real calls: the demo flow on 5002 greets the
// caller, asks how it can help and listens. What callers say is made with
// espeak-ng and sent as RTP by sipp (rtp_stream) or baresip (its microphone);
// the server recognises it with pocketsphinx and deflects or routes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { Baresip, sipp, spokenUlaw, waitRegistered, wavInfo } from './lib/peers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sb, tok;

const until = (what, fn, timeoutMs = 30000) => sb.until(what, fn, timeoutMs);

async function latestAfter(prev) {
  return until('the interaction to close', async () => {
    const r = await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok });
    const x = r.body.interactions[0];
    return x && x.number !== prev && x.state !== 'new' ? x : null;
  });
}
async function detail(number) {
  return (await sb.api('GET', `/api/v1/interactions/${number}`, { token: tok })).body;
}
async function newest() {
  return (await sb.api('GET', '/api/v1/interactions?limit=1', { token: tok })).body.interactions[0]?.number;
}

// How long espeak-ng speaks a text (the server renders prompts with the same
// voice), so a caller can wait for the bot's question before answering.
function spokenSeconds(text) {
  const dir = tempDir('sb-len-');
  const w = join(dir, 'x.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-w', w, text]);
  return wavInfo(w).seconds;
}
const GREET_AMY = 'Hello Amy, thank you for calling Switchboard.';
const GREET_ANY = 'Hello there, thank you for calling Switchboard.';
const ASK = 'In a few words, how can I help you? For support, press 1. For billing, press 2.';
const waitFor = (greet) => Math.round((spokenSeconds(greet) + spokenSeconds(ASK)) * 1000) + 700;

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'calls:\n  greeting_ms: 0\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
  tok = await sb.login('admin');
});
after(async () => { await sb.stop(); });

test('the bot answers "what is the status of my case" by itself: Closed Complete, never queued', async () => {
  const prev = await newest();
  const speech = spokenUlaw('what is the status of my case');
  // 15550199 is amy's mobile: identified, and her open case is CS0001002.
  const r = await sipp(sb, 'caller_speech.xml', { service: '5002', caller: '15550199', speech,
    waitMs: waitFor(GREET_AMY), pauseMs: 20000, timeoutS: 45 });
  assert.equal(r.code, 0, r.out + sb.log.slice(-4000));
  const ix = await latestAfter(prev);
  assert.equal(ix.state, 'closed_complete', sb.log.slice(-4000));
  assert.equal(ix.queue, null);
  const d = await detail(ix.number);
  const heard = d.activity.find((a) => a.kind === 'bot');
  assert.ok(heard, JSON.stringify(d.activity));
  assert.match(heard.text, /: status \(confidence/);
  // The server hung up after the answer (sipp got its BYE before its 20 s pause).
  assert.match(sb.log, new RegExp(`call=${ix.number} block=ask action=deflected by the bot`));
  assert.match(sb.log, new RegExp(`call=${ix.number} action=case found CS0001002 \\(In Progress\\)`));
  const lat = sb.log.match(new RegExp(`call=${ix.number} block=ask action=recognised intent=status .* after_speech_ms=(\\d+)`));
  assert.ok(lat, sb.log.slice(-3000));
});

test('"talk to an agent" is routed to the Support queue', async () => {
  const prev = await newest();
  const speech = spokenUlaw('i want to talk to an agent');
  const r = await sipp(sb, 'caller_speech.xml', { service: '5002', caller: '15550123', speech,
    waitMs: waitFor(GREET_ANY), pauseMs: 5000, timeoutS: 45 });
  assert.equal(r.code, 0, r.out);
  const ix = await latestAfter(prev);
  assert.equal(ix.queue, 'Support', sb.log.slice(-4000));
  assert.equal(ix.state, 'closed_abandoned'); // hung up while waiting
  const d = await detail(ix.number);
  assert.ok(d.activity.some((a) => a.kind === 'bot' && /: agent \(confidence/.test(a.text)), JSON.stringify(d.activity));
});

test('a caller without a case who asks for its status is routed, not deflected', async () => {
  const prev = await newest();
  const speech = spokenUlaw('what is the status of my case');
  const r = await sipp(sb, 'caller_speech.xml', { service: '5002', caller: '15550123', speech,
    waitMs: waitFor(GREET_ANY), pauseMs: 5000, timeoutS: 45 });
  assert.equal(r.code, 0, r.out);
  const ix = await latestAfter(prev);
  assert.equal(ix.queue, 'Support', sb.log.slice(-4000));
  const d = await detail(ix.number);
  assert.ok(d.activity.some((a) => a.kind === 'bot' && /: status \(confidence/.test(a.text)), JSON.stringify(d.activity));
});

test('speech the bot does not understand is asked again, then goes to the keypad menu', async () => {
  const prev = await newest();
  const speech = spokenUlaw('the weather is lovely in paris this spring');
  const r = await sipp(sb, 'caller_speech.xml', { service: '5002', caller: '15550123', speech,
    waitMs: waitFor(GREET_ANY), pauseMs: 4000, timeoutS: 45 });
  assert.equal(r.code, 0, r.out);
  const ix = await latestAfter(prev);
  assert.equal(ix.state, 'closed_complete'); // hung up in the flow
  assert.equal(ix.queue, null);
  // Whatever phrase it came closest to, the confidence was below the block's 50 %.
  const heard = [...sb.log.matchAll(new RegExp(`call=${ix.number} block=ask action=recognised intent=\\S+ confidence=([\\d.]+)`, 'g'))];
  assert.ok(heard.length >= 1, sb.log.slice(-3000));
  for (const h of heard) assert.ok(Number(h[1]) < 0.5, h[0]);
  assert.doesNotMatch(sb.log, new RegExp(`call=${ix.number} action=flow ends queue`));
});

test('a baresip caller hears the prompts and is answered by the bot', async () => {
  const prev = await newest();
  // The caller's microphone: silence while the prompts play, the question,
  // then silence (baresip hangs up when its file ends).
  const dir = tempDir('sb-bot-');
  const said = join(dir, 'said.wav');
  const mic = join(dir, 'mic.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-w', said, 'what is the status of my case']);
  execFileSync('sox', [said, '-r', '8000', '-c', '1', '-b', '16', mic, 'pad', String(waitFor(GREET_AMY) / 1000), '25']);
  const amy = await new Baresip(sb, '15550199', { audio: mic, register: false }).start();
  try {
    await sleep(500);
    await amy.command('dial', `sip:5002@127.0.0.1:${sb.sipPort}`);
    const ix = await latestAfter(prev);
    assert.equal(ix.state, 'closed_complete', sb.log.slice(-4000));
    assert.equal(ix.queue, null);
    assert.match(sb.log, new RegExp(`call=${ix.number} block=ask action=deflected by the bot`));
    await sleep(1000);
    // What the caller heard: the greeting in the first seconds is not silent.
    const wavs = amy.receivedWavs();
    assert.equal(wavs.length, 1, amy.log);
    const dump = join(dir, 'greet.wav');
    execFileSync('sox', [wavs[0], dump, 'trim', '0.2', '2']);
    assert.ok(wavInfo(dump).rms > 0.01, `greeting RMS ${wavInfo(dump).rms}`);
    assert.ok(wavInfo(wavs[0]).seconds > spokenSeconds(GREET_AMY) + spokenSeconds(ASK));
  } finally {
    await amy.stop();
  }
});

test('the screen pop of a call from the flow carries the caller, their case and what they chose', async () => {
  const ned = await new Baresip(sb, 'ned').start();
  const nedTok = await sb.login('ned');
  const events = await sb.events(nedTok);
  try {
    await waitRegistered(sb, tok, 'ned');
    assert.equal((await sb.api('PUT', '/api/v1/agents/ned/presence', { token: nedTok, body: { status: 'Available' } })).status, 200);
    // amy presses 1 (support) while the bot asks: her case was found at the start.
    const call = sipp(sb, 'caller_dtmf.xml', { service: '5002', caller: '15550199', digit: '1',
      waitMs: Math.round(spokenSeconds(GREET_AMY) * 1000) + 1500, pauseMs: 3000 });
    const offer = await events.next((m) => m.type === 'offer', 30000);
    assert.equal(offer.queue, 'Support');
    assert.equal(offer.intent, 'support');
    assert.deepEqual(offer.records, [
      { table: 'user', number: 'amy', name: 'Amy Customer' },
      { table: 'case', number: 'CS0001002', state: 'In Progress', short_description: 'Router keeps dropping the connection' },
    ]);
    assert.equal((await call).code, 0);
  } finally {
    events.close();
    await ned.stop();
  }
});
