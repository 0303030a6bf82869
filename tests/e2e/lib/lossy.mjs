// A lossy network on loopback: nftables drops a share of the UDP datagrams
// sent to given ports (the kernel here has no sch_netem; nft's `numgen
// random` in an input hook drops on receive, so the sender sees no error).
// Root only; a table of its own per call, removed by heal() (and on exit).
import { execFileSync } from 'node:child_process';

let seq = 0;

// Why a lossy network cannot be made here, or null when it can.
export function lossyUnavailable() {
  if (process.getuid?.() !== 0) return 'nftables needs root';
  try { execFileSync('nft', ['--version'], { stdio: 'ignore' }); } catch { return 'nft is not installed (apt-get install nftables)'; }
  return null;
}

// Drops `percent` % of the UDP datagrams to each of `ports`; returns heal().
export function lossy(ports, percent) {
  const table = `sbloss${process.pid}x${++seq}`;
  const nft = (...a) => execFileSync('nft', a, { stdio: ['ignore', 'ignore', 'pipe'] });
  nft('add', 'table', 'inet', table);
  nft('add', 'chain', 'inet', table, 'in', '{ type filter hook input priority 0; policy accept; }');
  for (const p of ports) nft('add', 'rule', 'inet', table, 'in', 'udp', 'dport', String(p), 'numgen', 'random', 'mod', '100', '<', String(percent), 'drop');
  let healed = false;
  const heal = () => {
    if (healed) return;
    healed = true;
    try { nft('delete', 'table', 'inet', table); } catch { /* already gone */ }
  };
  process.once('exit', heal);
  return heal;
}
