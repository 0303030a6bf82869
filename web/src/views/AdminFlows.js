// Admin: call flows. The loaded flows with the numbers that run each, an
// editor for one flow's YAML (GET gives the source, PUT text/yaml saves it:
// the server checks it and answers 422 with file, line and block, shown
// beside the editor with that line marked), a new flow, delete, and reload
// of every file (as SIGHUP does).
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { del, get, post, put, seg, Text } from '../api.js';
import { dateTimeSeconds } from '../format.js';
import { navigate, toast } from '../state.js';
import { Empty, ErrorBox, Loading } from './common.js';
import { ConfirmDelete, FormError, Input, useAction } from './AdminForm.js';

const LINE = 20; // px: the editor's line height (styles.css .ed-*)
const PAD = 10;  // px: its top padding

const template = (queue) => `# A call flow (docs/FLOWS.md). Point a number at it under Numbers.
start: greet
blocks:
  greet:
    kind: play
    text: Thank you for calling. Please hold for the next agent.
    next: agents
  agents: {kind: queue, queue: ${queue || 'Support'}}
`;

// The error of a flow that does not load: where (file:line, the block), why,
// and a button that puts the cursor on that line.
function FlowError({ error, goTo }) {
  if (!error) return null;
  if (error.code !== 'invalid_flow') return html`<${FormError} error=${error} />`;
  const where = `${error.file || 'the flow'}${error.line ? `:${error.line}` : ''}`;
  return html`<div class="notice notice-error form-refusal flow-error" role="alert" id="flow-error" data-flow-error
    data-line=${error.line || 0}>
    <strong>Not saved: the flow does not load (${where}${error.block ? `, block ${error.block}` : ''})</strong>
    <span class="mono">${error.message}</span>
    ${error.line > 0 && html`<span><button type="button" class="btn btn-quiet btn-sm" onClick=${() => goTo(error.line)}>Go to line ${error.line}</button></span>`}
  </div>`;
}

function Editor({ value, onInput, errorLine, taRef, describedBy }) {
  const [scroll, setScroll] = useState({ top: 0, left: 0 });
  const lines = value.split('\n').length;
  const onScroll = (e) => setScroll({ top: e.target.scrollTop, left: e.target.scrollLeft });
  return html`<div class="ed ${errorLine ? 'ed-has-error' : ''}">
    <div class="ed-gutter" aria-hidden="true"><div style=${`transform: translateY(${-scroll.top}px)`}>
      ${Array.from({ length: lines }, (_, i) => html`<div class=${i + 1 === errorLine ? 'ed-ln ed-ln-err' : 'ed-ln'}>${i + 1}</div>`)}</div></div>
    <div class="ed-area">
      ${errorLine > 0 && errorLine <= lines && html`<div class="ed-band" aria-hidden="true"
        style=${`top: ${PAD + (errorLine - 1) * LINE - scroll.top}px`}></div>`}
      <textarea id="flow-yaml" ref=${taRef} class="ed-text" wrap="off" spellcheck="false" autocapitalize="off" autocomplete="off"
        value=${value} onInput=${(e) => onInput(e.target.value)} onScroll=${onScroll}
        aria-invalid=${errorLine ? 'true' : undefined} aria-describedby=${describedBy}></textarea></div></div>`;
}

