// The wallboard (issue 14; docs/WALLBOARD.md): alerts, a tile per queue,
// every live call and the agents, all from the event stream (wallboard.js).
// Waits and times in a state tick here from the server's timestamps; no
// figure is read again by polling. From here a manager ends a call, listens
// / whispers / barges (on their own registered phone), and sets an agent
// Away or signs them out.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { post, put, seg } from '../api.js';
import { duration, interactionPath, phoneDisplay, since } from '../format.js';
import { getState, toast, useAppState, useNow } from '../state.js';
import { Empty, PresenceBadge } from './common.js';

const PHASES = {
  new: 'Starting', greeting: 'Greeting', flow: 'In the call flow', queued: 'Waiting in queue',
  offering: 'Ringing an agent', bridged: 'Talking', transfer: 'Transferring out', out_agent: 'Calling the agent',
  out_customer: 'Calling the customer', xfer_queued: 'Transfer: waiting in queue', xfer_ring: 'Transfer: ringing',
  consult: 'Transfer: agents talking', conference: 'Three-way',
};
const CONNECTED = new Set(['bridged', 'consult', 'conference']);
const ALERTS = { sl_at_risk: 'Service level at risk', long_acw: 'Long after-call work', long_hold: 'Long hold', missed_offers: 'Missed offers' };

// what the service level counts, by the queue's rule for callers who hang up within the threshold
const SL_TITLE = {
  met: (s) => `Answered or abandoned within ${s} s, over offered (today; callers still waiting within it are not counted yet)`,
  excluded: (s) => `Answered within ${s} s, over offered less those who hung up within it (today; callers still waiting within it are not counted yet)`,
  missed: (s) => `Answered within ${s} s, over offered (today; callers still waiting within it are not counted yet)`,
};
const secs = (v) => (v === null || v === undefined ? '—' : duration(v));
const pct = (v) => (v === null || v === undefined ? '—' : `${Math.round(v)}%`);

function QueueTile({ q, now }) {
  const longest = q.oldest_wait_since ? (now - Date.parse(q.oldest_wait_since)) / 1000 : 0;
  const over = q.waiting && longest > q.service_level_seconds;
  const t = q.today;
  const exp = q.expected_wait_seconds;
  return html`<article class="queue-card wb-tile ${q.waiting ? 'has-waiting' : ''} ${q.service_level_at_risk ? 'at-risk' : ''}"
      aria-label=${`Queue ${q.queue}`} data-queue=${q.queue}>
    <header><h3>${q.queue}</h3>
      ${q.service_level_at_risk ? html`<span class="badge wb-risk" data-at-risk>At risk</span>`
        : html`<span class="muted" title="Service level threshold">SL ${q.service_level_seconds} s</span>`}</header>
    <div class="q-main">
      <div class="q-stat"><span class="q-num" data-waiting>${q.waiting}</span><span class="q-label">waiting</span></div>
      <div class="q-stat"><span class="q-num ${over ? 'q-over' : ''}" data-longest>${duration(longest)}</span>
        <span class="q-label">longest wait</span></div>
      <div class="q-stat"><span class="q-num wb-sl ${t.service_level !== null && t.service_level < 80 ? 'q-over' : ''}" data-sl>${pct(t.service_level)}</span>
        <span class="q-label" title=${SL_TITLE[q.service_level_abandons || 'met'](q.service_level_seconds)}>service level</span></div>
    </div>
    <dl class="q-grid wb-grid">
      <div><dt>Available</dt><dd data-available>${q.agents.available}</dd></div>
      <div><dt>On calls</dt><dd data-on-call>${q.agents.on_call}</dd></div>
      <div><dt>After-call work</dt><dd data-acw>${q.agents.after_call_work}</dd></div>
      <div><dt>Away</dt><dd data-away>${q.agents.away}</dd></div>
      <div><dt>Offered</dt><dd data-offered>${t.offered}</dd></div>
      <div><dt>Answered</dt><dd data-answered>${t.answered}</dd></div>
      <div><dt>Abandoned</dt><dd data-abandoned>${t.abandoned}</dd></div>
      <div><dt>Transferred</dt><dd data-transferred>${t.transferred}</dd></div>
      <div><dt title="Average speed of answer">ASA</dt><dd data-asa>${secs(t.average_speed_of_answer_seconds)}</dd></div>
      <div><dt title="Average handle time: talk + hold + after-call work">AHT</dt><dd data-aht>${secs(t.average_handle_time_seconds)}</dd></div>
      <div class="wb-wide"><dt title="A caller arriving now">Expected wait</dt>
        <dd data-expected>${exp === null ? 'nobody is taking calls' : duration(exp)}</dd></div>
    </dl></article>`;
}

