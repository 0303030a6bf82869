// The forms: User, Contact, Consumer, Case, Incident, with their phones as
// click-to-call links (from call_targets: no link when there is no number).
import { html } from 'htm/preact';
import { get } from '../api.js';
import { dateTime, recordPath, TABLES } from '../format.js';
import { ErrorBox, Field, Loading, PageHeader, Phones, StateBadge, useLoad } from './common.js';
import { History } from './Softphone.js';

function PartyLink({ party }) {
  if (!party) return null;
  return html`<a href=${recordPath(party.table, party.key)}>${party.name}</a>`;
}

function fields(table, r) {
  const rec = { table, key: table === 'user' ? r.user_name : r.number, name: r.name };
  const phones = html`<${Phones} record=${rec} targets=${r.call_targets} />`;
  switch (table) {
    case 'user':
      return html`<${Field} label="User name">${r.user_name}</${Field}><${Field} label="Name">${r.name}</${Field}>
        <${Field} label="Email">${r.email}</${Field}><${Field} label="Phones">${phones}</${Field}>
        <${Field} label="Roles">${r.roles?.length ? r.roles.join(', ') : null}</${Field}>
        <${Field} label="Active">${r.active ? 'Yes' : 'No'}</${Field}>`;
    case 'contact': case 'consumer':
      return html`<${Field} label="Name">${r.name}</${Field}><${Field} label="Email">${r.email}</${Field}>
        ${table === 'contact' && html`<${Field} label="Account">${r.account}</${Field}>`}
        <${Field} label="Phones">${phones}</${Field}>
        <${Field} label="Created">${dateTime(r.created_at)}</${Field}><${Field} label="Updated">${dateTime(r.updated_at)}</${Field}>`;
    case 'case': {
      const party = r.contact && { table: r.contact.table, key: r.contact.key, name: r.contact.name };
      const prec = { ...(party || rec), name: party?.name };
      return html`<${Field} label="Short description" wide>${r.short_description}</${Field}>
        <${Field} label="Contact"><${PartyLink} party=${party} /></${Field}>
        <${Field} label="Contact’s phones"><${Phones} record=${{ table, key: r.number, name: prec.name, title: r.short_description }} targets=${r.call_targets} /></${Field}>
        <${Field} label="Opened">${dateTime(r.opened_at)}</${Field}><${Field} label="Updated">${dateTime(r.updated_at)}</${Field}>`;
    }
    case 'incident': {
      const party = r.caller && { table: 'user', key: r.caller.user_name, name: r.caller.name };
      return html`<${Field} label="Short description" wide>${r.short_description}</${Field}>
        <${Field} label="Caller"><${PartyLink} party=${party} /></${Field}>
        <${Field} label="Caller’s phones"><${Phones} record=${{ table, key: r.number, name: party?.name, title: r.short_description }} targets=${r.call_targets} /></${Field}>
        <${Field} label="Opened">${dateTime(r.opened_at)}</${Field}><${Field} label="Updated">${dateTime(r.updated_at)}</${Field}>`;
    }
    default: return null;
  }
}

export function RecordForm({ table, recordKey }) {
  const t = TABLES[table];
  const { data, error, loading } = useLoad(
    () => (t ? get(`/api/v1/${t.api}/${encodeURIComponent(recordKey)}`) : Promise.reject(new Error(`There is no form for “${table}”.`))),
    [table, recordKey]);
  const title = data ? (data.short_description || data.name) : recordKey;
  return html`<div class="page">
    <${PageHeader} kicker=${t ? `${t.label} ${table === 'user' ? '' : recordKey}` : 'Record'} title=${title}>
      ${data?.state && html`<${StateBadge} state=${data.state} />`}</${PageHeader}>
    ${loading ? html`<${Loading} />` : error ? html`<${ErrorBox} error=${error} title=${`This ${t?.label.toLowerCase() || 'record'} cannot be shown`} />`
      : html`<section class="card form-card" aria-label=${`${t.label} details`} data-form=${table}>
          <dl class="fields">${fields(table, data)}</dl></section>
        ${data?.call_targets?.length ? html`<section class="card" aria-labelledby="hist-h">
          <header class="card-head"><h2 id="hist-h">Calls with this number</h2></header>
          <${History} number=${data.call_targets[0].number} /></section>` : null}`}
  </div>`;
}