function FlowEditor({ name, isNew, queues, onSaved, onDeleted, onCancel }) {
  const [text, setText] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [flowName, setFlowName] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [info, setInfo] = useState(null);
  const ta = useRef(null);

  useEffect(() => {
    let live = true;
    setError(null);
    setLoadError(null);
    setText(null);
    if (isNew) { setText(template(queues[0])); setFlowName(''); setInfo(null); return undefined; }
    get(`/api/v1/flows/${seg(name)}`).then((f) => { if (live) { setText(f.source); setInfo(f); } },
      (e) => live && setLoadError(e));
    return () => { live = false; };
  }, [name, isNew]);

  const goTo = (n, focus = true) => {
    const el = ta.current;
    if (!el) return;
    const rows = el.value.split('\n');
    const start = rows.slice(0, n - 1).reduce((s, r) => s + r.length + 1, 0);
    el.scrollTop = Math.max(0, (n - 1) * LINE - el.clientHeight / 3);
    if (focus) {
      el.focus();
      el.setSelectionRange(start, start + (rows[n - 1] || '').length);
    }
  };
  const save = async (e) => {
    e.preventDefault();
    const n = isNew ? flowName.trim() : name;
    setError(null);
    if (!n) { setError({ message: 'Give the new flow a name.' }); return; }
    setBusy(true);
    try {
      const f = await put(`/api/v1/flows/${seg(n)}`, new Text(text, 'text/yaml'));
      toast(`Flow ${f.name} saved (${f.blocks} blocks): the next call gets it.`, 'success', 3500);
      setInfo(f);
      onSaved(f, isNew);
    } catch (err) {
      setError(err);
      if (err.line > 0) setTimeout(() => goTo(err.line, false), 0);
    } finally {
      setBusy(false);
    }
  };
  if (loadError) return html`<${ErrorBox} error=${loadError} title=${`The flow ${name} cannot be shown`} />`;
  if (text === null) return html`<${Loading} />`;
  const errorLine = error?.code === 'invalid_flow' && error.line > 0 ? error.line : 0;
  return html`<form novalidate class="card admin-form flow-editor" aria-label=${isNew ? 'New flow' : `Flow ${name}`} onSubmit=${save} data-flow=${isNew ? '' : name}>
    <header class="card-head"><h2>${isNew ? 'New flow' : `Flow ${name}`}</h2>
      ${info && !isNew && html`<span class="muted small">${info.blocks} blocks · loaded ${dateTimeSeconds(info.loaded_at)} · ${info.numbers.length ? `run by ${info.numbers.join(', ')}` : 'no number runs it'}</span>`}
      <button type="button" class="btn btn-quiet btn-sm card-link" onClick=${onCancel}>Close</button></header>
    ${isNew && html`<${Input} id="flow-name" label="Flow name" value=${flowName} onInput=${(e) => setFlowName(e.target.value)} required
      autocomplete="off" hint="1 to 60 of a-z, 0-9, _ and -; saved as <name>.yaml in calls.flows_dir." />`}
    <label for="flow-yaml">Flow YAML</label>
    <${FlowError} error=${error} goTo=${goTo} />
    <${Editor} value=${text} onInput=${setText} errorLine=${errorLine} taRef=${ta} describedBy=${error ? 'flow-error flow-yaml-hint' : 'flow-yaml-hint'} />
    <p class="hint" id="flow-yaml-hint">Blocks, their kinds and branches: docs/FLOWS.md. Saving checks the flow first (every queue block must name a queue); a flow that does not load is not written. Calls already in the flow keep the version they started with.</p>
    <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=${busy}>${busy ? 'Saving…' : isNew ? 'Create flow' : 'Save flow'}</button>
      ${!isNew && html`<${ConfirmDelete} what=${name} label="Delete flow" ok=${`Flow ${name} deleted.`}
        onConfirm=${() => del(`/api/v1/flows/${seg(name)}`)} onDone=${onDeleted} />`}</div>
  </form>`;
}

export function AdminFlows({ name }) {
  const [flows, setFlows] = useState(null);
  const [error, setError] = useState(null);
  const [creating, setCreating] = useState(false);
  const [queues, setQueues] = useState([]);
  const reload = useAction();
  const load = () => get('/api/v1/flows').then((r) => { setFlows(r.flows); setError(null); }, setError);
  useEffect(() => {
    load();
    get('/api/v1/queues').then((r) => setQueues(r.queues.map((q) => q.name)), () => {});
  }, []);
  useEffect(() => { if (name) setCreating(false); }, [name]);
  const reloadAll = async () => {
    const r = await reload.run(() => post('/api/v1/flows/reload'), (x) => `Reloaded ${x.flows.length} flow${x.flows.length === 1 ? '' : 's'} from their files.`);
    if (r) setFlows(r.flows);
  };
  if (error && !flows) return html`<${ErrorBox} error=${error} title="The flows cannot be shown" />`;
  if (!flows) return html`<${Loading} />`;
  const editing = creating || name;
  return html`<div class="admin-grid admin-grid-flows">
    <section class="card" aria-labelledby="flows-h">
      <header class="card-head"><h2 id="flows-h">Call flows</h2><span class="count">${flows.length}</span></header>
      <div class="btn-row">
        <button type="button" class="btn btn-primary btn-sm" onClick=${() => { setCreating(true); if (name) navigate('/admin/flows'); }}>New flow</button>
        <button type="button" class="btn btn-quiet btn-sm" onClick=${reloadAll} disabled=${reload.busy}
          title="Read every file of calls.flows_dir again, as SIGHUP does">${reload.busy ? 'Reloading…' : 'Reload all from files'}</button></div>
      <${FormError} error=${reload.error} title="Not reloaded: nothing changed" />
      ${flows.length ? html`<table class="table" data-flows>
        <thead><tr><th scope="col">Flow</th><th scope="col">Blocks</th><th scope="col">Run by</th></tr></thead>
        <tbody>${flows.map((f) => html`<tr data-flow=${f.name} class=${f.name === name ? 'selected' : ''}>
          <td><a href=${`/admin/flows/${seg(f.name)}`} aria-current=${f.name === name ? 'true' : undefined}>${f.name}</a></td>
          <td class="num">${f.blocks}</td>
          <td>${f.numbers.length ? f.numbers.join(', ') : html`<span class="muted">no number</span>`}</td></tr>`)}</tbody></table>`
        : html`<${Empty}>No flows loaded.</${Empty}>`}
    </section>
    <div class="admin-side">
      ${editing ? html`<${FlowEditor} name=${creating ? null : name} isNew=${creating} queues=${queues}
          onSaved=${(f, wasNew) => { load(); if (wasNew) { setCreating(false); navigate(`/admin/flows/${seg(f.name)}`); } }}
          onDeleted=${() => { load(); navigate('/admin/flows'); }}
          onCancel=${() => { setCreating(false); if (name) navigate('/admin/flows'); }} />`
        : html`<div class="card"><p class="empty">Choose a flow to read or edit its YAML, or create a new one.</p></div>`}
    </div></div>`;
}
