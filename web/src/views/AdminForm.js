// Pieces the admin view's sections share: a list read from the API, an
// action with its busy state and the server's error (shown next to the form
// that caused it, never as a generic alert), labelled inputs, and a delete
// button that asks first.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../api.js';
import { toast } from '../state.js';

// GET path and keep r[key] as the rows; load() reads it again. A failed
// re-read keeps the rows shown, with the error beside them.
export function useList(path, key) {
  const [st, setSt] = useState({ rows: null, error: null });
  const load = () => get(path).then((r) => setSt({ rows: r[key], error: null }), (error) => setSt((s) => ({ rows: s.rows, error })));
  useEffect(() => { load(); }, [path]);
  return { ...st, load };
}

// run(fn, ok): runs fn(); on success a short toast (ok: text, or a function
// of fn's result) and returns the result (true for an empty one); on
// failure keeps the ApiError in `error` for <FormError> and returns null.
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function run(fn, ok) {
    setBusy(true);
    setError(null);
    try {
      const r = await fn();
      const text = typeof ok === 'function' ? ok(r) : ok;
      if (text) toast(text, 'success', 3500);
      return r ?? true;
    } catch (e) {
      setError(e);
      return null;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, setError, run };
}

// The server's refusal, as it says it, beside the form (role=alert so a
// screen reader hears it; data-form-error for the tests).
export function FormError({ error, title = 'Not saved' }) {
  if (!error) return null;
  return html`<div class="notice notice-error form-refusal" role="alert" data-form-error>
    <strong>${title}</strong><span>${error.message || String(error)}</span></div>`;
}

// A labelled input (or select / textarea with `as`), with a hint tied to it.
export function Input({ id, label, hint, as = 'input', children, class: cls = '', ...props }) {
  const hintId = hint ? `${id}-hint` : undefined;
  let control;
  if (as === 'select') control = html`<select id=${id} aria-describedby=${hintId} ...${props}>${children}</select>`;
  else if (as === 'textarea') control = html`<textarea id=${id} aria-describedby=${hintId} ...${props}></textarea>`;
  else control = html`<input id=${id} aria-describedby=${hintId} ...${props} />`;
  return html`<div class="fld ${cls}"><label for=${id}>${label}</label>${control}
    ${hint && html`<p class="hint" id=${hintId}>${hint}</p>`}</div>`;
}

// A checkbox with its label after it.
export function Check({ id, label, checked, onChange, disabled, hint }) {
  return html`<div class="check-row"><input type="checkbox" id=${id} checked=${checked} disabled=${disabled}
    onChange=${(e) => onChange(e.target.checked)} aria-describedby=${hint ? `${id}-hint` : undefined} />
    <label for=${id}>${label}</label>${hint && html`<span class="hint" id=${`${id}-hint`}>${hint}</span>`}</div>`;
}

// "Delete" → "Delete X? [Delete] [Cancel]"; the refusal (409 …) stays next
// to it. onConfirm returns a promise; onDone runs after a success.
export function ConfirmDelete({ what, label = 'Delete', onConfirm, onDone, ok }) {
  const [asking, setAsking] = useState(false);
  const act = useAction();
  const go = async () => {
    const r = await act.run(onConfirm, ok || `${what} deleted.`);
    if (r) { setAsking(false); onDone?.(r); }
  };
  return html`<div class="confirm">
    ${asking
      ? html`<div class="confirm-ask" role="group" aria-label=${`Delete ${what}`}>
        <span>Delete ${what}?</span>
        <button type="button" class="btn btn-reject btn-sm" onClick=${go} disabled=${act.busy}>${act.busy ? 'Deleting…' : 'Yes, delete'}</button>
        <button type="button" class="btn btn-quiet btn-sm" onClick=${() => { setAsking(false); act.setError(null); }}>Cancel</button></div>`
      : html`<button type="button" class="btn btn-quiet btn-sm btn-danger" onClick=${() => setAsking(true)}
        aria-label=${`${label} ${what}`}>${label}</button>`}
    <${FormError} error=${act.error} title="Not deleted" /></div>`;
}

// "" → undefined, so optional fields left empty are not sent.
export const opt = (v) => (v === '' || v === undefined || v === null ? undefined : v);
// The body without its undefined fields.
export function clean(o) {
  const r = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) r[k] = v;
  return r;
}

// The side panel of a section: when `key` changes to a value (a row's Edit),
// it is scrolled into view (below the list on a narrow page) and its first
// field gets the focus, so the keyboard goes on from there.
export function useReveal(key) {
  const ref = useRef(null);
  useEffect(() => {
    if (!key || !ref.current) return;
    ref.current.scrollIntoView?.({ block: 'nearest' });
    ref.current.querySelector('input:not([type=checkbox]):not([disabled]), select, textarea')?.focus({ preventScroll: true });
  }, [key]);
  return ref;
}
