// Admin: queues. The list with settings, members and live figures (re-read
// every 5 s while shown); a form to create one (with members and their
// priority); the selected queue's settings (PATCH: only what changed; a new
// name renames it), its members one by one (PUT / DELETE .../members/{user})
// and its deletion, refused by the server while callers wait or a number or
// flow leads to it: the refusal is shown as the server words it.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { del, get, patch, post, put, seg } from '../api.js';
import { duration } from '../format.js';
import { Empty, ErrorBox, Loading } from './common.js';
import { ConfirmDelete, FormError, Input, useAction, useReveal } from './AdminForm.js';

const PRIORITIES = [1, 2, 3, 4, 5, 6, 7, 8, 9];

const fromQueue = (q) => ({
  name: q?.name || '', priority: String(q?.priority ?? 0), service_level_seconds: String(q?.service_level_seconds ?? 20),
  service_level_abandons: q?.service_level_abandons || 'met',
  max_wait_seconds: String(q?.max_wait_seconds ?? 0), overflow_queue: q?.overflow_queue || '',
  hold_music: q?.hold_music || '', wrap_up_codes: (q?.wrap_up_codes || []).join('\n'),
});
const codes = (text) => text.split(/\n|,/).map((c) => c.trim()).filter(Boolean);
const int = (s) => (/^-?\d+$/.test(String(s).trim()) ? Number(s) : s); // a wrong value goes to the server as it is, which says why

