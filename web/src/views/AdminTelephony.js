// Admin: dialled numbers (each leads to a queue or runs a flow), trunks
// (allowed by address or digest credentials) and the flags.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { del, get, put, seg } from '../api.js';
import { Empty, ErrorBox, Loading } from './common.js';
import { ConfirmDelete, FormError, Input, useAction, useList, useReveal } from './AdminForm.js';

export function AdminNumbers() {
  const nums = useList('/api/v1/numbers', 'numbers');
  const [queues, setQueues] = useState([]);
  const [flows, setFlows] = useState([]);
  const [f, setF] = useState({ number: '', kind: 'queue', queue: '', flow: '' });
  const act = useAction();
  const [rev, setRev] = useState(0); // bumped by a row's Edit
  const side = useReveal(rev);
  useEffect(() => {
    get('/api/v1/queues').then((r) => setQueues(r.queues.map((q) => q.name)), () => {});
    get('/api/v1/flows').then((r) => setFlows(r.flows.map((x) => x.name)), () => {});
  }, []);
  const submit = async (e) => {
    e.preventDefault();
    const number = f.number.trim();
    if (!number) { act.setError({ message: 'Enter the number callers dial.' }); return; }
    const body = f.kind === 'queue' ? { queue: f.queue } : { flow: f.flow };
    const r = await act.run(() => put(`/api/v1/numbers/${seg(number)}`, body),
      (n) => `Number ${n.number} now ${n.queue ? `leads to the queue ${n.queue}` : `runs the flow ${n.flow}`}.`);
    if (r) { setF({ number: '', kind: f.kind, queue: '', flow: '' }); nums.load(); }
  };
  const edit = (n) => {
    setF({ number: n.number, kind: n.flow ? 'flow' : 'queue', queue: n.queue || '', flow: n.flow || '' });
    act.setError(null);
    setRev((r) => r + 1);
  };
  if (nums.error && !nums.rows) return html`<${ErrorBox} error=${nums.error} title="The numbers cannot be shown" />`;
  if (!nums.rows) return html`<${Loading} />`;
  return html`<div class="admin-grid">
    <section class="card" aria-labelledby="numbers-h">
      <header class="card-head"><h2 id="numbers-h">Dialled numbers</h2><span class="count">${nums.rows.length}</span></header>
      <p class="hint">The number a caller dials (the request URI's user). Each leads straight to a queue or runs a call flow; the next call sees a change.</p>
      ${nums.rows.length ? html`<table class="table" data-numbers>
        <thead><tr><th scope="col">Number</th><th scope="col">Leads to</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${nums.rows.map((n) => html`<tr data-number=${n.number}>
          <td><strong class="num">${n.number}</strong></td>
          <td data-target>${n.flow ? html`Flow <a href=${`/admin/flows/${seg(n.flow)}`}>${n.flow}</a>` : `Queue ${n.queue}`}</td>
          <td class="row-actions"><button type="button" class="btn btn-quiet btn-sm" aria-label=${`Edit ${n.number}`} onClick=${() => edit(n)}>Edit</button>
            <${ConfirmDelete} what=${n.number} ok=${`Number ${n.number} deleted: its callers now get “not found”.`}
              onConfirm=${() => del(`/api/v1/numbers/${seg(n.number)}`)} onDone=${nums.load} /></td></tr>`)}</tbody></table>`
        : html`<${Empty}>No numbers: no call can come in.</${Empty}>`}
    </section>
    <div class="admin-side" ref=${side}>
      <form novalidate class="card admin-form" aria-label="Set a number" onSubmit=${submit}>
        <h2>Set a number</h2>
        <${Input} id="num-number" label="Number" value=${f.number} onInput=${(e) => setF({ ...f, number: e.target.value })} required
          autocomplete="off" hint="Up to 31 of 0-9, A-Z, a-z, + * # . _ -; an existing number is changed." />
        <fieldset class="radio-row"><legend>Leads to</legend>
          <label class="radio"><input type="radio" name="num-kind" value="queue" checked=${f.kind === 'queue'}
            onChange=${() => setF({ ...f, kind: 'queue' })} /> A queue</label>
          <label class="radio"><input type="radio" name="num-kind" value="flow" checked=${f.kind === 'flow'}
            onChange=${() => setF({ ...f, kind: 'flow' })} /> A call flow</label></fieldset>
        ${f.kind === 'queue'
          ? html`<${Input} id="num-queue" as="select" label="Queue" value=${f.queue} onChange=${(e) => setF({ ...f, queue: e.target.value })}>
              <option value="">Choose a queue…</option>${queues.map((q) => html`<option value=${q}>${q}</option>`)}</${Input}>`
          : html`<${Input} id="num-flow" as="select" label="Flow" value=${f.flow} onChange=${(e) => setF({ ...f, flow: e.target.value })}>
              <option value="">Choose a flow…</option>${flows.map((x) => html`<option value=${x}>${x}</option>`)}</${Input}>`}
        <${FormError} error=${act.error} />
        <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=${act.busy}>${act.busy ? 'Saving…' : 'Save number'}</button></div>
      </form></div></div>`;
}

