// Interaction search: state, agent, queue, direction, a time range and the
// words said in the call (its transcript, FTS5 on the server), with keyset
// paging ("Load more" follows next_cursor).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, query } from '../api.js';
import { STATE_LABELS } from '../format.js';
import { isManager, useAppState } from '../state.js';
import { Empty, ErrorBox, Loading, PageHeader } from './common.js';
import { InteractionRows } from './Inbox.js';

const EMPTY = { state: '', agent: '', queue: '', direction: '', from: '', to: '', text: '' };

export function Search() {
  const { me } = useAppState();
  const manager = isManager(me);
  const [form, setForm] = useState({ ...EMPTY, agent: manager ? '' : me.user_name });
  const [rows, setRows] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [agents, setAgents] = useState([]);
  const [qnames, setQnames] = useState([]);

  useEffect(() => {
    get('/api/v1/agents').then((r) => setAgents(r.agents), () => {});
    get('/api/v1/queues').then((r) => setQnames(r.queues.map((q) => q.name)), () => {});
  }, []);

  async function run(more) {
    setBusy(true);
    setError(null);
    const params = { ...form, limit: 50, cursor: more ? cursor : null };
    if (form.from) params.from = new Date(`${form.from}T00:00:00`).getTime();
    if (form.to) params.to = new Date(`${form.to}T00:00:00`).getTime() + 86400000;
    try {
      const r = await get(`/api/v1/interactions${query(params)}`);
      setRows(more ? [...rows, ...r.interactions] : r.interactions);
      setCursor(r.next_cursor);
    } catch (e) {
      setError(e);
      if (!more) setRows(null);
    } finally {
      setBusy(false);
    }
  }
  useEffect(() => { run(false); }, []);

  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const sel = (id, label, k, options) => html`<div class="filter"><label for=${id}>${label}</label>
    <select id=${id} value=${form[k]} onChange=${set(k)}>${options.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></div>`;
  return html`<div class="page">
    <${PageHeader} kicker="History" title="Interactions" />
    <form class="card filters" role="search" aria-label="Filter interactions" onSubmit=${(e) => { e.preventDefault(); run(false); }}>
      ${sel('f-state', 'State', 'state', [['', 'Any state'], ...Object.entries(STATE_LABELS)])}
      ${manager ? sel('f-agent', 'Agent', 'agent', [['', 'Any agent'], ...agents.map((a) => [a.user_name, a.name])])
        : html`<div class="filter"><label for="f-agent">Agent</label><input id="f-agent" value=${me.name} disabled /></div>`}
      ${sel('f-queue', 'Queue', 'queue', [['', 'Any queue'], ...qnames.map((n) => [n, n])])}
      ${sel('f-dir', 'Direction', 'direction', [['', 'Both'], ['inbound', 'Inbound'], ['outbound', 'Outbound']])}
      <div class="filter"><label for="f-from">From</label><input id="f-from" type="date" value=${form.from} onChange=${set('from')} /></div>
      <div class="filter"><label for="f-to">To</label><input id="f-to" type="date" value=${form.to} onChange=${set('to')} /></div>
      <div class="filter filter-text"><label for="f-text">Words said</label><input id="f-text" type="search" maxlength="199"
        placeholder="In the call's transcript" value=${form.text} onInput=${set('text')} /></div>
      <div class="filter filter-actions">
        <button class="btn btn-primary" type="submit" disabled=${busy}>Search</button>
        <button class="btn btn-quiet" type="button" onClick=${() => setForm({ ...EMPTY, agent: manager ? '' : me.user_name })}>Reset</button></div>
    </form>
    <${ErrorBox} error=${error} title="The search failed" />
    <section class="card" aria-label="Results" aria-busy=${busy}>
      ${rows === null ? (busy ? html`<${Loading} />` : null)
        : rows.length ? html`<${InteractionRows} rows=${rows} />` : html`<${Empty}>No interactions match these filters${form.text ? ' (words are found in transcribed calls only)' : ''}.</${Empty}>`}
      ${cursor && html`<div class="more"><button class="btn btn-quiet" onClick=${() => run(true)} disabled=${busy}>Load more</button></div>`}
    </section></div>`;
}
