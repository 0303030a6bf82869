// The reports page in the browser (issue 14 point 7): a manager opens
// Reports, picks yesterday by hour, and sees the totals, three charts
// (drawn: their canvases hold pixels) with a table under each; a row's
// "Interactions" lists the segments behind it, each linking to the
// interaction's form; Download CSV saves the rows the API gives for the
// same request; the agents' report renders too; an agent has no Reports.
// Screenshots in build/screenshots/reports-*.png.
//
// The history is yesterday's, so it is written into the store before the
// server starts (contact trace records and presence changes, as routing
// writes them) and the server builds the aggregates from it at start (the
// backfill of migration 014, rep_state.built = 0): figures by hand below.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { launch, expectClean, signIn, SHOTS } from './lib/browser.mjs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from './lib/setup.mjs';

const WEB = new URL('../../web/dist', import.meta.url).pathname;
const DAY = 86400000;
const Y = Math.floor(Date.now() / DAY) * DAY - DAY; // yesterday 00:00 UTC (the browser runs in UTC)
const at = (h, m, s = 0) => Y + ((h * 60 + m) * 60 + s) * 1000;

let sb, browser, page;

function sql(db, text) {
  return execFileSync('sqlite3', ['-bail', db, text], { encoding: 'utf8' }).trim();
}

// One inbound call: its interaction and its record. wait and talk in s;
// agent null: abandoned.
function call(n, { queue, enq, wait, agent, talk = 0, hold = 0, acw = 0 }) {
  const number = `INT${String(8000 + n).padStart(7, '0')}`;
  const id = 8000 + n;
  const con = agent ? enq + wait * 1000 : 0;
  const end = agent ? con + (talk + hold) * 1000 : enq + wait * 1000;
  return `INSERT INTO interactions(id,number,type,direction,state,queued,caller_number,queue_id,agent_user_id,opened_at,closed_at,close_reason)
    VALUES(${id},'${number}','phone','inbound','${agent ? 'closed_complete' : 'closed_abandoned'}',1,'+15550199',
      (SELECT id FROM queues WHERE name='${queue}'),${agent ? `(SELECT id FROM users WHERE user_name='${agent}')` : 0},${enq - 5000},${end + acw * 1000},'');
  INSERT INTO ctr(contact_id,interaction_id,segment,initial_contact_id,initiation_method,initiation_at,connected_to_system_at,
      disconnect_at,last_update_at,queue_id,queue,enqueue_at,dequeue_at,queue_ms,agent_user_id,agent,agent_name,connected_to_agent_at,
      talk_ms,hold_ms,holds,longest_hold_ms,acw_start_at,acw_end_at,acw_ms,connection_attempts,disconnect_reason)
    VALUES('${number}-1',${id},1,'${number}-1','inbound',${enq - 5000},${enq - 5000},${end},${end + acw * 1000},
      (SELECT id FROM queues WHERE name='${queue}'),'${queue}',${enq},${enq + wait * 1000},${wait * 1000},
      ${agent ? `(SELECT id FROM users WHERE user_name='${agent}')` : 0},'${agent || ''}',
      ${agent ? `(SELECT name FROM users WHERE user_name='${agent}')` : "''"},${con},${talk * 1000},${hold * 1000},${hold ? 1 : 0},
      ${hold * 1000},${agent ? end : 0},${agent ? end + acw * 1000 : 0},${acw * 1000},${agent ? 1 : 0},'${agent ? 'agent' : 'customer'}');`;
}

