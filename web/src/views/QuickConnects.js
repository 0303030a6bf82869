// Quick connects (SPEC.md §6, issue 12): where the agent on a call can
// transfer it — agents (with their presence; those who cannot take a
// transfer greyed with the reason), queues (callers waiting, the longest
// wait) and external numbers. Keyboard first: the search box has the focus,
// typing filters, Up/Down move through the entries that can be picked,
// Enter picks, Escape closes. Picking asks warm or blind (warm by default)
// and an optional note for the next agent, then transfers.
import { html } from 'htm/preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { duration, presenceLabel, phoneDisplay } from '../format.js';
import { loadQuickConnects, quickConnectEntries, startTransfer } from '../transfer.js';
import { PresenceBadge } from './common.js';

const GROUPS = [['agent', 'Agents'], ['queue', 'Queues'], ['external', 'External numbers']];
const NOTE_MAX = 120; // the server keeps up to 127 bytes

// The lists, read when the panel opens, again (debounced) as the agent types
// (the server filters too), and every 5 s while it stays open: agents'
// presence changes, and an agent's event stream does not carry others'.
// The last lists read show at once when the panel opens again.
let lastData = null;
function useQuickConnects(text) {
  const [st, setSt] = useState({ data: lastData, error: null, fresh: false });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 5000);
    return () => clearInterval(t);
  }, []);
  useEffect(() => {
    let live = true;
    const t = setTimeout(() => loadQuickConnects(text.trim()).then(
      (data) => { if (!text.trim()) lastData = data; if (live) setSt({ data, error: null, fresh: true }); },
      (error) => live && setSt((s) => ({ ...s, error, fresh: true })),
    ), st.fresh ? 200 : 0);
    return () => { live = false; clearTimeout(t); };
  }, [text, tick]);
  return st;
}

function Entry({ e, active, onPick }) {
  const meta = e.kind === 'agent'
    ? html`<${PresenceBadge} presence=${e.item.presence} />${e.disabled && e.item.reason
      ? html`<span class="qc-reason">${e.item.reason}</span>` : ''}`
    : e.kind === 'queue'
      ? html`<span class="qc-meta" data-waiting=${e.item.waiting}>${e.item.waiting} waiting${e.item.waiting
        ? ` · longest ${duration(e.item.longest_wait_s || 0)}` : ''}</span>`
      : html`<span class="qc-meta">${phoneDisplay(e.item.number)}</span>`;
  const why = e.disabled ? `${e.label}: cannot take a transfer${e.item.reason ? ` (${e.item.reason})` : ''}`
    : e.kind === 'agent' ? `${e.label}, ${presenceLabel(e.item.presence)}` : undefined;
  return html`<li role="option" id=${`qc-${e.key.replace(/[^\w-]/g, '_')}`} class="qc-entry ${active ? 'qc-active' : ''}"
    data-key=${e.key} aria-selected=${active ? 'true' : 'false'} aria-disabled=${e.disabled ? 'true' : undefined}
    aria-label=${why} onMouseDown=${(ev) => ev.preventDefault()} onClick=${() => !e.disabled && onPick(e)}>
    <span class="qc-name">${e.label}${e.kind === 'queue' ? html`<span class="qc-kind"> queue</span>` : ''}</span>
    <span class="qc-right">${meta}</span></li>`;
}

// Step two: warm or blind, and a note; Enter transfers, Back returns.
// A warm transfer to an external number is not built in the server yet (it
// answers 501): for a number, blind is chosen and warm is unavailable.
function Confirm({ entry, interaction, onBack, onDone }) {
  const external = entry.kind === 'external';
  const [mode, setMode] = useState(external ? 'blind' : 'warm');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const first = useRef(null);
  // Focused as it appears (not after the paint): a key pressed at once lands here.
  useLayoutEffect(() => { (external ? first.current?.form?.elements['qc-mode'][1] : first.current)?.focus(); }, []);
  const who = entry.kind === 'agent' ? entry.label.split(' ')[0] : entry.kind === 'queue' ? `the ${entry.label} queue` : entry.label;
  const submit = async (e) => {
    e?.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await startTransfer(interaction, entry.to, mode, note.trim());
      onDone();
    } catch (err) {
      setError(err.message || String(err));
      setBusy(false);
    }
  };
  // Enter transfers from any field of the form (the radios too).
  const onKeyDown = (e) => {
    if (e.key === 'Enter' && !e.shiftKey && e.target.tagName !== 'BUTTON') submit(e);
  };
  const hint = mode === 'warm'
    ? (entry.kind === 'agent' ? `You talk with ${who} first; the customer waits on hold with music.`
      : entry.kind === 'queue' ? `The customer waits in ${who} on hold; you stay on until an agent there takes the call.`
      : `You talk with ${who} first; the customer waits on hold with music.`)
    : (entry.kind === 'queue' ? `The customer waits in ${who}; you leave the call now.`
      : `The call goes to ${who} and you leave it now.`);
  return html`<form class="qc-confirm" onSubmit=${submit} onKeyDown=${onKeyDown} aria-label=${`Transfer to ${entry.label}`}>
    <p class="qc-to">Transfer to <strong data-transfer-to>${entry.label}</strong>${entry.kind === 'queue' ? ' queue' : ''}</p>
    <fieldset class="qc-mode"><legend>How</legend>
      <label class=${external ? 'qc-off' : ''}><input type="radio" name="qc-mode" value="warm" ref=${first} checked=${mode === 'warm'}
        disabled=${external} onChange=${() => setMode('warm')} /> Warm <span class="qc-sub">${external ? 'not available for external numbers yet' : 'talk first'}</span></label>
      <label><input type="radio" name="qc-mode" value="blind" checked=${mode === 'blind'}
        onChange=${() => setMode('blind')} /> Blind <span class="qc-sub">hand over and leave</span></label>
    </fieldset>
    <p class="sp-hint qc-hint">${hint}</p>
    <label for="qc-note">${external ? 'Note for the activity stream' : `Note for ${entry.kind === 'agent' ? who : 'the next agent'}`} (optional)</label>
    <input id="qc-note" maxlength=${NOTE_MAX} value=${note} onInput=${(e) => setNote(e.target.value)}
      placeholder="Why you transfer" autocomplete="off" />
    ${error && html`<div class="notice notice-error" role="alert" data-transfer-error>${error}</div>`}
    <div class="controls">
      <button class="btn btn-quiet" type="button" onClick=${onBack}>Back</button>
      <button class="btn btn-primary" type="submit" disabled=${busy}>${busy ? 'Transferring…' : 'Transfer'}</button>
    </div></form>`;
}