// The settings form: create (queue = null, with members) or edit (PATCH).
function QueueSettings({ queue, queues, agents, onSaved, idp }) {
  const [f, setF] = useState(() => fromQueue(queue));
  const [members, setMembers] = useState({}); // create only: user_name → priority
  const [note, setNote] = useState(null);
  const act = useAction();
  useEffect(() => { setF(fromQueue(queue)); setNote(null); act.setError(null); }, [queue?.name]);
  const set = (k) => (e) => { const v = e.target.value; setF((old) => ({ ...old, [k]: v })); };
  const creating = !queue;
  const submit = async (e) => {
    e.preventDefault();
    setNote(null);
    const full = {
      name: f.name.trim(), priority: int(f.priority), service_level_seconds: int(f.service_level_seconds),
      service_level_abandons: f.service_level_abandons,
      max_wait_seconds: int(f.max_wait_seconds), overflow_queue: f.overflow_queue, hold_music: f.hold_music.trim(),
      wrap_up_codes: codes(f.wrap_up_codes),
    };
    if (creating) {
      const body = { ...full, members: Object.entries(members).map(([user_name, priority]) => ({ user_name, priority })) };
      const q = await act.run(() => post('/api/v1/queues', body), (r) => `Queue ${r.name} created.`);
      if (q) { setF(fromQueue(null)); setMembers({}); onSaved(q, null); }
      return;
    }
    const was = fromQueue(queue);
    const body = {};
    for (const k of Object.keys(full)) {
      const same = k === 'wrap_up_codes' ? JSON.stringify(full[k]) === JSON.stringify(codes(was[k]))
        : String(full[k]) === String(k === 'name' || k === 'hold_music' ? was[k].trim() : was[k]);
      if (!same) body[k] = full[k];
    }
    // The maximum wait and its overflow queue go together (the server checks it).
    if ('max_wait_seconds' in body || 'overflow_queue' in body) {
      body.max_wait_seconds = full.max_wait_seconds;
      body.overflow_queue = full.overflow_queue;
    }
    if (!Object.keys(body).length) { setNote('Nothing changed.'); return; }
    const q = await act.run(() => patch(`/api/v1/queues/${seg(queue.name)}`, body),
      (r) => (r.name !== queue.name ? `Queue ${queue.name} renamed to ${r.name}.` : `Queue ${r.name} saved.`));
    if (q) onSaved(q, queue.name);
  };
  const others = queues.filter((q) => q.name !== queue?.name);
  return html`<form novalidate class=${creating ? 'card admin-form' : 'admin-form'} aria-label=${creating ? 'New queue' : `Settings of ${queue.name}`} onSubmit=${submit}>
    ${creating ? html`<h2>New queue</h2>` : html`<h3>Settings</h3>`}
    <div class="fld-row">
      <${Input} id=${`${idp}-name`} label="Name" value=${f.name} onInput=${set('name')} required autocomplete="off"
        hint=${creating ? 'Letters, digits, space, . _ - (up to 40).' : 'A new name renames the queue (refused while a flow names it).'} />
      <${Input} id=${`${idp}-priority`} label="Priority" type="number" min="-100" max="100" value=${f.priority} onInput=${set('priority')}
        hint="Queues with a lower number are served first." /></div>
    <div class="fld-row">
      <${Input} id=${`${idp}-sl`} label="Service level (seconds)" type="number" min="1" max="3600" value=${f.service_level_seconds}
        onInput=${set('service_level_seconds')} hint="The target: answered within this long." />
      <${Input} id=${`${idp}-maxwait`} label="Maximum wait (seconds)" type="number" min="0" max="86400" value=${f.max_wait_seconds}
        onInput=${set('max_wait_seconds')} hint="0 = no maximum. After it the caller moves to the overflow queue." /></div>
    <${Input} id=${`${idp}-slab`} as="select" label="Callers who hang up within the service level" value=${f.service_level_abandons}
      onChange=${set('service_level_abandons')} hint="How the wallboard's service level counts them (docs/WALLBOARD.md).">
      <option value="met">Count as met (Amazon Connect)</option>
      <option value="excluded">Leave out of the service level</option>
      <option value="missed">Count as missed</option></${Input}>
    <div class="fld-row">
      <${Input} id=${`${idp}-overflow`} as="select" label="Overflow queue" value=${f.overflow_queue} onChange=${set('overflow_queue')}
        hint="Needed with a maximum wait.">
        <option value="">None</option>${others.map((q) => html`<option value=${q.name}>${q.name}</option>`)}</${Input}>
      <${Input} id=${`${idp}-music`} label="Hold music" value=${f.hold_music} onInput=${set('hold_music')} autocomplete="off"
        placeholder="default" hint="A WAV relative to calls.flows_dir; empty = the default music." /></div>
    <${Input} id=${`${idp}-codes`} as="textarea" rows="3" label="Wrap-up codes" value=${f.wrap_up_codes} onInput=${set('wrap_up_codes')}
      hint="One per line (up to 20). None = agents may give any code at Clear contact." />
    ${creating && html`<fieldset class="roles"><legend>Members</legend>
      <p class="hint">Priority 1 is offered calls first; a member of priority 2 only when no priority-1 member is free.</p>
      ${agents.length ? html`<div class="member-picks">${agents.map((a) => {
        const on = a.user_name in members;
        return html`<div class="member-pick">
          <input type="checkbox" id=${`${idp}-m-${a.user_name}`} checked=${on}
            onChange=${(e) => { const m = { ...members }; if (e.target.checked) m[a.user_name] = 1; else delete m[a.user_name]; setMembers(m); }} />
          <label for=${`${idp}-m-${a.user_name}`}>${a.name} (${a.user_name})</label>
          <label class="sr-only" for=${`${idp}-mp-${a.user_name}`}>Priority of ${a.user_name}</label>
          <select id=${`${idp}-mp-${a.user_name}`} disabled=${!on} value=${String(members[a.user_name] || 1)}
            onChange=${(e) => setMembers({ ...members, [a.user_name]: Number(e.target.value) })}>
            ${PRIORITIES.map((p) => html`<option value=${p}>Priority ${p}</option>`)}</select></div>`;
      })}</div>` : html`<p class="muted">No agents yet: create users with agent roles first.</p>`}</fieldset>`}
    <${FormError} error=${act.error} title=${creating ? 'The queue was not created' : 'Not saved'} />
    ${note && html`<p class="hint" role="status">${note}</p>`}
    <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=${act.busy}>
      ${act.busy ? 'Saving…' : creating ? 'Create queue' : 'Save settings'}</button></div>
  </form>`;
}

