// Admin: users and agents. The list (roles, SIP account, active, an agent's
// presence, live from the event stream), a form to create a user (roles as
// checkboxes), and one to edit a user (fields, password, SIP password or no
// SIP account, roles granted and revoked one by one).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { del, get, patch, post, put, seg } from '../api.js';
import { setState, useAppState } from '../state.js';
import { Empty, ErrorBox, Loading, PresenceBadge } from './common.js';
import { Check, clean, FormError, Input, opt, useAction, useReveal } from './AdminForm.js';

const AGENT_PAIR = ['sn_openframe.user', 'interaction_agent'];
const AWA_PAIR = ['awa_agent', 'awa_integration_user'];

// What a set of roles lets the user do, in words.
export function rolesMeaning(roles, awaEnabled) {
  const has = (r) => roles.includes(r);
  const out = [];
  const pair = AGENT_PAIR.every(has) || (awaEnabled && AWA_PAIR.every(has));
  if (pair) out.push('an agent who can take calls');
  else if ([...AGENT_PAIR, ...AWA_PAIR].some(has)) out.push('an agent who cannot take calls yet (no full role pair)');
  if (has('voice_manager')) out.push('a manager');
  if (has('admin')) out.push('an administrator');
  return out.length ? `With these roles: ${out.join(', ')}.` : 'With no role the user can sign in but has nothing to work on.';
}

function RolePairsHint({ awaEnabled }) {
  return html`<p class="hint roles-hint" id="roles-pairs">
    An agent who takes calls needs a pair: <code>sn_openframe.user</code> + <code>interaction_agent</code>, or
    <code>awa_agent</code> + <code>awa_integration_user</code>${awaEnabled ? ' (AWA is enabled on this server)' : ' (AWA is not enabled on this server, so that pair takes no calls)'}.
    A manager (the live view) needs <code>voice_manager</code>; <code>admin</code> opens this view.</p>`;
}

function RoleChecks({ idp, all, value, onChange, awaEnabled }) {
  const toggle = (r, on) => onChange(on ? [...value, r] : value.filter((x) => x !== r));
  return html`<fieldset class="roles" aria-describedby="roles-pairs">
    <legend>Roles</legend>
    <${RolePairsHint} awaEnabled=${awaEnabled} />
    <div class="role-grid">${all.map((r) => html`<${Check} id=${`${idp}-role-${r}`} label=${r}
      checked=${value.includes(r)} onChange=${(on) => toggle(r, on)} />`)}</div>
    <p class="hint" aria-live="polite">${rolesMeaning(value, awaEnabled)}</p></fieldset>`;
}

// The phone's settings come from GET /api/v1/me (admins get its "sip").
function SipHint({ userName }) {
  const { me } = useAppState();
  const sip = me?.sip;
  return html`What the agent's SIP phone registers with: user name${' '}<strong>${userName || '(the user name)'}</strong>,
  this password, realm <strong>${sip?.realm || 'switchboard'}</strong>${sip ? html`, registrar <strong>sip:${sip.address}:${sip.port}</strong>` : ''}.
  At least 8 characters.`;
}
const sipHint = (userName) => html`<${SipHint} userName=${userName} />`;

const EMPTY = { user_name: '', name: '', email: '', mobile_phone: '', business_phone: '', password: '', sip_password: '', roles: [] };

function UserCreate({ roles, onCreated }) {
  const [f, setF] = useState(EMPTY);
  const act = useAction();
  const set = (k) => (e) => { const v = e.target.value; setF((old) => ({ ...old, [k]: v })); };
  const submit = async (e) => {
    e.preventDefault();
    const body = clean({
      user_name: f.user_name.trim(), name: f.name.trim(), password: f.password,
      email: opt(f.email.trim()), mobile_phone: opt(f.mobile_phone.trim()), business_phone: opt(f.business_phone.trim()),
      sip_password: opt(f.sip_password), roles: f.roles,
    });
    const u = await act.run(() => post('/api/v1/users', body), (r) => `User ${r.user_name} created.`);
    if (u) { setF(EMPTY); onCreated(u); }
  };
  return html`<form novalidate class="card admin-form" aria-label="New user" onSubmit=${submit}>
    <h2>New user</h2>
    <div class="fld-row">
      <${Input} id="nu-user_name" label="User name" value=${f.user_name} onInput=${set('user_name')} required
        autocomplete="off" hint="a-z, 0-9, . _ -; it cannot change later" />
      <${Input} id="nu-name" label="Name" value=${f.name} onInput=${set('name')} required autocomplete="off" /></div>
    <${Input} id="nu-email" label="Email" type="email" value=${f.email} onInput=${set('email')} autocomplete="off" />
    <div class="fld-row">
      <${Input} id="nu-mobile" label="Mobile phone" value=${f.mobile_phone} onInput=${set('mobile_phone')} autocomplete="off" />
      <${Input} id="nu-business" label="Business phone" value=${f.business_phone} onInput=${set('business_phone')} autocomplete="off" /></div>
    <${Input} id="nu-password" label="Password" type="password" value=${f.password} onInput=${set('password')} required
      autocomplete="new-password" hint="For signing in to Switchboard; at least 8 characters." />
    <${Input} id="nu-sip" label="SIP password" type="password" value=${f.sip_password} onInput=${set('sip_password')}
      autocomplete="new-password" hint=${html`${sipHint(f.user_name.trim())} Leave empty for no SIP account.`} />
    <${RoleChecks} idp="nu" all=${roles.roles} value=${f.roles} onChange=${(r) => setF({ ...f, roles: r })} awaEnabled=${roles.awa_enabled} />
    <${FormError} error=${act.error} title="The user was not created" />
    <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=${act.busy}>${act.busy ? 'Creating…' : 'Create user'}</button></div>
  </form>`;
}