export function QuickConnects({ interaction, onClose }) {
  const [text, setText] = useState('');
  const [activeKey, setActiveKey] = useState(null);
  const [picked, setPicked] = useState(null);
  const [pending, setPending] = useState(false); // Enter pressed before the lists were read
  const { data, error, fresh } = useQuickConnects(text);
  const search = useRef(null);
  const entries = useMemo(() => quickConnectEntries(data, text), [data, text]);
  const pickable = entries.filter((e) => !e.disabled);
  // The active entry stays the one the agent moved to while the lists are
  // re-read; else the first that can be picked.
  const active = pickable.find((e) => e.key === activeKey) || pickable[0] || null;

  useLayoutEffect(() => { if (!picked) search.current?.focus(); }, [picked]);
  // "beth" Enter typed faster than the lists arrive picks what it matches
  // in the lists as read now, not in the last ones shown.
  useEffect(() => {
    if (pending && fresh) { setPending(false); if (active) setPicked(active); }
  }, [pending, fresh]);
  // Escape closes from anywhere in the panel (and the focus goes back to
  // the button that opened it: onClose does that).
  const onPanelKey = (e) => { if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); onClose(); } };

  const move = (d) => {
    if (!pickable.length) return;
    const i = active ? pickable.indexOf(active) : -1;
    const next = pickable[(i + d + pickable.length) % pickable.length];
    setActiveKey(next.key);
    document.getElementById(`qc-${next.key.replace(/[^\w-]/g, '_')}`)?.scrollIntoView({ block: 'nearest' });
  };
  const onSearchKey = (e) => {
    if (e.key === 'ArrowDown') { e.preventDefault(); move(1); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); move(-1); }
    else if (e.key === 'Enter') { e.preventDefault(); if (!fresh) setPending(true); else if (active) setPicked(active); }
  };

  return html`<section class="qc" role="dialog" aria-modal="false" aria-labelledby="qc-h" onKeyDown=${onPanelKey} data-quick-connects>
    <header class="qc-head"><h3 id="qc-h">Quick connects</h3>
      <button class="btn btn-quiet qc-x" type="button" aria-label="Close Quick connects" title="Close (Escape)" onClick=${onClose}>×</button></header>
    ${picked
      ? html`<${Confirm} entry=${picked} interaction=${interaction} onBack=${() => setPicked(null)} onDone=${onClose} />`
      : html`<div class="qc-pick">
        <div class="qc-search"><label for="qc-search" class="sr-only">Search agents, queues and numbers</label>
        <input id="qc-search" ref=${search} type="search" role="combobox" autocomplete="off" spellcheck="false"
          aria-expanded="true" aria-controls="qc-list" aria-autocomplete="list"
          aria-activedescendant=${active ? `qc-${active.key.replace(/[^\w-]/g, '_')}` : undefined}
          placeholder="Agent, queue or number" value=${text}
          onInput=${(e) => { setText(e.target.value); setActiveKey(null); }} onKeyDown=${onSearchKey} /></div>
        ${error && html`<div class="notice notice-error" role="alert">Quick connects cannot be read: ${error.message}</div>`}
        ${!data && !error ? html`<p class="sp-muted" role="status">Loading…</p>`
          : html`<ul id="qc-list" class="qc-list" role="listbox" aria-label="Quick connects">
            ${GROUPS.map(([kind, title]) => {
              const list = entries.filter((e) => e.kind === kind);
              return list.length ? html`<li role="presentation" class="qc-group">${title}</li>
                ${list.map((e) => html`<${Entry} e=${e} active=${active && e.key === active.key} onPick=${setPicked} />`)}` : null;
            })}
            ${!entries.length && html`<li role="presentation" class="sp-muted qc-none">Nothing matches “${text.trim()}”.</li>`}
          </ul>`}
        <p class="qc-keys" aria-hidden="true"><kbd>↑</kbd><kbd>↓</kbd> move · <kbd>Enter</kbd> pick · <kbd>Esc</kbd> close</p>
      </div>`}
  </section>`;
}
