// Admin: the audit log, newest first: who changed what and when, with the
// changed fields before → after; filters (actor, action or its prefix,
// object, a time range) and "Load more" by next_cursor.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, query } from '../api.js';
import { dateTimeSeconds } from '../format.js';
import { Empty, ErrorBox, Loading } from './common.js';

const EMPTY = { actor: '', action: '', object: '', from: '', to: '' };
const ACTIONS = ['user', 'user.create', 'user.update', 'role', 'role.grant', 'role.revoke', 'queue', 'queue.create',
  'queue.update', 'queue.delete', 'queue.member_set', 'queue.member_remove', 'number', 'number.set', 'number.delete',
  'trunk', 'trunk.set', 'trunk.delete', 'flag', 'flag.set', 'flow', 'flow.put', 'flow.delete', 'flow.reload',
  'quick_connect', 'quick_connect.create', 'quick_connect.update', 'quick_connect.delete'];

function show(v) {
  if (v === null || v === undefined || v === '') return '—';
  if (Array.isArray(v)) return v.length ? v.map(show).join(', ') : '—';
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k}: ${show(x)}`).join(', ') || '—';
  return String(v);
}

// The changed fields, one per line: "name: Tmp → Tmp2"; a creation lists
// what was set, a deletion what was there.
function Change({ before, after }) {
  const b = before && typeof before === 'object' ? before : null;
  const a = after && typeof after === 'object' ? after : null;
  if (!b && !a) return html`<span class="muted">—</span>`;
  // A creation lists what was set (empty fields left out).
  const keys = [...new Set([...Object.keys(b || {}), ...Object.keys(a || {})])].sort()
    .filter((k) => b || show(a[k]) !== '—');
  return html`<ul class="changes">${keys.map((k) => html`<li><span class="chg-key">${k}</span>
    ${b && a ? html`<span class="chg-old">${show(b[k])}</span> → <span class="chg-new">${show(a[k])}</span>`
      : a ? html`<span class="chg-new">${show(a[k])}</span>` : html`<span class="chg-old">${show(b[k])}</span> → <span class="muted">(gone)</span>`}
  </li>`)}</ul>`;
}

export function AdminAudit() {
  const [form, setForm] = useState(EMPTY);
  const [rows, setRows] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [users, setUsers] = useState([]);
  useEffect(() => { get('/api/v1/users').then((r) => setUsers(r.users), () => {}); }, []);

  async function run(more, f = form) {
    setBusy(true);
    setError(null);
    const params = { actor: f.actor, action: f.action.trim(), object: f.object.trim(), limit: 50, cursor: more ? cursor : null };
    // datetime-local is the browser's local time; the API takes ms.
    if (f.from) params.from = new Date(f.from).getTime();
    if (f.to) params.to = new Date(f.to).getTime();
    try {
      const r = await get(`/api/v1/audit${query(params)}`);
      setRows(more ? [...rows, ...r.entries] : r.entries);
      setCursor(r.next_cursor);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  useEffect(() => { run(false); }, []);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  return html`<div class="admin-audit">
    <form novalidate class="card filters audit-filters" role="search" aria-label="Filter the audit log" onSubmit=${(e) => { e.preventDefault(); run(false); }}>
      <div class="filter"><label for="au-actor">Who</label>
        <select id="au-actor" value=${form.actor} onChange=${set('actor')}><option value="">Anyone</option>
          ${users.map((u) => html`<option value=${u.user_name}>${u.user_name}</option>`)}</select></div>
      <div class="filter"><label for="au-action">Action</label>
        <input id="au-action" list="au-actions" value=${form.action} onInput=${set('action')} placeholder="queue, user.create…" autocomplete="off" />
        <datalist id="au-actions">${ACTIONS.map((a) => html`<option value=${a} />`)}</datalist></div>
      <div class="filter"><label for="au-object">Object</label>
        <input id="au-object" value=${form.object} onInput=${set('object')} placeholder="name contains…" autocomplete="off" /></div>
      <div class="filter"><label for="au-from">From</label><input id="au-from" type="datetime-local" value=${form.from} onChange=${set('from')} /></div>
      <div class="filter"><label for="au-to">To</label><input id="au-to" type="datetime-local" value=${form.to} onChange=${set('to')} /></div>
      <div class="filter filter-actions">
        <button class="btn btn-primary" type="submit" disabled=${busy}>Search</button>
        <button class="btn btn-quiet" type="button" onClick=${() => { setForm(EMPTY); run(false, EMPTY); }}>Reset</button></div>
    </form>
    <${ErrorBox} error=${error} title="The audit log cannot be read" />
    <section class="card" aria-label="Audit entries" aria-busy=${busy}>
      ${rows === null ? (busy ? html`<${Loading} />` : null) : rows.length ? html`<table class="table audit-table" data-audit>
        <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Object</th><th scope="col">Before → after</th></tr></thead>
        <tbody>${rows.map((r) => html`<tr data-action=${r.action} data-object=${r.object}>
          <td class="num nowrap"><time datetime=${r.at}>${dateTimeSeconds(r.at)}</time></td>
          <td>${r.actor}</td><td><code>${r.action}</code></td><td>${r.object}</td>
          <td><${Change} before=${r.before} after=${r.after} /></td></tr>`)}</tbody></table>`
        : html`<${Empty}>No changes match these filters.</${Empty}>`}
      ${cursor && html`<div class="more"><button class="btn btn-quiet" onClick=${() => run(true)} disabled=${busy}>Load more</button></div>`}
    </section></div>`;
}
