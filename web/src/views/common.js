// Small pieces every view uses: loading a resource, error and empty states,
// badges, fields, and the click-to-call phone link.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { placeCall } from '../calls.js';
import { presenceClass, presenceLabel } from '../format.js';
import { getState } from '../state.js';

// Loads with fn() whenever deps change: { data, error, loading, reload }.
export function useLoad(fn, deps) {
  const [st, setSt] = useState({ data: null, error: null, loading: true });
  const [rev, setRev] = useState(0);
  useEffect(() => {
    let live = true;
    setSt((p) => ({ ...p, loading: true, error: null }));
    fn().then((data) => live && setSt({ data, error: null, loading: false }),
      (error) => live && setSt({ data: null, error, loading: false }));
    return () => { live = false; };
  }, [...deps, rev]);
  return { ...st, reload: () => setRev((r) => r + 1) };
}

// A refusal for lack of roles is not an error of the page (issue 10): it says
// so plainly, with the server's reason (which names the roles), and who can
// help; anything else keeps the caller's title.
export function ErrorBox({ error, title = 'Something went wrong' }) {
  if (!error) return null;
  if (error.status === 403) {
    return html`<div class="notice notice-info" role="status" data-refused>
      <strong>Not available to your account</strong><span>${String(error.message || '').replace(/([^.])$/, '$1.')} Ask an administrator for the roles if you need this.</span></div>`;
  }
  return html`<div class="notice notice-error" role="alert">
    <strong>${title}</strong><span>${error.message || String(error)}</span></div>`;
}

export const Loading = ({ label = 'Loading…' }) =>
  html`<div class="loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>${label}</div>`;

export const Empty = ({ children }) => html`<p class="empty">${children}</p>`;

export function PresenceBadge({ presence, reason }) {
  return html`<span class="badge ${presenceClass(presence)}">
    <span class="dot" aria-hidden="true"></span>${presenceLabel(presence)}${reason ? html`<span class="badge-reason"> · ${reason}</span>` : ''}</span>`;
}

const STATE_CLASS = {
  new: 'tone-info', work_in_progress: 'tone-active', closed_complete: 'tone-done', closed_abandoned: 'tone-warn',
  New: 'tone-info', 'In Progress': 'tone-active', 'On Hold': 'tone-warn', Resolved: 'tone-done', Closed: 'tone-muted',
  Canceled: 'tone-muted',
};
export const StateBadge = ({ state, label }) =>
  html`<span class="badge ${STATE_CLASS[state] || 'tone-muted'}">${label || state}</span>`;

export function Field({ label, children, wide }) {
  return html`<div class="field ${wide ? 'field-wide' : ''}"><dt>${label}</dt><dd>${
    children === null || children === undefined || children === '' ? html`<span class="muted">—</span>` : children}</dd></div>`;
}

// A phone number as a click-to-call link: target = the record the call is
// placed from ({table, key, name}) and its call target ({phone, number, label}).
export function PhoneLink({ record, target, compact }) {
  const onClick = (e) => {
    e.preventDefault();
    placeCall({ ...record, phone: target.phone, number: target.number });
  };
  const canCall = getState().me?.can_handle_calls;
  return html`<a class="phone-link ${compact ? 'compact' : ''}" href=${`tel:${target.number.replace(/[^\d+]/g, '')}`}
    onClick=${onClick} data-call=${target.phone}
    title=${canCall ? `Call ${record.name || ''} (${target.label})` : 'You do not hold the roles to place calls'}
    aria-label=${`Call ${record.name ? `${record.name}, ` : ''}${target.label.toLowerCase()} ${target.number}`}>
    <svg class="icon" viewBox="0 0 20 20" aria-hidden="true"><path d="M6.6 3.2c.6-.5 1.5-.4 2 .2l1.2 1.6c.5.6.4 1.5-.1 2l-.8.8c.7 1.4 1.8 2.5 3.2 3.2l.8-.8c.6-.6 1.4-.6 2-.1l1.6 1.2c.6.5.7 1.4.2 2l-.9 1c-.7.7-1.8 1-2.8.6-3.4-1.2-6.1-3.9-7.3-7.3-.3-1 0-2.1.7-2.8z"/></svg>
    <span>${target.number}</span>${!compact && html`<span class="phone-kind">${target.label.replace(' phone', '')}</span>`}</a>`;
}

// Phones of a record, or the plain values when there is nothing to call.
export function Phones({ record, targets }) {
  if (!targets?.length) return html`<span class="muted">No phone number</span>`;
  return html`<span class="phones">${targets.map((t) => html`<${PhoneLink} record=${record} target=${t} />`)}</span>`;
}

export function PageHeader({ title, kicker, children }) {
  return html`<header class="page-header">
    <div>${kicker && html`<p class="kicker">${kicker}</p>`}<h1>${title}</h1></div>
    <div class="page-actions">${children}</div></header>`;
}