before(async () => {
  sb = await startServer(`http:\n  web_root: ${WEB}\n`);
  await sb.stop({ keep: true });
  // Support (threshold 20 s): 08:05 answered after 5 s by ned (talk 120,
  // hold 30, ACW 20); 08:40 answered after 45 s by beth (talk 60, ACW 10);
  // 09:10 abandoned after 30 s. Billing: 09:20 answered after 2 s by ned
  // (talk 90). ned: Available 07:55, Busy 08:05-08:07:30, ...
  const db = sb.dbPath;
  sql(db, `BEGIN;
    ${call(1, { queue: 'Support', enq: at(8, 5), wait: 5, agent: 'ned', talk: 120, hold: 30, acw: 20 })}
    ${call(2, { queue: 'Support', enq: at(8, 40), wait: 45, agent: 'beth', talk: 60, acw: 10 })}
    ${call(3, { queue: 'Support', enq: at(9, 10), wait: 30 })}
    ${call(4, { queue: 'Billing', enq: at(9, 20), wait: 2, agent: 'ned', talk: 90 })}
    INSERT INTO presence_history(user_id,at,from_state,to_state) SELECT id,${at(7, 55)},'Offline','Available' FROM users WHERE user_name='ned';
    INSERT INTO presence_history(user_id,at,from_state,to_state) SELECT id,${at(8, 5, 5)},'Available','Busy' FROM users WHERE user_name='ned';
    INSERT INTO presence_history(user_id,at,from_state,to_state) SELECT id,${at(8, 7, 35)},'Busy','AfterCallWork' FROM users WHERE user_name='ned';
    INSERT INTO presence_history(user_id,at,from_state,to_state) SELECT id,${at(8, 7, 55)},'AfterCallWork','Available' FROM users WHERE user_name='ned';
    INSERT INTO presence_history(user_id,at,from_state,to_state) SELECT id,${at(10, 0)},'Available','Offline' FROM users WHERE user_name='ned';
    UPDATE rep_state SET built=0;
    COMMIT;`);
  await sb.start();
  browser = await launch();
  page = await browser.page();
});
after(async () => {
  await page?.close();
  await browser?.close();
  await sb?.stop();
});

// The pixels a chart's canvas holds that are not transparent.
const inked = (chart) => page.locator(`[data-chart="${chart}"] canvas`).first().evaluate((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
  return n;
});

