#!/usr/bin/env node
// The wallboard's event rate (issue 14; docs/WALLBOARD.md, docs/PERFORMANCE.md):
// a manager's event stream is opened on a running server and every message
// is counted by type for `seconds`: messages and bytes per second, the
// queue_stats pushes per queue (the coalescing: at most 1000 / push_ms a
// second per queue), and the snapshot the stream starts with (its size,
// the live calls and callers waiting in it, how long it took to arrive).
//
//   node bench/wallboard_rate.mjs <url> <token> [seconds=20]
//
// Run by `bash bench/voice.sh wallboard`, which puts 1,000 calls in the
// system first. Prints one JSON object.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../tests/integration/package.json'));
const WebSocket = require('ws');
const [url, token, secs = '20'] = process.argv.slice(2);
const seconds = Number(secs);

const t0 = Date.now();
const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/events?access_token=${token}`);
const byType = {};
const statsPerQueueSecond = {}; // queue -> {second -> pushes}
let bytes = 0, snapshot = null, counting = false, start = 0, closed = null;

const lags = []; // ms from the event's time (the server's clock, the same machine) to its arrival
let received = 0;
ws.on('message', (d) => {
  const m = JSON.parse(d.toString());
  received++;
  if (m.at) lags.push(Date.now() - Date.parse(m.at));
  if (m.type === 'wallboard' && !snapshot) {
    snapshot = { ms: Date.now() - t0, bytes: d.length, calls: m.calls.length,
      waiting: m.queues.reduce((n, q) => n + q.waiting, 0) };
    counting = true;
    start = Date.now();
    setTimeout(done, seconds * 1000);
    return;
  }
  if (!counting) return;
  bytes += d.length;
  byType[m.type] = (byType[m.type] || 0) + 1;
  if (m.type === 'queue_stats') {
    const s = Math.floor((Date.now() - start) / 1000);
    const q = (statsPerQueueSecond[m.queue] ||= {});
    q[s] = (q[s] || 0) + 1;
  }
});
ws.on('error', (e) => { console.error(e.message); process.exit(1); });
ws.on('close', (code, why) => { closed = `${code} ${why}`.trim(); if (counting || !snapshot) done(); });

function pct(a) {
  const v = [...a].sort((x, y) => x - y);
  const q = (p) => v[Math.min(v.length - 1, Math.floor(v.length * p))];
  return v.length ? { p50: q(0.5), p99: q(0.99), max: v[v.length - 1] } : null;
}

function done() {
  if (!counting && !closed) return;
  if (!snapshot) {
    console.log(JSON.stringify({ closed_by_server: closed, before_the_snapshot: true, received, ms: Date.now() - t0 }));
    process.exit(1);
  }
  counting = false;
  const el = (Date.now() - start) / 1000;
  const total = Object.values(byType).reduce((a, b) => a + b, 0);
  const perType = Object.fromEntries(Object.entries(byType).map(([k, v]) => [k, +(v / el).toFixed(1)]));
  const maxStats = Object.fromEntries(Object.entries(statsPerQueueSecond)
    .map(([q, s]) => [q, Math.max(...Object.values(s))]));
  console.log(JSON.stringify({ seconds: +el.toFixed(1), closed_by_server: closed, snapshot, messages_per_s: +(total / el).toFixed(1),
    kib_per_s: +(bytes / 1024 / el).toFixed(1), delay_ms: pct(lags), per_type_per_s: perType, max_queue_stats_per_s: maxStats }));
  ws.close();
  process.exit(0);
}
