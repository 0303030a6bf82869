// An INVITE flood ten times the site's capacity (issue 17): sipp offers
// 1,000 calls/s for 8 s against max_calls 50. Calls beyond capacity get
// 503 at once; the test then measures how long after the flood's last
// INVITE a normal call is answered, and bounds it (docs/SIP.md "Overload").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir, writeConfig } from './lib/server.mjs';
import { freeUdpPort, sipp, spokenUlaw } from './lib/peers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const RATE = Number(process.env.FLOOD_RATE || 1000), SECONDS = Number(process.env.FLOOD_SECONDS || 8), HOLD_MS = Number(process.env.FLOOD_HOLD_MS || 1500), BOUND_MS = 3000;
let sb;

before(async () => {
  const cfg = writeConfig(tempDir('sb-cfg-'), 'sip:\n  max_calls: 50\n');
  sb = await new Server({ args: ['--config', cfg] }).start();
});
after(async () => { await sb.stop(); });

// The flood: caller_load.xml (bench/), each admitted call streams speech
// for HOLD_MS and hangs up; a 503 is counted by sipp, not failed.
async function flood() {
  const dir = tempDir('sb-flood-');
  copyFileSync(new URL('../../bench/sipp/caller_load.xml', import.meta.url).pathname, join(dir, 'caller_load.xml'));
  copyFileSync(spokenUlaw('I would like to talk to someone about my order please'), join(dir, 'speech.ulaw'));
  const port = await freeUdpPort();
  let mport = await freeUdpPort();
  while (Math.abs(mport - port) < 4) mport = await freeUdpPort();
  const args = [`127.0.0.1:${sb.sipPort}`, '-sf', 'caller_load.xml', '-s', '5000', '-m', String(RATE * SECONDS),
    '-r', String(RATE), '-l', String(RATE * SECONDS), '-d', String(HOLD_MS), '-i', '127.0.0.1', '-p', String(port),
    '-mi', '127.0.0.1', '-mp', String(mport), '-nostdin', '-timeout', '60s', '-trace_screen', '-max_socket', '2000'];
  const p = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const t0 = Date.now();
  const code = await new Promise((r) => p.on('exit', (c) => r(c)));
  const screen = readdirSync(dir).filter((f) => f.endsWith('_screen.log')).map((f) => readFileSync(join(dir, f), 'utf8')).join('');
  return { code, t0, screen };
}

test('after a 10x INVITE flood, a normal call is answered within a bound', async () => {
  const run = flood();
  // The flood's last INVITE leaves about SECONDS after it starts.
  await sleep(SECONDS * 1000);
  const floodEnd = Date.now();
  let answeredAt = 0, tries = 0;
  while (!answeredAt && Date.now() - floodEnd < 30000) {
    tries++;
    const r = await sipp(sb, 'caller.xml', { service: '5000', pauseMs: 200, timeoutS: 10 });
    if (r.code === 0 && /SIP\/2\.0 200 OK/.test(r.messages)) answeredAt = Date.now();
    else await sleep(100);
  }
  const { screen } = await run;
  const refused = Number((screen.match(/503\s+<-+\s+(\d+)/) || screen.match(/<---------- 503\s+(\d+)/) || [])[1] || 0);
  const waited = answeredAt ? answeredAt - floodEnd : Infinity;
  console.log(`flood: ${RATE * SECONDS} INVITEs at ${RATE}/s against max_calls 50; first normal call answered ${waited} ms after the flood (${tries} tries); 503s seen by sipp: ${refused || 'n/a'}`);
  assert.ok(answeredAt, `no normal call answered within 30 s of the flood:\n${sb.log.slice(-3000)}`);
  assert.ok(waited <= BOUND_MS, `first normal call ${waited} ms after the flood (bound ${BOUND_MS} ms)`);
  const h = await sb.api('GET', '/api/v1/health');
  assert.equal(h.status, 200);
});