function Members({ queue, agents, names, onChanged }) {
  const act = useAction();
  const [add, setAdd] = useState('');
  const [prio, setPrio] = useState('1');
  const q = seg(queue.name);
  const outside = agents.filter((a) => !queue.members.includes(a.user_name));
  // Each change answers with the queue as it now is.
  const change = async (fn, text) => {
    const r = await act.run(fn, text);
    if (r) onChanged(r);
    return r;
  };
  const setMember = (user, priority, text) =>
    change(() => put(`/api/v1/queues/${q}/members/${seg(user)}`, { priority: Number(priority) }), text);
  const remove = (user) => change(() => del(`/api/v1/queues/${q}/members/${seg(user)}`), `${user} removed from ${queue.name}.`);
  const submit = async (e) => {
    e.preventDefault();
    if (!add) return;
    if (await setMember(add, prio, `${add} added to ${queue.name}.`)) { setAdd(''); setPrio('1'); }
  };
  return html`<section class="admin-members" aria-label=${`Members of ${queue.name}`}>
    <h3>Members <span class="count">${queue.members.length}</span></h3>
    ${queue.members.length ? html`<table class="table table-compact">
      <thead><tr><th scope="col">Member</th><th scope="col">Priority</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${queue.members.map((m) => html`<tr data-member=${m}>
        <td>${names[m] || m} <span class="muted">${m}</span></td>
        <td><label class="sr-only" for=${`mp-${m}`}>Priority of ${m}</label>
          <select id=${`mp-${m}`} class="select-sm" value=${String(queue.member_priority?.[m] ?? 1)} disabled=${act.busy}
            onChange=${(e) => setMember(m, e.target.value, `${m}: priority ${e.target.value} in ${queue.name}.`)}>
            ${PRIORITIES.map((p) => html`<option value=${p}>${p}</option>`)}</select></td>
        <td><button type="button" class="btn btn-quiet btn-sm" aria-label=${`Remove ${m}`} disabled=${act.busy}
          onClick=${() => remove(m)}>Remove</button></td></tr>`)}</tbody></table>`
      : html`<p class="muted">No members: no call in this queue can be offered.</p>`}
    <form novalidate class="member-add" aria-label=${`Add a member to ${queue.name}`} onSubmit=${submit}>
      <${Input} id="ma-user" as="select" label="Add a member" value=${add} onChange=${(e) => setAdd(e.target.value)}>
        <option value="">Choose an agent…</option>${outside.map((a) => html`<option value=${a.user_name}>${a.name} (${a.user_name})</option>`)}</${Input}>
      <${Input} id="ma-prio" as="select" label="Member priority" value=${prio} onChange=${(e) => setPrio(e.target.value)}>
        ${PRIORITIES.map((p) => html`<option value=${p}>${p}</option>`)}</${Input}>
      <button class="btn btn-quiet" type="submit" disabled=${!add || act.busy}>Add member</button></form>
    <${FormError} error=${act.error} /></section>`;
}

