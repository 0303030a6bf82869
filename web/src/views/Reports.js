// Historical reports for managers (issue 14 point 7, docs/REPORTS.md): per
// queue or per agent over a period by 15 minutes, hour, day or week, from
// GET /api/v1/reports/{queues|agents}. Charts drawn with uPlot (bundled by
// the build; docs/WEB.md says why), a table under each chart, the totals
// per queue or agent, CSV export (the same request with Accept: text/csv),
// and from any row the contact segments behind it
// (GET /api/v1/reports/{kind}/interactions), each linking to the
// interaction's form with its recording player.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ApiError, get, getToken, query } from '../api.js';
import { dateTime, duration, interactionPath } from '../format.js';
import { Empty, ErrorBox, Loading, PageHeader } from './common.js';

const DAY = 86400000;
const STEP = { '15min': 900000, hour: 3600000, day: DAY, week: 7 * DAY };
const INTERVALS = [['15min', '15 minutes'], ['hour', 'Hour'], ['day', 'Day'], ['week', 'Week']];
const PERIODS = [['today', 'Today'], ['yesterday', 'Yesterday'], ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'], ['custom', 'Custom']];

// The site's offset as the browser sees it today (minutes east of UTC).
const TZ = -new Date().getTimezoneOffset();

function midnight(daysAgo) {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - daysAgo);
  return d.getTime();
}

// [from, to) of a period picker's value, in ms.
function periodRange(f) {
  const now = Date.now();
  switch (f.period) {
    case 'yesterday': return [midnight(1), midnight(0)];
    case '7d': return [midnight(6), now];
    case '30d': return [midnight(29), now];
    case 'custom': return [f.from ? new Date(`${f.from}T00:00:00`).getTime() : midnight(0),
      f.to ? new Date(`${f.to}T00:00:00`).getTime() + DAY : now];
    default: return [midnight(0), now];
  }
}

