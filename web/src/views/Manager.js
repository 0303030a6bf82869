// The manager's real-time view: queues (waiting, longest wait, agents,
// answered and abandoned today) and agents (presence, time in it, current
// call), kept live by the event stream.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, query } from '../api.js';
import { refreshQueuesSoon } from '../events.js';
import { duration, interactionPath, since } from '../format.js';
import { getState, setState, useAppState, useNow } from '../state.js';
import { ErrorBox, Loading, PageHeader, PresenceBadge } from './common.js';

// Today's interactions per queue (answered: assigned to an agent;
// abandoned: closed_abandoned), from the interaction list, paged.
async function todayByQueue() {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const per = {};
  let cursor = null;
  for (let page = 0; page < 10; page++) {
    const r = await get(`/api/v1/interactions${query({ from: midnight.getTime(), limit: 200, cursor })}`);
    for (const ix of r.interactions) {
      if (!ix.queue) continue;
      const q = per[ix.queue] || (per[ix.queue] = { answered: 0, abandoned: 0, offered: 0 });
      q.offered++;
      if (ix.state === 'closed_abandoned') q.abandoned++;
      else if (ix.agent) q.answered++;
    }
    cursor = r.next_cursor;
    if (!cursor) break;
  }
  return per;
}

function QueueCard({ q, today, ageS }) {
  const live = q.live;
  const longest = live.waiting ? live.longest_wait_seconds + ageS : 0;
  const overSl = live.waiting && longest > q.service_level_seconds;
  return html`<article class="queue-card ${live.waiting ? 'has-waiting' : ''}" aria-label=${`Queue ${q.name}`} data-queue=${q.name}>
    <header><h3>${q.name}</h3><span class="muted" title="Service level: answered within">Service level ${q.service_level_seconds} s</span></header>
    <div class="q-main">
      <div class="q-stat"><span class="q-num" data-waiting>${live.waiting}</span><span class="q-label">waiting</span></div>
      <div class="q-stat"><span class="q-num ${overSl ? 'q-over' : ''}" data-longest>${duration(longest)}</span>
        <span class="q-label">longest wait</span></div>
    </div>
    <dl class="q-grid">
      <div><dt>Available</dt><dd>${live.agents_available} / ${live.members}</dd></div>
      <div><dt>Signed in</dt><dd>${live.agents_signed_in}</dd></div>
      <div><dt>Answered today</dt><dd data-answered>${today ? today.answered : '…'}</dd></div>
      <div><dt>Abandoned today</dt><dd data-abandoned>${today ? today.abandoned : '…'}</dd></div>
    </dl></article>`;
}

export function Manager() {
  const { queues, queuesAt, agents, inboxRev } = useAppState();
  const now = useNow();
  const [error, setError] = useState(null);
  const [loaded, setLoaded] = useState(false);
  const [today, setToday] = useState(null);

  useEffect(() => {
    let live = true;
    Promise.all([get('/api/v1/queues'), get('/api/v1/agents')]).then(([q, a]) => {
      if (!live) return;
      const map = {};
      const at = Date.now();
      for (const ag of a.agents) map[ag.user_name] = { ...ag, since: ag.since || new Date(at - ag.seconds_in_state * 1000).toISOString() };
      setState({ queues: q.queues, queuesAt: at, agents: { ...map } });
      setLoaded(true);
    }, (e) => live && setError(e));
    // No event says that a caller entered or left a queue (interaction
    // events come when the call is created, assigned or closed), so the
    // figures are also re-read every 2 s while this view is open: they are
    // answered from the server's memory, without the database.
    const t = setInterval(() => document.visibilityState === 'visible' && refreshQueuesSoon(0), 2000);
    return () => { live = false; clearInterval(t); };
  }, []);

  useEffect(() => {
    let live = true;
    const t = setTimeout(() => todayByQueue().then((d) => live && setToday(d), () => {}), 300);
    return () => { live = false; clearTimeout(t); };
  }, [inboxRev]);

  const ageS = Math.max(0, Math.floor((now - queuesAt) / 1000));
  const list = Object.values(agents).sort((a, b) => a.name.localeCompare(b.name));
  const waiting = queues.reduce((n, q) => n + q.live.waiting, 0);
  return html`<div class="page">
    <${PageHeader} kicker="Real time" title="Queues and agents">
      <span class="live-pill ${getState().live === 'open' ? 'on' : ''}"><span class="live-dot" aria-hidden="true"></span>
        ${getState().live === 'open' ? 'Live' : 'Reconnecting…'}</span></${PageHeader}>
    <${ErrorBox} error=${error} title="The live view could not be loaded" />
    ${!loaded && !error ? html`<${Loading} />` : html`
      <section aria-labelledby="queues-h">
        <h2 id="queues-h" class="section-h">Queues <span class="count" aria-label=${`${waiting} callers waiting`}>${waiting} waiting</span></h2>
        <div class="queue-grid">${queues.map((q) => html`<${QueueCard} q=${q} today=${today && (today[q.name] || { answered: 0, abandoned: 0 })} ageS=${ageS} />`)}</div>
      </section>
      <section class="card" aria-labelledby="agents-h">
        <header class="card-head"><h2 id="agents-h">Agents</h2><span class="count">${list.filter((a) => a.presence !== 'Offline').length} signed in</span></header>
        <table class="table" data-agents>
          <thead><tr><th scope="col">Agent</th><th scope="col">Presence</th><th scope="col">Time in state</th>
            <th scope="col">Current call</th><th scope="col">Phone</th><th scope="col">Can take calls</th></tr></thead>
          <tbody>${list.map((a) => html`<tr data-agent=${a.user_name}>
            <td><span class="agent-name">${a.name}</span> <span class="muted">${a.user_name}</span></td>
            <td><${PresenceBadge} presence=${a.presence} reason=${a.presence === 'Away' ? a.away_reason : null} /></td>
            <td class="num">${since(a.since, now)}</td>
            <td>${a.interaction ? html`<a href=${interactionPath(a.interaction)}>${a.interaction}</a>` : html`<span class="muted">—</span>`}</td>
            <td>${a.registered === undefined ? html`<span class="muted">—</span>` : a.registered ? 'Registered' : html`<span class="muted">Not registered</span>`}</td>
            <td>${a.can_handle_calls ? 'Yes' : html`<span class="muted">No (roles)</span>`}</td></tr>`)}</tbody></table>
      </section>`}
  </div>`;
}