export function AdminQueues() {
  const [queues, setQueues] = useState(null);
  const [users, setUsers] = useState([]);
  const [error, setError] = useState(null);
  const [sel, setSel] = useState(null);
  const side = useReveal(sel);
  const shown = useRef(false); // once the list is shown, a failed re-read keeps it
  const load = () => get('/api/v1/queues').then((r) => { shown.current = true; setQueues(r.queues); setError(null); },
    (e) => { if (!shown.current) setError(e); });
  useEffect(() => {
    load();
    get('/api/v1/users').then((r) => setUsers(r.users), () => {});
    // The live figures (waiting, available) change without an event for them.
    const t = setInterval(() => document.visibilityState === 'visible' && load(), 5000);
    return () => clearInterval(t);
  }, []);
  if (error) return html`<${ErrorBox} error=${error} title="The queues cannot be shown" />`;
  if (!queues) return html`<${Loading} />`;
  const agents = users.filter((u) => u.is_agent && u.active);
  const names = Object.fromEntries(users.map((u) => [u.user_name, u.name]));
  const selected = sel && queues.find((q) => q.name === sel);
  const replace = (q, oldName) => {
    setQueues((list) => (oldName ? list.map((x) => (x.name === oldName ? q : x)) : [...list, q]));
    if (oldName) setSel(q.name);
    load();
  };
  return html`<div class="admin-grid">
    <section class="card" aria-labelledby="queues-h">
      <header class="card-head"><h2 id="queues-h">Queues</h2><span class="count">${queues.length}</span>
        ${sel && html`<button class="btn btn-quiet btn-sm card-link" type="button" onClick=${() => setSel(null)}>New queue</button>`}</header>
      ${queues.length ? html`<table class="table" data-queues>
        <thead><tr><th scope="col">Queue</th><th scope="col">Wrap-up codes</th><th scope="col">Members</th><th scope="col">Now</th>
          <th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${queues.map((q) => html`<tr data-queue=${q.name} class=${sel === q.name ? 'selected' : ''}>
          <td><strong>${q.name}</strong>
            <span class="q-settings">priority ${q.priority} · service level ${q.service_level_seconds} s</span>
            <span class="q-settings">${`${q.max_wait_seconds ? `maximum wait ${duration(q.max_wait_seconds)} → ${q.overflow_queue}` : 'no maximum wait'} · ${q.hold_music ? `music ${q.hold_music}` : 'default music'}`}</span></td>
          <td>${q.wrap_up_codes.length ? q.wrap_up_codes.join(', ') : html`<span class="muted">any code</span>`}</td>
          <td data-members>${q.members.length ? q.members.map((m, i) => html`${i ? ', ' : ''}${m}${(q.member_priority?.[m] ?? 1) !== 1 ? html`<span class="muted"> (priority ${q.member_priority[m]})</span>` : ''}`)
            : html`<span class="muted">none</span>`}</td>
          <td class="num" data-live><span class=${q.live.waiting ? 'q-waiting' : ''}>${q.live.waiting} waiting</span>
            <span class="q-settings">${q.live.agents_available} of ${q.live.members} available · ${q.live.agents_signed_in} signed in</span></td>
          <td><button class="btn btn-quiet btn-sm" type="button" aria-label=${`Edit ${q.name}`} onClick=${() => setSel(q.name)}>Edit</button></td></tr>`)}
        </tbody></table>` : html`<${Empty}>No queues yet.</${Empty}>`}
    </section>
    <div class="admin-side" ref=${side}>
      ${selected ? html`<div class="card" data-editing=${selected.name}>
          <header class="card-head"><h2>Queue ${selected.name}</h2>
            <button type="button" class="btn btn-quiet btn-sm card-link" onClick=${() => setSel(null)}>Close</button></header>
          <${QueueSettings} idp="eq" queue=${selected} queues=${queues} agents=${agents} onSaved=${replace} />
          <${Members} queue=${selected} agents=${agents} names=${names} onChanged=${(q) => replace(q, selected.name)} />
          <div class="danger"><h3>Delete</h3>
            <p class="hint">Refused while callers wait in it, or while a number or a flow leads to it. Interactions that were in it keep its name.</p>
            <${ConfirmDelete} what=${selected.name} label="Delete queue" onConfirm=${() => del(`/api/v1/queues/${seg(selected.name)}`)}
              ok=${`Queue ${selected.name} deleted.`} onDone=${() => { setSel(null); load(); }} /></div></div>`
        : html`<${QueueSettings} idp="nq" queue=${null} queues=${queues} agents=${agents} onSaved=${replace} />`}
    </div></div>`;
}
