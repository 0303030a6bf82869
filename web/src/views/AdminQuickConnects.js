// Admin: quick connects' external numbers (SPEC.md §6, issue 12). Agents pick
// them, beside the agents and queues, to transfer a call to. The list, a
// form to add one (POST) or edit one (PATCH: only what changed) and Delete,
// which asks first. The server's refusal (a name taken in any case, a
// number that is not one) is shown beside the form as it words it.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { del, patch, post } from '../api.js';
import { Empty, ErrorBox, Loading } from './common.js';
import { ConfirmDelete, FormError, Input, useAction, useList, useReveal } from './AdminForm.js';

const EMPTY = { id: null, name: '', number: '' };

export function AdminQuickConnects() {
  // GET /api/v1/quick-connects lists agents and queues too; this section edits `external`.
  const list = useList('/api/v1/quick-connects', 'external');
  const [f, setF] = useState(EMPTY);
  const act = useAction();
  const [rev, setRev] = useState(0); // bumped by a row's Edit
  const side = useReveal(rev);
  const set = (k) => (e) => { const v = e.target.value; setF((old) => ({ ...old, [k]: v })); };
  const editing = f.id !== null ? list.rows?.find((x) => x.id === f.id) : null;
  const reset = () => { setF(EMPTY); act.setError(null); };
  const submit = async (e) => {
    e.preventDefault();
    const body = { name: f.name.trim(), number: f.number.trim() };
    if (!body.name || !body.number) { act.setError({ message: 'Give the quick connect a name and a number.' }); return; }
    if (editing) {
      for (const k of ['name', 'number']) if (body[k] === editing[k]) delete body[k];
      if (!Object.keys(body).length) { act.setError({ message: 'Nothing changed.' }); return; }
    }
    const r = await act.run(() => (editing ? patch(`/api/v1/quick-connects/${f.id}`, body) : post('/api/v1/quick-connects', body)),
      (x) => `Quick connect ${x.name} ${editing ? 'saved' : 'added'}.`);
    if (r) { setF(EMPTY); list.load(); }
  };
  if (list.error && !list.rows) return html`<${ErrorBox} error=${list.error} title="The quick connects cannot be shown" />`;
  if (!list.rows) return html`<${Loading} />`;
  return html`<div class="admin-grid">
    <section class="card" aria-labelledby="qc-h">
      <header class="card-head"><h2 id="qc-h">External numbers</h2><span class="count">${list.rows.length}</span></header>
      <p class="hint">An agent on a call opens Quick connects and picks another agent, a queue or one of these numbers to transfer the call to. A change shows in the next list.</p>
      ${list.rows.length ? html`<table class="table" data-quick-connects>
        <thead><tr><th scope="col">Name</th><th scope="col">Number</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${list.rows.map((x) => html`<tr data-quick-connect=${x.name}>
          <td><strong>${x.name}</strong></td><td class="num" data-number>${x.number}</td>
          <td class="row-actions"><button type="button" class="btn btn-quiet btn-sm" aria-label=${`Edit ${x.name}`}
            onClick=${() => { setF({ id: x.id, name: x.name, number: x.number }); act.setError(null); setRev((v) => v + 1); }}>Edit</button>
            <${ConfirmDelete} what=${x.name} ok=${`Quick connect ${x.name} deleted.`}
              onConfirm=${() => del(`/api/v1/quick-connects/${x.id}`)} onDone=${() => { if (f.id === x.id) reset(); list.load(); }} /></td></tr>`)}</tbody></table>`
        : html`<${Empty}>No external numbers: agents can still transfer to other agents and to queues.</${Empty}>`}
    </section>
    <div class="admin-side" ref=${side}>
      <form novalidate class="card admin-form" aria-label=${editing ? 'Edit quick connect' : 'Add a quick connect'} onSubmit=${submit}>
        <h2>${editing ? `Edit ${editing.name}` : 'Add a quick connect'}</h2>
        <${Input} id="qc-name" label="Name" value=${f.name} onInput=${set('name')} required autocomplete="off" maxlength="64"
          placeholder="Legal desk" hint="What agents see in the list: 1 to 64 characters, unique (in any case)." />
        <${Input} id="qc-number" label="Number" type="tel" value=${f.number} onInput=${set('number')} required autocomplete="off"
          placeholder="+1 555 0170" hint="Dialled as written: digits with an optional leading +, spaces, - ( ) and dots." />
        <${FormError} error=${act.error} />
        <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=${act.busy}>${act.busy ? 'Saving…' : editing ? 'Save quick connect' : 'Add quick connect'}</button>
          <button type="button" class="btn btn-quiet" onClick=${reset}>${editing ? 'Cancel' : 'Clear'}</button></div>
      </form></div></div>`;
}