export function AdminTrunks() {
  const trunks = useList('/api/v1/trunks', 'trunks');
  const EMPTY = { name: '', address: '', username: '', password: '' };
  const [f, setF] = useState(EMPTY);
  const act = useAction();
  const [rev, setRev] = useState(0); // bumped by a row's Edit
  const side = useReveal(rev);
  const set = (k) => (e) => { const v = e.target.value; setF((old) => ({ ...old, [k]: v })); };
  const submit = async (e) => {
    e.preventDefault();
    if (!f.name.trim()) { act.setError({ message: 'Give the trunk a name.' }); return; }
    const body = { address: f.address.trim(), username: f.username.trim() };
    if (f.password) body.password = f.password;
    const r = await act.run(() => put(`/api/v1/trunks/${seg(f.name.trim())}`, body), (t) => `Trunk ${t.name} saved.`);
    if (r) { setF(EMPTY); trunks.load(); }
  };
  if (trunks.error && !trunks.rows) return html`<${ErrorBox} error=${trunks.error} title="The trunks cannot be shown" />`;
  if (!trunks.rows) return html`<${Loading} />`;
  return html`<div class="admin-grid">
    <section class="card" aria-labelledby="trunks-h">
      <header class="card-head"><h2 id="trunks-h">Trunks</h2><span class="count">${trunks.rows.length}</span></header>
      <p class="hint">Who may send calls in: a source address accepted as it is, or digest credentials (or both). Passwords are never shown.</p>
      ${trunks.rows.length ? html`<table class="table" data-trunks>
        <thead><tr><th scope="col">Trunk</th><th scope="col">Address</th><th scope="col">User name</th><th scope="col">Password</th>
          <th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${trunks.rows.map((t) => html`<tr data-trunk=${t.name}>
          <td><strong>${t.name}</strong></td><td>${t.address || html`<span class="muted">none</span>`}</td>
          <td>${t.username || html`<span class="muted">none</span>`}</td><td>${t.has_password ? 'Set' : html`<span class="muted">none</span>`}</td>
          <td class="row-actions"><button type="button" class="btn btn-quiet btn-sm" aria-label=${`Edit ${t.name}`}
            onClick=${() => { setF({ name: t.name, address: t.address, username: t.username, password: '' }); act.setError(null); setRev((r) => r + 1); }}>Edit</button>
            <${ConfirmDelete} what=${t.name} ok=${`Trunk ${t.name} deleted.`} onConfirm=${() => del(`/api/v1/trunks/${seg(t.name)}`)}
              onDone=${trunks.load} /></td></tr>`)}</tbody></table>`
        : html`<${Empty}>No trunks: only callers from this machine's loopback can call in.</${Empty}>`}
    </section>
    <div class="admin-side" ref=${side}>
      <form novalidate class="card admin-form" aria-label="Set a trunk" onSubmit=${submit}>
        <h2>Set a trunk</h2>
        <${Input} id="tr-name" label="Trunk name" value=${f.name} onInput=${set('name')} required autocomplete="off"
          hint="a-z, 0-9, . _ -; an existing trunk is replaced as a whole." />
        <${Input} id="tr-address" label="Address" value=${f.address} onInput=${set('address')} autocomplete="off" placeholder="203.0.113.7"
          hint="Calls from this IP address are accepted without credentials; empty = none." />
        <div class="fld-row">
          <${Input} id="tr-user" label="Digest user name" value=${f.username} onInput=${set('username')} autocomplete="off" />
          <${Input} id="tr-password" label="Digest password" type="password" value=${f.password} onInput=${set('password')}
            autocomplete="new-password" /></div>
        <p class="hint">With a user name, give the password (8 or more characters) each time the trunk is saved: it is kept only as a hash for the realm.</p>
        <${FormError} error=${act.error} />
        <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=${act.busy}>${act.busy ? 'Saving…' : 'Save trunk'}</button>
          <button type="button" class="btn btn-quiet" onClick=${() => { setF(EMPTY); act.setError(null); }}>Clear</button></div>
      </form></div></div>`;
}

const FLAG_HELP = {
  createConversation: 'Voice core: an outgoing call from any form gets a conversation record.',
  'sn_cti_csm_cnt.enable_ims_update': 'Customer service: an outgoing call from a case, contact or consumer gets a conversation record.',
  'sn_cti_itsm_cnt.enable_ims_update': 'IT service: an outgoing call from an incident or a user gets a conversation record.',
};

function FlagRow({ flag, onSaved }) {
  const act = useAction();
  // Shown as clicked at once; back to the stored value if the server refuses.
  const [on, setOn] = useState(flag.value === 'true');
  useEffect(() => setOn(flag.value === 'true'), [flag.value]);
  const id = `flag-${flag.name.replace(/[^a-zA-Z0-9_-]/g, '-')}`;
  const set = async (v) => {
    setOn(v);
    const r = await act.run(() => put(`/api/v1/flags/${seg(flag.name)}`, { value: v ? 'true' : 'false' }),
      (x) => `${x.name} is now ${x.value}.`);
    if (r) onSaved(r);
    else setOn(flag.value === 'true');
  };
  return html`<tr data-flag=${flag.name}>
    <td><input type="checkbox" role="switch" id=${id} checked=${on} disabled=${act.busy} onChange=${(e) => set(e.target.checked)}
      aria-describedby=${`${id}-help`} /></td>
    <td><label for=${id} class="flag-name">${flag.name}</label>
      <p class="hint" id=${`${id}-help`}>${FLAG_HELP[flag.name] || ''}</p><${FormError} error=${act.error} /></td>
    <td class="num" data-value>${flag.value}</td></tr>`;
}

export function AdminFlags() {
  const flags = useList('/api/v1/flags', 'flags');
  if (flags.error && !flags.rows) return html`<${ErrorBox} error=${flags.error} title="The flags cannot be shown" />`;
  if (!flags.rows) return html`<${Loading} />`;
  return html`<section class="card admin-narrow" aria-labelledby="flags-h">
    <header class="card-head"><h2 id="flags-h">Flags</h2></header>
    <p class="hint">A call gets one conversation record when createConversation is on, or the flag of the record's application is. A change holds from the next call.</p>
    <table class="table" data-flags><thead><tr><th scope="col">On</th><th scope="col">Flag</th><th scope="col">Value</th></tr></thead>
      <tbody>${flags.rows.map((fl) => html`<${FlagRow} flag=${fl} onSaved=${flags.load} />`)}</tbody></table></section>`;
}