function UserEdit({ user, roles, onSaved, onClose }) {
  const init = () => ({ name: user.name, email: user.email || '', mobile_phone: user.mobile_phone || '',
    business_phone: user.business_phone || '', active: user.active, password: '', sip_password: '', no_sip: false,
    roles: [...user.roles] });
  const [f, setF] = useState(init);
  const [note, setNote] = useState(null);
  const act = useAction();
  useEffect(() => { setF(init()); setNote(null); act.setError(null); }, [user.user_name]);
  const set = (k) => (e) => { const v = e.target.value; setF((old) => ({ ...old, [k]: v })); };
  const u = seg(user.user_name);
  const submit = async (e) => {
    e.preventDefault();
    setNote(null);
    const body = {};
    for (const k of ['name', 'email', 'mobile_phone', 'business_phone']) if (f[k].trim() !== (user[k] || '')) body[k] = f[k].trim();
    if (f.active !== user.active) body.active = f.active;
    if (f.password) body.password = f.password;
    if (f.no_sip) body.sip_password = '';
    else if (f.sip_password) body.sip_password = f.sip_password;
    const grant = f.roles.filter((r) => !user.roles.includes(r));
    const revoke = user.roles.filter((r) => !f.roles.includes(r));
    if (!Object.keys(body).length && !grant.length && !revoke.length) { setNote('Nothing changed.'); return; }
    const r = await act.run(async () => {
      let now = user;
      try {
        if (Object.keys(body).length) now = await patch(`/api/v1/users/${u}`, body);
        for (const role of grant) now = await put(`/api/v1/users/${u}/roles/${seg(role)}`);
        for (const role of revoke) now = await del(`/api/v1/users/${u}/roles/${seg(role)}`);
      } finally {
        onSaved(now, true); // what did change is shown even when a later step was refused
      }
      return now;
    }, `User ${user.user_name} saved.`);
    if (r) setF((x) => ({ ...x, password: '', sip_password: '', no_sip: false }));
  };
  return html`<form novalidate class="card admin-form" aria-label=${`Edit ${user.user_name}`} onSubmit=${submit} data-editing=${user.user_name}>
    <header class="card-head"><h2>Edit ${user.user_name}</h2>
      <button type="button" class="btn btn-quiet btn-sm card-link" onClick=${onClose}>Close</button></header>
    <${Input} id="eu-name" label="Name" value=${f.name} onInput=${set('name')} required autocomplete="off" />
    <${Input} id="eu-email" label="Email" type="email" value=${f.email} onInput=${set('email')} autocomplete="off" hint="Empty clears it." />
    <div class="fld-row">
      <${Input} id="eu-mobile" label="Mobile phone" value=${f.mobile_phone} onInput=${set('mobile_phone')} autocomplete="off" />
      <${Input} id="eu-business" label="Business phone" value=${f.business_phone} onInput=${set('business_phone')} autocomplete="off" /></div>
    <${Check} id="eu-active" label="Active" checked=${f.active} onChange=${(v) => setF({ ...f, active: v })}
      hint="An inactive user cannot sign in; their sessions stop working." />
    <${Input} id="eu-password" label="New password" type="password" value=${f.password} onInput=${set('password')}
      autocomplete="new-password" hint="Leave empty to keep the current one." />
    <${Input} id="eu-sip" label="New SIP password" type="password" value=${f.sip_password} onInput=${set('sip_password')}
      disabled=${f.no_sip} autocomplete="new-password"
      hint=${html`${user.sip_account ? 'The user has a SIP account. ' : 'The user has no SIP account yet: a password creates one. '}${sipHint(user.user_name)}`} />
    ${user.sip_account && html`<${Check} id="eu-nosip" label="Remove the SIP account" checked=${f.no_sip}
      onChange=${(v) => setF({ ...f, no_sip: v, sip_password: '' })} hint="The phone can no longer register." />`}
    <${RoleChecks} idp="eu" all=${roles.roles} value=${f.roles} onChange=${(r) => setF({ ...f, roles: r })} awaEnabled=${roles.awa_enabled} />
    <${FormError} error=${act.error} />
    ${note && html`<p class="hint" role="status">${note}</p>`}
    <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=${act.busy}>${act.busy ? 'Saving…' : 'Save changes'}</button>
      <button type="button" class="btn btn-quiet" onClick=${() => { setF(init()); setNote(null); act.setError(null); }}>Reset</button></div>
  </form>`;
}