function Alerts({ alerts }) {
  const list = Object.values(alerts).sort((a, b) => a.since.localeCompare(b.since));
  if (!list.length) return null;
  return html`<section class="wb-alerts" aria-label="Alerts" aria-live="polite" data-alerts>
    ${list.map((a) => html`<div class="notice notice-warning wb-alert" data-alert=${a.alert}>
      <strong>${ALERTS[a.alert] || a.alert}</strong> <span>${a.text}</span>
      <span class="muted"> since ${new Date(a.since).toLocaleTimeString()}</span></div>`)}</section>`;
}

// An action button that reports the API's refusal as a toast.
function useAct() {
  const [busy, setBusy] = useState(null);
  const run = async (key, fn, ok) => {
    setBusy(key);
    try { await fn(); if (ok) toast(ok, 'info', 3000); } catch (e) { toast(e.message); } finally { setBusy(null); }
  };
  return [busy, run];
}

function CallRow({ c, now, me }) {
  const [busy, run] = useAct();
  const [confirm, setConfirm] = useState(false);
  const n = seg(c.interaction);
  const mine = c.monitored_by === me;
  const monitor = (mode) => run(mode, () => post(`/api/v1/calls/${n}/monitor`, { mode }),
    mode === 'stop' ? 'Monitoring stopped'
      : getState().rtc.registered ? `This browser joins the call to ${mode}` : `Your phone rings to ${mode}`);
  const end = () => { setConfirm(false); run('end', () => post(`/api/v1/calls/${n}/end`), `Call ${c.interaction} ended`); };
  const phase = PHASES[c.phase] || c.phase;
  return html`<tr data-call=${c.interaction} data-phase=${c.phase}>
    <td><a href=${interactionPath(c.interaction)}>${c.interaction}</a>${c.outbound ? html` <span class="muted">out</span>` : ''}</td>
    <td>${phoneDisplay(c.caller)}</td>
    <td>${phase}${c.phase === 'flow' && c.intent ? html` <span class="muted">(bot)</span>` : ''}</td>
    <td class="num" data-in-phase>${since(c.phase_since, now)}</td>
    <td>${c.queue || html`<span class="muted">—</span>`}</td>
    <td>${c.agent || html`<span class="muted">—</span>`}${c.second ? html` → ${c.second}` : ''}</td>
    <td>${c.intent || html`<span class="muted">—</span>`}</td>
    <td class="wb-actions">
      ${CONNECTED.has(c.phase) && (!c.monitored_by || mine) && html`
        ${['listen', 'whisper', 'barge'].map((m) => html`<button type="button" class="btn btn-quiet btn-sm" disabled=${!!busy}
          onClick=${() => monitor(m)} data-monitor=${m}>${m[0].toUpperCase() + m.slice(1)}</button>`)}
        ${mine && html`<button type="button" class="btn btn-quiet btn-sm" onClick=${() => monitor('stop')} disabled=${!!busy}>Stop</button>`}`}
      ${c.monitored_by && !mine ? html`<span class="muted">${c.monitored_by} monitors</span>` : ''}
      ${confirm ? html`<button type="button" class="btn btn-reject btn-sm" onClick=${end} data-end-confirm>Really end?</button>
          <button type="button" class="btn btn-quiet btn-sm" onClick=${() => setConfirm(false)}>Keep</button>`
        : html`<button type="button" class="btn btn-quiet btn-sm" onClick=${() => setConfirm(true)} disabled=${!!busy} data-end>End</button>`}
    </td></tr>`;
}