// ---- what each chart shows ----
const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)} %`);
const secs = (v) => (v === null || v === undefined ? '—' : duration(v));
const num = (v) => (v === null || v === undefined ? '—' : String(v));

// Sums of the rows per interval (several queues or agents): counts and
// times add; rates and averages are recomputed from what they divide.
// Every interval of the period is there (empty ones as zeros), so the
// time axis is the period's.
function perInterval(rows, from, to, interval) {
  const by = new Map();
  for (const r of rows) {
    const t = Date.parse(r.interval_start);
    let a = by.get(t);
    if (!a) by.set(t, (a = { t }));
    for (const [k, v] of Object.entries(r)) if (typeof v === 'number') a[k] = (a[k] || 0) + v;
    a.asa_w = (a.asa_w || 0) + (r.average_speed_of_answer_seconds || 0) * (r.answered || 0);
    a.aht_w = (a.aht_w || 0) + (r.average_handle_time_seconds || 0) * (r.handled ?? r.answered ?? 0);
    a.occ_on = (a.occ_on || 0) + (r.busy_seconds || 0) + (r.after_call_work_state_seconds || 0) + (r.calling_customer_seconds || 0);
  }
  const div = (a, b) => (b > 0 ? a / b : null);
  const step = STEP[interval];
  for (let t = Date.parse(from), end = Date.parse(to), i = 0; t < end && i < 20000; t += step, i++) {
    if (!by.has(t)) by.set(t, { t });
  }
  return [...by.values()].sort((x, y) => x.t - y.t).map((a) => ({
    ...a,
    service_level: div(a.answered_within_threshold, a.offered),
    abandonment_rate: div(a.abandoned, a.offered),
    average_speed_of_answer_seconds: div(a.asa_w, a.answered),
    average_handle_time_seconds: div(a.aht_w, a.handled ?? a.answered),
    occupancy: div(a.occ_on, a.occ_on + (a.available_seconds || 0)),
  }));
}

const CHARTS = {
  queues: [
    { id: 'volume', title: 'Calls', unit: 'calls', sums: true, cols: [
      ['offered', 'Offered', '#2a6a91', num], ['answered', 'Answered', '#2f8f5b', num],
      ['abandoned', 'Abandoned', '#c0563a', num]] },
    { id: 'service', title: 'Service level and abandonment', unit: '%', cols: [
      ['service_level', 'Service level', '#2f8f5b', pct], ['abandonment_rate', 'Abandonment rate', '#c0563a', pct]],
    extra: [['answered_within_threshold', 'Answered in threshold', num], ['abandoned_within_threshold', 'Abandoned in threshold', num],
      ['missed_offers', 'Missed offers', num], ['transfers_in', 'Transfers in', num], ['transfers_out', 'Transfers out', num]] },
    { id: 'times', title: 'Speed of answer and handle time', unit: 's', cols: [
      ['average_speed_of_answer_seconds', 'Avg speed of answer', '#2a6a91', secs],
      ['average_handle_time_seconds', 'Avg handle time', '#7a4fa0', secs]],
    extra: [['average_after_call_work_seconds', 'Avg after-call work', secs], ['hold_seconds', 'Hold', secs],
      ['average_abandon_time_seconds', 'Avg abandon time', secs]] },
  ],
  agents: [
    { id: 'contacts', title: 'Contacts handled', unit: 'contacts', sums: true, cols: [
      ['handled', 'Handled', '#2a6a91', num], ['missed_offers', 'Missed offers', '#c0563a', num]],
    extra: [['answered', 'From queues', num], ['outbound', 'Outbound', num], ['transfers_in', 'Transfers in', num],
      ['transfers_out', 'Transfers out', num]] },
    { id: 'occupancy', title: 'Occupancy', unit: '%', cols: [['occupancy', 'Occupancy', '#7a4fa0', pct]],
      extra: [['average_handle_time_seconds', 'Avg handle time', secs], ['average_after_call_work_seconds', 'Avg after-call work', secs]] },
    { id: 'states', title: 'Time in each state', unit: 's', sums: true, cols: [
      ['available_seconds', 'Available', '#2f8f5b', secs], ['busy_seconds', 'Busy', '#2a6a91', secs],
      ['after_call_work_state_seconds', 'After call work', '#7a4fa0', secs], ['away_seconds', 'Away', '#b08a2e', secs],
      ['missed_seconds', 'Missed', '#c0563a', secs]] },
  ],
};

// ---- the chart ----
function Chart({ spec, points, interval }) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const scale = spec.unit === '%' ? 100 : 1;
    const data = [points.map((p) => p.t / 1000),
      ...spec.cols.map(([k]) => points.map((p) => {
        // sums are 0 in an empty interval; rates and averages are undefined
        if (p[k] === null || (p[k] === undefined && !spec.sums)) return null;
        return (p[k] || 0) * scale;
      }))];
    const opts = {
      width: Math.max(320, el.clientWidth || 640),
      height: 220,
      series: [{ label: interval === 'day' || interval === 'week' ? 'Day' : 'Time' },
        ...spec.cols.map(([, label, color], i) => ({
          label, stroke: color, width: 2, fill: i === 0 && spec.sums ? `${color}22` : undefined,
          points: { show: points.length < 60 }, spanGaps: false,
          value: (u, v) => (v === null ? '—' : spec.unit === 's' ? duration(v) : spec.unit === '%' ? `${v.toFixed(1)} %` : v),
        }))],
      axes: [{}, { label: spec.unit, size: 60,
        values: (u, vals) => vals.map((v) => (spec.unit === 's' ? duration(v) : spec.unit === '%' ? `${v} %` : v)) }],
      scales: { x: { time: true, range: (u, mn, mx) => [mn - STEP[interval] / 2000, mx + STEP[interval] / 2000] }, y: spec.unit === '%' ? { range: [0, 100] } : { range: (u, mn, mx) => [0, Math.max(1, mx)] } },
    };
    const plot = new uPlot(opts, data, el);
    const ro = typeof ResizeObserver === 'function'
      ? new ResizeObserver(() => plot.setSize({ width: Math.max(320, el.clientWidth), height: 220 })) : null;
    ro?.observe(el);
    return () => { ro?.disconnect(); plot.destroy(); };
  }, [spec, points, interval]);
  return html`<div class="report-chart" ref=${ref} role="img" data-chart=${spec.id}
    aria-label=${`${spec.title} by ${interval}: ${spec.cols.map((c) => c[1]).join(', ')}`}></div>`;
}

const intervalLabel = (iso, interval) => {
  const d = new Date(iso);
  if (interval === 'day') return d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
  if (interval === 'week') return `Week of ${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })}`;
  return dateTime(iso);
};

// A chart's table: one row per queue (or agent) and interval.
function ChartTable({ spec, rows, kind, interval, onDrill }) {
  const cols = [...spec.cols.map(([k, l, , f]) => [k, l, f]), ...(spec.extra || [])];
  const who = kind === 'queues' ? 'queue' : 'agent';
  return html`<div class="table-wrap"><table class="table report-table" data-table=${spec.id}>
    <thead><tr><th scope="col">${kind === 'queues' ? 'Queue' : 'Agent'}</th><th scope="col">Interval</th>
      ${cols.map(([, l]) => html`<th scope="col" class="num">${l}</th>`)}<th scope="col"><span class="sr-only">Interactions</span></th></tr></thead>
    <tbody>${rows.map((r) => html`<tr>
      <td>${kind === 'queues' ? r.queue : r.agent_name || r.agent}</td>
      <td>${intervalLabel(r.interval_start, interval)}</td>
      ${cols.map(([k, , f]) => html`<td class="num">${f(r[k])}</td>`)}
      <td><button class="btn btn-quiet btn-small" onClick=${() => onDrill(r[who], r.interval_start)}
        aria-label=${`Interactions of ${r[who]} at ${intervalLabel(r.interval_start, interval)}`}>Interactions</button></td>
    </tr>`)}</tbody></table></div>`;
}

function Totals({ data, kind }) {
  const cols = kind === 'queues'
    ? [['offered', 'Offered', num], ['answered', 'Answered', num], ['abandoned', 'Abandoned', num],
      ['abandonment_rate', 'Abandon rate', pct], ['service_level', 'Service level', pct],
      ['average_speed_of_answer_seconds', 'ASA', secs], ['average_handle_time_seconds', 'AHT', secs],
      ['average_after_call_work_seconds', 'Avg ACW', secs], ['hold_seconds', 'Hold', secs],
      ['transfers_in', 'Xfer in', num], ['transfers_out', 'Xfer out', num], ['missed_offers', 'Missed', num]]
    : [['handled', 'Handled', num], ['answered', 'From queues', num], ['outbound', 'Outbound', num],
      ['average_handle_time_seconds', 'AHT', secs], ['average_after_call_work_seconds', 'Avg ACW', secs],
      ['hold_seconds', 'Hold', secs], ['transfers_in', 'Xfer in', num], ['transfers_out', 'Xfer out', num],
      ['missed_offers', 'Missed', num], ['occupancy', 'Occupancy', pct], ['available_seconds', 'Available', secs],
      ['busy_seconds', 'Busy', secs], ['after_call_work_state_seconds', 'ACW', secs], ['away_seconds', 'Away', secs]];
  return html`<section class="card" aria-labelledby="totals-h"><h2 id="totals-h" class="card-title">Totals over the period</h2>
    <div class="table-wrap"><table class="table report-table" data-table="totals">
    <thead><tr><th scope="col">${kind === 'queues' ? 'Queue' : 'Agent'}</th>
      ${kind === 'queues' && html`<th scope="col" class="num">Threshold</th>`}
      ${cols.map(([, l]) => html`<th scope="col" class="num">${l}</th>`)}</tr></thead>
    <tbody>${data.totals.map((r) => html`<tr><td>${kind === 'queues' ? r.queue : r.agent_name || r.agent}</td>
      ${kind === 'queues' && html`<td class="num">${r.service_level_threshold_seconds} s</td>`}
      ${cols.map(([k, , f]) => html`<td class="num">${f(r[k])}</td>`)}</tr>`)}
      <tr class="total-row"><td>All</td>${kind === 'queues' && html`<td></td>`}
      ${cols.map(([k, , f]) => html`<td class="num">${f(data.total[k])}</td>`)}</tr></tbody></table></div></section>`;
}

const OUTCOME = { answered: 'Answered', abandoned: 'Abandoned', not_answered: 'Not answered' };

// The segments behind one row: its queue (or agent) and interval.
function Drill({ drill, kind, onClose }) {
  const [st, setSt] = useState({ rows: null, cursor: null, error: null, busy: true });
  const load = async (cursor) => {
    setSt((s) => ({ ...s, busy: true }));
    try {
      const r = await get(`/api/v1/reports/${kind}/interactions${query({ [kind === 'queues' ? 'queue' : 'agent']: drill.name,
        from: drill.from, to: drill.to, limit: 100, cursor })}`);
      setSt((s) => ({ rows: cursor ? [...s.rows, ...r.segments] : r.segments, cursor: r.next_cursor, error: null, busy: false }));
    } catch (error) {
      setSt((s) => ({ ...s, error, busy: false }));
    }
  };
  useEffect(() => { load(null); }, [drill]);
  return html`<section class="card drill" aria-labelledby="drill-h" data-drill>
    <div class="card-head"><h2 id="drill-h" class="card-title">Interactions · ${drill.name} · ${dateTime(new Date(drill.from).toISOString())} – ${dateTime(new Date(drill.to).toISOString())}</h2>
      <button class="btn btn-quiet card-link" onClick=${onClose}>Close</button></div>
    <${ErrorBox} error=${st.error} title="The interactions could not be read" />
    ${st.rows === null ? html`<${Loading} />` : st.rows.length === 0 ? html`<${Empty}>No interactions in this interval.</${Empty}>`
      : html`<div class="table-wrap"><table class="table" data-table="drill"><thead><tr>
        <th scope="col">Interaction</th><th scope="col">Segment</th><th scope="col">Queued</th><th scope="col">Outcome</th>
        <th scope="col" class="num">Wait</th><th scope="col">Agent</th><th scope="col" class="num">Talk</th>
        <th scope="col" class="num">Hold</th><th scope="col" class="num">ACW</th><th scope="col">Transferred to</th><th scope="col">Disconnect</th></tr></thead>
        <tbody>${st.rows.map((s) => html`<tr data-contact=${s.contact_id}>
          <td><a href=${interactionPath(s.interaction)}>${s.interaction}</a></td><td>${s.segment} · ${s.initiation_method}</td>
          <td>${dateTime(s.queue?.enqueue_timestamp || s.initiation_timestamp)}</td>
          <td><span class="badge ${s.outcome === 'answered' ? 'tone-done' : s.outcome === 'abandoned' ? 'tone-warn' : 'tone-muted'}">${OUTCOME[s.outcome] || s.outcome}</span></td>
          <td class="num">${s.queue ? duration(s.queue.duration_seconds) : '—'}</td><td>${s.agent?.name || '—'}</td>
          <td class="num">${s.agent ? duration(s.agent.interaction_duration_seconds) : '—'}</td>
          <td class="num">${s.agent ? duration(s.agent.customer_hold_duration_seconds) : '—'}</td>
          <td class="num">${s.agent?.after_contact_work_duration_seconds != null ? duration(s.agent.after_contact_work_duration_seconds) : '—'}</td>
          <td>${s.transferred_to ? `${s.transferred_to.type}: ${s.transferred_to.address}` : '—'}</td><td>${s.disconnect_reason || '—'}</td>
        </tr>`)}</tbody></table></div>`}
    ${st.cursor && html`<div class="more"><button class="btn btn-quiet" disabled=${st.busy} onClick=${() => load(st.cursor)}>Load more</button></div>`}
  </section>`;
}

// The CSV of the same request: fetched with the bearer token (a link
// cannot send it), handed to the browser as a download.
async function downloadCsv(path, name) {
  const r = await fetch(path, { headers: { authorization: `Bearer ${getToken()}`, accept: 'text/csv' } });
  if (!r.ok) {
    let j = null;
    try { j = await r.json(); } catch { /* not JSON */ }
    throw new ApiError(r.status, j?.error || 'http_error', j?.message || `The server answered ${r.status}`);
  }
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function Reports() {
  const [form, setForm] = useState({ kind: 'queues', period: 'today', from: '', to: '', interval: 'hour', queue: '', agent: '' });
  const [run, setRun] = useState(0);
  const [st, setSt] = useState({ data: null, error: null, busy: true, path: '' });
  const [drill, setDrill] = useState(null);
  const [names, setNames] = useState({ queues: [], agents: [] });

  useEffect(() => {
    get('/api/v1/queues').then((r) => setNames((n) => ({ ...n, queues: r.queues.map((q) => q.name) })), () => {});
    get('/api/v1/agents').then((r) => setNames((n) => ({ ...n, agents: r.agents.map((a) => [a.user_name, a.name]) })), () => {});
  }, []);

  useEffect(() => {
    let live = true;
    const [from, to] = periodRange(form);
    const path = `/api/v1/reports/${form.kind}${query({ from, to, interval: form.interval, tz_offset: TZ,
      [form.kind === 'queues' ? 'queue' : 'agent']: form.kind === 'queues' ? form.queue : form.agent })}`;
    setSt((s) => ({ ...s, busy: true, error: null }));
    setDrill(null);
    get(path).then((data) => live && setSt({ data, error: null, busy: false, path }),
      (error) => live && setSt({ data: null, error, busy: false, path }));
    return () => { live = false; };
  }, [form, run]);

  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const points = st.data ? perInterval(st.data.rows, st.data.from, st.data.to, st.data.interval) : [];
  const kind = st.data ? st.data.report : form.kind;
  const onDrill = (name, start) => {
    const from = Date.parse(start);
    setDrill({ name, from, to: from + STEP[st.data.interval] });
  };
  const [csvError, setCsvError] = useState(null);
  const csv = () => {
    setCsvError(null);
    const day = new Date(periodRange(form)[0]).toISOString().slice(0, 10);
    downloadCsv(st.path, `${form.kind}-${form.interval}-${day}.csv`).catch(setCsvError);
  };

  return html`<div class="page reports">
    <${PageHeader} kicker="History" title="Reports">
      <button class="btn" onClick=${csv} disabled=${!st.data} data-csv>Download CSV</button>
    </${PageHeader}>
    <div class="tabs" role="tablist" aria-label="Report">
      ${[['queues', 'Queues'], ['agents', 'Agents']].map(([k, l]) => html`<button role="tab" class="tab" id=${`rtab-${k}`}
        aria-selected=${form.kind === k} onClick=${() => setForm({ ...form, kind: k })}>${l}</button>`)}
    </div>
    <form class="card filters report-filters" aria-label="Report period and filters" onSubmit=${(e) => { e.preventDefault(); setRun(run + 1); }}>
      <div class="filter"><label for="r-period">Period</label><select id="r-period" value=${form.period} onChange=${set('period')}>
        ${PERIODS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></div>
      ${form.period === 'custom' && html`
        <div class="filter"><label for="r-from">From</label><input id="r-from" type="date" value=${form.from} onChange=${set('from')} /></div>
        <div class="filter"><label for="r-to">To</label><input id="r-to" type="date" value=${form.to} onChange=${set('to')} /></div>`}
      <div class="filter"><label for="r-interval">Interval</label><select id="r-interval" value=${form.interval} onChange=${set('interval')}>
        ${INTERVALS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></div>
      ${form.kind === 'queues'
        ? html`<div class="filter"><label for="r-queue">Queue</label><select id="r-queue" value=${form.queue} onChange=${set('queue')}>
          <option value="">All queues</option>${names.queues.map((n) => html`<option value=${n}>${n}</option>`)}</select></div>`
        : html`<div class="filter"><label for="r-agent">Agent</label><select id="r-agent" value=${form.agent} onChange=${set('agent')}>
          <option value="">All agents</option>${names.agents.map(([u, n]) => html`<option value=${u}>${n}</option>`)}</select></div>`}
      <div class="filter filter-actions"><button class="btn btn-primary" type="submit" disabled=${st.busy}>Refresh</button></div>
    </form>
    <${ErrorBox} error=${st.error} title="The report could not be made" />
    <${ErrorBox} error=${csvError} title="The CSV could not be downloaded" />
    ${st.busy && !st.data && html`<${Loading} />`}
    ${st.data && html`<div aria-busy=${st.busy} data-report=${kind}>
      <p class="muted report-period">${dateTime(st.data.from)} – ${dateTime(st.data.to)} · by ${INTERVALS.find(([v]) => v === st.data.interval)?.[1].toLowerCase()}</p>
      ${drill && html`<${Drill} drill=${drill} kind=${kind} onClose=${() => setDrill(null)} />`}
      ${st.data.rows.length === 0 ? html`<section class="card"><${Empty}>No ${kind === 'queues' ? 'calls' : 'agent activity'} in this period.</${Empty}></section>`
        : html`<${Totals} data=${st.data} kind=${kind} />
          ${CHARTS[kind].map((spec) => html`<section class="card report-section" aria-labelledby=${`h-${spec.id}`}>
            <h2 id=${`h-${spec.id}`} class="card-title">${spec.title}</h2>
            <${Chart} spec=${spec} points=${points} interval=${st.data.interval} />
            <${ChartTable} spec=${spec} rows=${st.data.rows} kind=${kind} interval=${st.data.interval} onDrill=${onDrill} />
          </section>`)}`}
    </div>`}
  </div>`;
}
