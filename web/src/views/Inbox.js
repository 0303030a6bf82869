// The agent's inbox: their open and recent interactions, and the records
// they work on (cases, incidents, contacts, consumers) with click-to-call.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { get, query } from '../api.js';
import { dateTime, interactionPath, phoneDisplay, recordPath, STATE_LABELS, TABLES } from '../format.js';
import { useAppState } from '../state.js';
import { Empty, ErrorBox, Loading, PageHeader, Phones, StateBadge, useLoad } from './common.js';

// A search by words: where the transcript says them, the words marked.
function TranscriptMatch({ pieces }) {
  return html`<span class="ix-match-label">Said:</span> <q class="ix-match-text">${pieces.map((p) =>
    p.match ? html`<mark>${p.text}</mark>` : p.text)}</q>`;
}

export function InteractionRows({ rows, showAgent = true }) {
  return html`<table class="table">
    <thead><tr><th scope="col">Number</th><th scope="col">Opened</th><th scope="col">Direction</th>
      <th scope="col">Caller</th><th scope="col">Queue</th>${showAgent && html`<th scope="col">Agent</th>`}
      <th scope="col">State</th></tr></thead>
    <tbody>${rows.map((ix) => html`<tr>
      <td><a href=${interactionPath(ix.number)}>${ix.number}</a></td>
      <td>${dateTime(ix.opened_at)}</td>
      <td><span class="dir dir-${ix.direction}">${ix.direction === 'outbound' ? 'Outbound' : 'Inbound'}</span></td>
      <td>${ix.caller_number ? phoneDisplay(ix.caller_number) : html`<span class="muted">—</span>`}</td>
      <td>${ix.queue || html`<span class="muted">—</span>`}</td>
      ${showAgent && html`<td>${ix.agent || html`<span class="muted">—</span>`}</td>`}
      <td><${StateBadge} state=${ix.state} label=${ix.state_label || STATE_LABELS[ix.state]} /></td></tr>
      ${ix.transcript_match && html`<tr class="ix-match"><td colspan=${showAgent ? 7 : 6}>
        <${TranscriptMatch} pieces=${ix.transcript_match} /></td></tr>`}`)}
    </tbody></table>`;
}

function MyInteractions({ me, rev }) {
  const { data, error, loading } = useLoad(
    () => get(`/api/v1/interactions${query({ agent: me.user_name, limit: 8 })}`), [me.user_name, rev]);
  return html`<section class="card" aria-labelledby="mine-h">
    <header class="card-head"><h2 id="mine-h">My interactions</h2>
      <a class="card-link" href="/interactions">Search all</a></header>
    ${loading && !data ? html`<${Loading} />` : error ? html`<${ErrorBox} error=${error} />`
      : data.interactions.length ? html`<${InteractionRows} rows=${data.interactions} showAgent=${false} />`
        : html`<${Empty}>No interactions yet. Calls you take or place appear here.</${Empty}>`}
  </section>`;
}

const RECORD_TABS = ['case', 'incident', 'contact', 'consumer'];

function partyOf(table, rec) {
  if (table === 'case') return rec.contact ? { table: rec.contact.table, key: rec.contact.key, name: rec.contact.name } : null;
  if (table === 'incident') return rec.caller ? { table: 'user', key: rec.caller.user_name, name: rec.caller.name } : null;
  return null;
}

function RecordRows({ table, rows }) {
  const party = table === 'case' ? 'Contact' : table === 'incident' ? 'Caller' : 'Email';
  return html`<table class="table">
    <thead><tr><th scope="col">Number</th><th scope="col">${table === 'case' || table === 'incident' ? 'Short description' : 'Name'}</th>
      <th scope="col">${party}</th><th scope="col">Phone</th>${(table === 'case' || table === 'incident') && html`<th scope="col">State</th>`}</tr></thead>
    <tbody>${rows.map((rec) => {
      const p = partyOf(table, rec);
      const name = rec.name || p?.name;
      return html`<tr>
        <td><a href=${recordPath(table, rec.number)}>${rec.number}</a></td>
        <td>${rec.short_description || rec.name}</td>
        <td>${p ? html`<a href=${recordPath(p.table, p.key)}>${p.name}</a>` : rec.email || html`<span class="muted">—</span>`}</td>
        <td><${Phones} record=${{ table, key: rec.number, name, title: rec.short_description }} targets=${rec.call_targets} /></td>
        ${(table === 'case' || table === 'incident') && html`<td><${StateBadge} state=${rec.state} /></td>`}</tr>`;
    })}</tbody></table>`;
}

function Records() {
  const [tab, setTab] = useState('case');
  const [q, setQ] = useState('');
  const [applied, setApplied] = useState('');
  const t = TABLES[tab];
  const { data, error, loading } = useLoad(() => get(`/api/v1/${t.api}${query({ q: applied, limit: 25 })}`), [tab, applied]);
  const onKey = (e, i) => {
    const n = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!n) return;
    const next = RECORD_TABS[(i + n + RECORD_TABS.length) % RECORD_TABS.length];
    setTab(next);
    document.getElementById(`tab-${next}`)?.focus();
  };
  return html`<section class="card" aria-labelledby="records-h">
    <header class="card-head"><h2 id="records-h">Records</h2>
      <form class="inline-search" role="search" onSubmit=${(e) => { e.preventDefault(); setApplied(q.trim()); }}>
        <label class="sr-only" for="rec-q">Search ${t.plural.toLowerCase()}</label>
        <input id="rec-q" type="search" placeholder=${`Search ${t.plural.toLowerCase()}`} value=${q}
          onInput=${(e) => setQ(e.target.value)} />
        <button class="btn btn-quiet" type="submit">Search</button></form></header>
    <div class="tabs" role="tablist" aria-label="Record types">
      ${RECORD_TABS.map((k, i) => html`<button role="tab" id=${`tab-${k}`} aria-selected=${tab === k}
        aria-controls="records-panel" tabindex=${tab === k ? 0 : -1} class="tab"
        onKeyDown=${(e) => onKey(e, i)} onClick=${() => setTab(k)}>${TABLES[k].plural}</button>`)}</div>
    <div id="records-panel" role="tabpanel" aria-labelledby=${`tab-${tab}`}>
      ${error ? html`<${ErrorBox} error=${error} />` : !data?.[t.api] ? html`<${Loading} />`
        : data[t.api].length ? html`<${RecordRows} table=${tab} rows=${data[t.api]} />`
          : html`<${Empty}>No ${t.plural.toLowerCase()} match.</${Empty}>`}</div>
  </section>`;
}

export function Inbox() {
  const { me, inboxRev } = useAppState();
  return html`<div class="page">
    <${PageHeader} kicker="Agent workspace" title=${`Good to see you, ${me.name.split(' ')[0]}`} />
    <${MyInteractions} me=${me} rev=${inboxRev} />
    <${Records} />
  </div>`;
}