function AgentRow({ a, now }) {
  const [busy, run] = useAct();
  const u = seg(a.user_name);
  const set = (status, reason) => run(status, () => put(`/api/v1/agents/${u}/presence`, { status, reason }),
    `${a.name}: ${status}`);
  return html`<tr data-agent=${a.user_name}>
    <td><span class="agent-name">${a.name}</span> <span class="muted">${a.user_name}</span></td>
    <td><${PresenceBadge} presence=${a.presence} reason=${a.presence === 'Away' ? a.away_reason : null} /></td>
    <td class="num">${since(a.since, now)}</td>
    <td>${a.interaction ? html`<a href=${interactionPath(a.interaction)}>${a.interaction}</a>` : html`<span class="muted">—</span>`}</td>
    <td>${a.registered === undefined ? html`<span class="muted">—</span>` : a.registered ? 'Registered' : html`<span class="muted">Not registered</span>`}</td>
    <td class="wb-actions">${a.presence !== 'Offline' && html`
      ${a.presence !== 'Away' && html`<button type="button" class="btn btn-quiet btn-sm" disabled=${!!busy}
        onClick=${() => set('Away', 'Set by a manager')} data-force-away>Set Away</button>`}
      <button type="button" class="btn btn-quiet btn-sm" disabled=${!!busy} onClick=${() => set('Offline')} data-force-offline>Sign out</button>`}</td></tr>`;
}

const FEED_LABELS = { joined: 'joined', left: 'left', offered: 'offered to', missed: 'missed by', answered: 'answered by',
  abandoned: 'abandoned', transferred: 'transferred by' };

export function Wallboard() {
  const { wallboard: wb, agents, me } = useAppState();
  const now = useNow();
  const queues = Object.values(wb.queues).sort((a, b) => a.queue.localeCompare(b.queue));
  const calls = Object.values(wb.calls).sort((a, b) => a.phase_since.localeCompare(b.phase_since));
  const list = Object.values(agents).sort((a, b) => a.name.localeCompare(b.name));
  const waiting = queues.reduce((n, q) => n + q.waiting, 0);
  if (!wb.ready) return html`<p class="loading"><span class="spinner" aria-hidden="true"></span>Waiting for the live figures…</p>`;
  return html`<div class="wallboard" data-wallboard>
    <${Alerts} alerts=${wb.alerts} />
    <section aria-labelledby="queues-h">
      <h2 id="queues-h" class="section-h">Queues <span class="count" aria-label=${`${waiting} callers waiting`}>${waiting} waiting</span>
        <span class="muted wb-day">today since ${new Date(wb.dayStart).toLocaleString()}</span></h2>
      <div class="queue-grid">${queues.map((q) => html`<${QueueTile} key=${q.queue} q=${q} now=${now} />`)}</div>
    </section>
    <section class="card" aria-labelledby="calls-h">
      <header class="card-head"><h2 id="calls-h">Live calls</h2><span class="count" data-call-count>${calls.length}</span></header>
      ${calls.length ? html`<table class="table table-compact" data-calls>
        <thead><tr><th scope="col">Interaction</th><th scope="col">Caller</th><th scope="col">State</th><th scope="col">Time in state</th>
          <th scope="col">Queue</th><th scope="col">Agent</th><th scope="col">Bot's intent</th><th scope="col">Actions</th></tr></thead>
        <tbody>${calls.map((c) => html`<${CallRow} key=${c.interaction} c=${c} now=${now} me=${me?.user_name} />`)}</tbody></table>`
        : html`<${Empty}>No call right now.</${Empty}>`}
    </section>
    <section class="card" aria-labelledby="agents-h">
      <header class="card-head"><h2 id="agents-h">Agents</h2><span class="count">${list.filter((a) => a.presence !== 'Offline').length} signed in</span></header>
      <table class="table table-compact" data-agents>
        <thead><tr><th scope="col">Agent</th><th scope="col">Presence</th><th scope="col">Time in state</th>
          <th scope="col">Current call</th><th scope="col">Phone</th><th scope="col">Actions</th></tr></thead>
        <tbody>${list.map((a) => html`<${AgentRow} key=${a.user_name} a=${a} now=${now} />`)}</tbody></table>
    </section>
    ${wb.feed.length > 0 && html`<section class="card" aria-labelledby="feed-h">
      <header class="card-head"><h2 id="feed-h">Queue events</h2></header>
      <ol class="wb-feed" data-feed>${wb.feed.map((e) => html`<li>
        <span class="muted">${new Date(e.at).toLocaleTimeString()}</span> ${e.interaction} ${FEED_LABELS[e.event] || e.event}
        ${e.agent ? ` ${e.agent}` : ''} — ${e.queue}${e.event !== 'joined' && e.wait_ms ? html` <span class="muted">after ${duration(e.wait_ms / 1000)}</span>` : ''}</li>`)}</ol></section>`}
  </div>`;
}
