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