// The whole page (the charts are below the fold).
async function shot(p, name) {
  mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const cells = (table, rowText) => page.locator(`table[data-table="${table}"] tbody tr`, { hasText: rowText }).first()
  .locator('td').allInnerTexts();

test('a manager reads yesterday by hour: totals, three charts with their tables', async () => {
  await signIn(page, sb.url, 'mia');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
  await page.getByRole('heading', { level: 1, name: 'Reports' }).waitFor();
  await page.getByLabel('Period', { exact: true }).selectOption('yesterday');
  await page.getByLabel('Interval', { exact: true }).selectOption('hour');
  await page.locator('table[data-table="totals"] tbody tr', { hasText: 'Billing' }).waitFor();
  // totals: Support offered 3, answered 2, abandoned 1, 33.3 %, service
  // level 1/3 (only the 5 s answer was within 20 s), ASA (5+45)/2 = 25 s,
  // AHT ((120+30+20) + (60+10))/2 = 120 s, avg ACW 15 s, hold 30 s
  const support = await cells('totals', 'Support');
  assert.deepEqual(support, ['Support', '20 s', '3', '2', '1', '33.3 %', '33.3 %', '0:25', '2:00', '0:15', '0:30', '0', '0', '0']);
  const billing = await cells('totals', 'Billing');
  assert.deepEqual(billing.slice(2, 9), ['1', '1', '0', '0.0 %', '100.0 %', '0:02', '1:30']);
  const all = await page.locator('table[data-table="totals"] tr.total-row td').allInnerTexts();
  assert.deepEqual(all.slice(0, 7), ['All', '', '4', '3', '1', '25.0 %', '50.0 %']);
  for (const chart of ['volume', 'service', 'times']) {
    await page.locator(`[data-chart="${chart}"] canvas`).first().waitFor();
    assert.ok(await inked(chart) > 500, `the ${chart} chart is drawn`);
  }
  // the tables under the charts: one row per queue and hour
  const volume = page.locator('table[data-table="volume"] tbody tr');
  assert.equal(await volume.count(), 3);
  assert.deepEqual((await cells('volume', '8:00')).slice(0, 5), ['Support', (await cells('volume', '8:00'))[1], '2', '2', '0']);
  await shot(page, 'reports-queues');
  expectClean(page);
});

test('a row drills down to its interactions, and on to the interaction form', async () => {
  await page.locator('table[data-table="volume"] tbody tr', { hasText: '8:00' }).getByRole('button', { name: /Interactions of Support/ }).click();
  const drill = page.locator('table[data-table="drill"]');
  await drill.waitFor();
  assert.equal(await drill.locator('tbody tr').count(), 2);
  const numbers = await drill.locator('tbody tr td:first-child').allInnerTexts();
  assert.deepEqual(numbers.sort(), ['INT0008001', 'INT0008002']);
  const first = await drill.locator('tbody tr', { hasText: 'INT0008001' }).locator('td').allInnerTexts();
  assert.equal(first[3], 'Answered');
  assert.equal(first[4], '0:05');
  assert.equal(first[6], '2:00');
  await shot(page, 'reports-drill');
  await drill.getByRole('link', { name: 'INT0008002' }).click();
  await page.waitForURL(/\/interactions\/INT0008002$/);
  await page.getByRole('heading', { level: 1, name: /INT0008002/ }).waitFor();
  await page.goBack();
  await page.getByRole('heading', { level: 1, name: 'Reports' }).waitFor();
  expectClean(page);
});

test('Download CSV saves the rows of the same report', async () => {
  await page.getByLabel('Period', { exact: true }).selectOption('yesterday');
  await page.getByLabel('Interval', { exact: true }).selectOption('hour');
  await page.locator('table[data-table="volume"] tbody tr').nth(2).waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
  const day = new Date(Y).toISOString().slice(0, 10);
  assert.equal(download.suggestedFilename(), `queues-hour-${day}.csv`);
  const text = readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split('\r\n').map((l) => l.split(','));
  const head = lines[0];
  assert.deepEqual(head.slice(0, 4), ['queue', 'interval_start', 'offered', 'answered']);
  const col = (row, name) => row[head.indexOf(name)];
  const rows = lines.slice(1);
  assert.equal(rows.length, 3, text);
  const iso = (h) => new Date(at(h, 0)).toISOString();
  const s8 = rows.find((r) => r[0] === 'Support' && r[1] === iso(8));
  const s9 = rows.find((r) => r[0] === 'Support' && r[1] === iso(9));
  const b9 = rows.find((r) => r[0] === 'Billing' && r[1] === iso(9));
  assert.ok(s8 && s9 && b9, text);
  assert.equal(col(s8, 'offered'), '2');
  assert.equal(col(s8, 'answered_within_threshold'), '1');
  assert.equal(col(s8, 'service_level'), '0.5000');
  assert.equal(col(s8, 'average_speed_of_answer_seconds'), '25.0');
  assert.equal(col(s8, 'talk_seconds'), '180.0');
  assert.equal(col(s9, 'abandoned'), '1');
  assert.equal(col(s9, 'average_abandon_time_seconds'), '30.0');
  assert.equal(col(s9, 'average_speed_of_answer_seconds'), '');
  assert.equal(col(b9, 'answered'), '1');
  expectClean(page);
});

test('the agents report renders its charts: ned\'s time in each state and occupancy', async () => {
  await page.getByRole('tab', { name: 'Agents' }).click();
  await page.getByLabel('Period', { exact: true }).selectOption('yesterday');
  await page.getByLabel('Interval', { exact: true }).selectOption('hour');
  await page.locator('table[data-table="totals"] tbody tr', { hasText: 'Ned' }).waitFor();
  const ned = await cells('totals', 'Ned');
  // handled 2, from queues 2; Busy 2:30, ACW 0:20, Available 2:05 - 2:50 = ...
  assert.equal(ned[1], '2');
  assert.equal(ned[2], '2');
  // Available 07:55-08:05:05 (10:05) + 08:07:55-10:00 (1:52:05) = 2:02:10;
  // busy 2:30, ACW state 0:20; occupancy 170 / (170 + 7330) = 2.3 %
  assert.equal(ned[11], '2:02:10');
  assert.equal(ned[12], '2:30');
  assert.equal(ned[13], '0:20');
  assert.equal(ned[10], '2.3 %');
  for (const chart of ['contacts', 'occupancy', 'states']) {
    await page.locator(`[data-chart="${chart}"] canvas`).first().waitFor();
    assert.ok(await inked(chart) > 500, `the ${chart} chart is drawn`);
  }
  await shot(page, 'reports-agents');
  expectClean(page);
});

test('an agent has no Reports: no link, and the page says it is for managers', async () => {
  const p = await browser.page();
  await signIn(p, sb.url, 'ned');
  assert.equal(await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).count(), 0);
  await p.goto(`${sb.url}/reports`);
  await p.getByText('Reports need the voice_manager or admin role.').waitFor();
  await p.close();
});