function Presence({ agent }) {
  if (!agent) return html`<span class="muted">—</span>`;
  return html`<span class="presence-cell"><${PresenceBadge} presence=${agent.presence} reason=${agent.presence === 'Away' ? agent.away_reason : null} />
    <span class="muted small">${agent.registered ? 'phone registered' : 'no phone'}</span></span>`;
}

export function AdminUsers() {
  const { agents } = useAppState();
  const [users, setUsers] = useState(null);
  const [roles, setRoles] = useState(null);
  const [error, setError] = useState(null);
  const [sel, setSel] = useState(null);
  const side = useReveal(sel);
  const [q, setQ] = useState('');

  const loadAgents = () => get('/api/v1/agents').then((a) => {
    const map = {};
    const at = Date.now();
    for (const ag of a.agents) map[ag.user_name] = { ...ag, since: ag.since || new Date(at - ag.seconds_in_state * 1000).toISOString() };
    setState({ agents: map });
  }, () => {});
  const load = () => Promise.all([get('/api/v1/users'), get('/api/v1/roles')]).then(([u, r]) => {
    setUsers(u.users);
    setRoles(r);
    setError(null);
  }, setError);
  useEffect(() => { load(); loadAgents(); }, []);

  const saved = (u) => {
    setUsers((list) => (list || []).map((x) => (x.user_name === u.user_name ? u : x)));
    loadAgents();
  };
  const created = (u) => { setUsers((list) => [...(list || []), u]); loadAgents(); };
  if (error) return html`<${ErrorBox} error=${error} title="The users cannot be shown" />`;
  if (!users || !roles) return html`<${Loading} />`;
  const needle = q.trim().toLowerCase();
  const shown = users.filter((u) => !needle || u.user_name.includes(needle) || u.name.toLowerCase().includes(needle));
  const editing = sel && users.find((u) => u.user_name === sel);
  return html`<div class="admin-grid">
    <section class="card" aria-labelledby="users-h">
      <header class="card-head"><h2 id="users-h">All users</h2><span class="count">${users.length}</span>
        <div class="inline-search"><label class="sr-only" for="users-q">Find a user</label>
          <input id="users-q" type="search" placeholder="Find a user" value=${q} onInput=${(e) => setQ(e.target.value)} />
          ${sel && html`<button class="btn btn-quiet" type="button" onClick=${() => setSel(null)}>New user</button>`}</div></header>
      ${shown.length ? html`<table class="table" data-users>
        <thead><tr><th scope="col">User</th><th scope="col">Roles</th>
          <th scope="col">SIP account</th><th scope="col">Active</th><th scope="col">Presence</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${shown.map((u) => html`<tr data-user=${u.user_name} class=${sel === u.user_name ? 'selected' : ''}>
          <td><strong>${u.user_name}</strong><span class="q-settings">${u.name}</span></td>
          <td><span class="role-list">${u.roles.length ? u.roles.map((r) => html`<span class="badge tone-muted role-badge">${r}</span>`) : html`<span class="muted">none</span>`}</span>
            ${u.is_agent && !u.can_handle_calls && html`<span class="muted small"> · cannot take calls</span>`}</td>
          <td data-sip>${u.sip_account ? 'Yes' : html`<span class="muted">No</span>`}</td>
          <td>${u.active ? 'Yes' : html`<span class="badge tone-warn">Inactive</span>`}</td>
          <td data-presence>${u.is_agent ? html`<${Presence} agent=${agents[u.user_name]} />` : html`<span class="muted">—</span>`}</td>
          <td><button class="btn btn-quiet btn-sm" type="button" aria-label=${`Edit ${u.user_name}`}
            onClick=${() => setSel(u.user_name)}>Edit</button></td></tr>`)}</tbody></table>`
        : html`<${Empty}>No user matches “${q}”.</${Empty}>`}
    </section>
    <div class="admin-side" ref=${side}>
      ${editing ? html`<${UserEdit} user=${editing} roles=${roles} onSaved=${saved} onClose=${() => setSel(null)} />`
        : html`<${UserCreate} roles=${roles} onCreated=${created} />`}
    </div></div>`;
}
