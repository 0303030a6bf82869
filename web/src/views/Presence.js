// The agent's presence: the current status with time in state, and a menu
// to go Available, Away (with a reason) or Offline. Voice statuses (Busy,
// AfterCallWork…) are set by the server and shown as it reports them.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { put } from '../api.js';
import { presenceClass, presenceLabel, since } from '../format.js';
import { setState, toast, useAppState, useNow } from '../state.js';

const AWAY_REASONS = ['Break', 'Lunch', 'Meeting', 'Training', 'Personal'];

export async function setPresence(me, status, reason) {
  const body = reason ? { status, reason } : { status };
  try {
    const a = await put(`/api/v1/agents/${me.user_name}/presence`, body);
    if (a?.presence) setState((s) => ({ agent: { ...s.agent, ...a } }));
    return true;
  } catch (e) {
    toast(e.message);
    return false;
  }
}

// Arrow keys, Home and End move between the menu's items.
function menuKeys(e) {
  const items = [...e.currentTarget.querySelectorAll('[role=menuitem]')];
  const i = items.indexOf(document.activeElement);
  const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: items.length - 1 }[e.key];
  if (to === undefined) return;
  e.preventDefault();
  items[(to + items.length) % items.length].focus();
}

export function PresenceControl() {
  const { me, agent } = useAppState();
  const now = useNow();
  const [open, setOpen] = useState(false);
  const wrap = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const close = (e) => { if (!wrap.current?.contains(e.target)) setOpen(false); };
    document.addEventListener('mousedown', close);
    wrap.current?.querySelector('[role=menuitem]')?.focus();
    return () => document.removeEventListener('mousedown', close);
  }, [open]);
  if (!agent) return null;

  const choose = async (status, reason) => {
    setOpen(false);
    await setPresence(me, status, reason);
  };
  const p = agent.presence;
  // Escape closes the menu from the button or any item (keydown bubbles here).
  const onKey = (e) => {
    if (e.key !== 'Escape' || !open) return;
    setOpen(false);
    wrap.current?.querySelector('button')?.focus();
  };
  return html`<div class="presence-control" ref=${wrap} onKeyDown=${onKey}>
    <button class="presence-button ${presenceClass(p)}" aria-haspopup="menu" aria-expanded=${open}
      onClick=${() => setOpen(!open)} data-presence=${p}>
      <span class="dot" aria-hidden="true"></span>
      <span class="presence-text"><span class="presence-name">${presenceLabel(p)}${
        p === 'Away' && agent.away_reason ? ` · ${agent.away_reason}` : ''}</span>
      <span class="presence-time" aria-label="time in this status">${since(agent.since, now)}</span></span>
      <svg class="chev" viewBox="0 0 20 20" aria-hidden="true"><path d="M5 7l5 5 5-5"/></svg>
    </button>
    ${open && html`<div class="menu" role="menu" aria-label="Set your presence" onKeyDown=${menuKeys}>
      <button role="menuitem" class="menu-item" onClick=${() => choose('Available')}>
        <span class="dot presence-available" aria-hidden="true"></span>Available</button>
      <div class="menu-group" role="group" aria-label="Away">
        <p class="menu-label">Away</p>
        ${AWAY_REASONS.map((r) => html`<button role="menuitem" class="menu-item"
          onClick=${() => choose('Away', r)}><span class="dot presence-away" aria-hidden="true"></span>Away · ${r}</button>`)}
      </div>
      <button role="menuitem" class="menu-item" onClick=${() => choose('Offline')}>
        <span class="dot presence-offline" aria-hidden="true"></span>Offline</button>
    </div>`}
  </div>`;
}
