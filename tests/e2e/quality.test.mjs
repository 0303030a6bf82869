// The softphone's call-quality warning (issue 15, point 3) on a really
// lossy network: an agent answers a baresip caller in the browser, then
// nftables drops a fifth of the datagrams both ways between the browser and
// the server (lib/lossy.mjs). The softphone must warn (from getStats(): the
// loss of the audio it receives), the server's call view must show the loss
// both ways (its own count of the browser's audio, and the browser's RTCP
// reports about the server's), and the warning must go once the network
// heals. Needs root for nftables: CI runs as root; elsewhere the test is
// skipped with the reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, expectClean, shot, signIn } from './lib/browser.mjs';
import { goAvailable, hearsMore, recordPeerConnections, toneWav48, useBrowserPhone } from './lib/phone.mjs';
import { lossy, lossyUnavailable } from './lib/lossy.mjs';
import { Baresip, startServer } from './lib/setup.mjs';
import { TONES, toneWav } from '../integration/lib/tones.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const why = lossyUnavailable();
if (why && process.env.CI === 'true') throw new Error(`CI must run the quality test: ${why}`);
let sb, admin, agents;

before(async () => {
  if (why) return;
  sb = await startServer('calls:\n  greeting_ms: 0\n  offer_timeout: 20\n');
  admin = await sb.login('admin');
  agents = await launch({ media: { audio: toneWav48(TONES.ned) } });
});
after(async () => {
  await agents?.close();
  await sb?.stop();
});

// The browser's and the server's UDP ports of the connected call.
async function mediaPorts(page) {
  return page.evaluate(async () => {
    for (const pc of window.__pcs) {
      if (pc.connectionState !== 'connected') continue;
      const st = await pc.getStats();
      let pair;
      st.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = st.get(s.selectedCandidatePairId); });
      if (!pair) st.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
      if (pair) return { browser: st.get(pair.localCandidateId).port, server: st.get(pair.remoteCandidateId).port };
    }
    return null;
  });
}

test('on a lossy network the softphone warns of poor quality, the server sees the loss both ways, and the warning goes when it heals', { skip: why || false }, async () => {
  const ned = await agents.page();
  await recordPeerConnections(ned);
  await signIn(ned, sb.url, 'ned');
  await useBrowserPhone(ned);
  let amy, heal;
  try {
    await goAvailable(ned);
    amy = await new Baresip(sb, '15550199', { audio: toneWav(TONES.amy), register: false }).start();
    await sleep(300);
    await amy.command('dial', `sip:5000@127.0.0.1:${sb.sipPort}`);
    const sp = ned.locator('.softphone');
    await ned.locator('.softphone[data-phase="offer"]').waitFor({ timeout: 20000 });
    await sp.getByRole('button', { name: 'Accept' }).click();
    await sp.locator('[data-browser-leg="connected"]').waitFor({ timeout: 15000 });
    await hearsMore(ned, null, (a) => a.packets > 150);
    const number = (await sp.getByRole('link', { name: /Open interaction/ }).first().textContent()).match(/INT\d+/)[0];
    // A clean network first: no warning over two of the softphone's 2 s intervals.
    await sleep(4500);
    assert.equal(await sp.locator('[data-quality="poor"]').count(), 0, 'no warning on a clean network');

    const ports = await mediaPorts(ned);
    assert.ok(ports?.browser && ports?.server, `the call's ports ${JSON.stringify(ports)}`);
    heal = lossy([ports.browser, ports.server], 20);
    const notice = sp.locator('[data-quality="poor"]');
    await notice.waitFor({ timeout: 12000 });
    assert.match(await notice.textContent(), /Poor call quality: \d+% of the audio lost/);
    await shot(ned, 'quality-poor');

    // The server's view of the browser leg (RTCP both ways).
    const agentLeg = async () => (await sb.api('GET', `/api/v1/calls/${number}`, { token: admin })).body.legs
      .find((l) => l.role === 'agent')?.quality;
    await sb.until('the server counts the lost audio both ways', async () => {
      const q = await agentLeg();
      return q && q.rx_lost > 0 && q.browser_view?.lost > 0;
    }, 15000);
    const q = await agentLeg();
    assert.ok(q.rx_lost > 5, `the server lost some of the browser's audio: ${JSON.stringify(q)}`);
    assert.ok(q.browser_view.lost > 5, `the browser reported losing some of the server's: ${JSON.stringify(q)}`);

    // The network heals: the warning goes with the next clean interval.
    heal();
    await sb.until('the warning goes once the network heals', async () => (await notice.count()) === 0, 12000);
    await sp.getByRole('button', { name: 'End call' }).click();
    await ned.locator('.softphone[data-phase="wrapup"]').waitFor({ timeout: 10000 });
    await sp.getByRole('button', { name: 'Clear contact' }).click();
    expectClean(ned);
  } finally {
    heal?.();
    await amy?.stop();
    await ned.close();
  }
});
