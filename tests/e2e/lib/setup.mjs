// The real server for the browser tests: the ASan build (SB_BIN) in demo
// mode on free ports, serving web/dist (built by scripts/test.sh) as its
// default http.web_root. Reuses the integration tests' helpers.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Server, tempDir, writeConfig } from '../../integration/lib/server.mjs';
import { freeUdpPort } from '../../integration/lib/peers.mjs';

export { Server, tempDir };
export * from '../../integration/lib/peers.mjs';

const DIST = resolve(new URL('../../../web/dist/index.html', import.meta.url).pathname);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startServer(config = '') {
  if (!existsSync(DIST)) throw new Error(`web/dist is not built (cd web && npm ci && npm run build): ${DIST}`);
  const args = config ? ['--config', writeConfig(tempDir('sb-e2e-cfg-'), config)] : [];
  return new Server({ args }).start();
}

// The customer behind calls.outbound_uri (as tests/integration/calls.test.mjs
// does): sipp's UAS on port, answering one call and echoing its RTP.
// messages() is what it received and sent so far.
export async function farEnd(port) {
  const dir = tempDir('sb-far-');
  const args = ['-i', '127.0.0.1', '-p', String(port), '-m', '1', '-nostdin', '-trace_msg', '-timeout', '40s',
    '-sn', 'uas', '-mi', '127.0.0.1', '-rtp_echo', '-mp', String(await freeUdpPort())];
  const p = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((r) => p.on('exit', (code) => r(code)));
  const messages = () => readdirSync(dir).filter((f) => f.endsWith('messages.log'))
    .map((f) => execFileSync('cat', [join(dir, f)], { encoding: 'utf8' })).join('');
  await sleep(300);
  return { proc: p, exited, messages, out: () => out };
}
