// The app's state: one object, replaced on every change, and a hook that
// re-renders a component when it changes. Small enough that every view
// reads what it needs from it directly.
import { useEffect, useReducer } from 'preact/hooks';

// The phone in the browser (rtc.js): the device the agent chose, whether
// the server registered this browser, its calls.
export function initialRtc() {
  return { device: localStorage.getItem('switchboard.phone') === 'browser' ? 'browser' : 'sip', registered: false,
    replaced: false, error: null, legs: {}, out: null };
}

let state = {
  path: location.pathname,
  session: null,   // { token, expires_at, user } from POST /api/v1/login
  me: null,        // GET /api/v1/me
  agent: null,     // the signed-in agent's presence (Agent), live
  agents: {},      // user_name → Agent (everyone, for managers), live
  // the managers' live figures, from the event stream (wallboard.js)
  wallboard: { ready: false, dayStart: null, queues: {}, calls: {}, alerts: {}, feed: [] },
  call: { phase: 'idle' }, // the softphone (calls.js)
  rtc: initialRtc(), // the browser as a phone (rtc.js)
  calls: {},       // interaction → its live call's roster (GET /api/v1/calls/{n}: phase,
                   // agent, second, customer_on_hold, queue, legs), while a transfer shows it
  names: {},       // user_name → name of agents, for rosters (transfer.js)
  flash: null,     // a message for the sign-in page (session expired…)
  toasts: [],      // { id, kind, text }
  live: 'connecting', // the event stream: connecting | open | closed
  inboxRev: 0,     // bumped when the agent's interactions change
};
const subs = new Set();

export const getState = () => state;

export function setState(patch) {
  const p = typeof patch === 'function' ? patch(state) : patch;
  state = { ...state, ...p };
  for (const f of subs) f();
}

// The same, with the views told at most once per `ms`: a manager's stream
// at 1,000 calls carries hundreds of messages a second, and each render of
// the wallboard is a table of every live call (docs/WALLBOARD.md).
let soon = null;
export function setStateSoon(patch, ms = 200) {
  const p = typeof patch === 'function' ? patch(state) : patch;
  state = { ...state, ...p };
  if (!soon) soon = setTimeout(() => { soon = null; for (const f of subs) f(); }, ms);
}

export function useAppState() {
  const [, force] = useReducer((x) => x + 1, 0);
  useEffect(() => {
    subs.add(force);
    return () => subs.delete(force);
  }, []);
  return state;
}

// Navigation: pushState, and the app re-renders from state.path.
export function navigate(path, { replace = false } = {}) {
  if (path === state.path && !replace) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  setState({ path });
  window.scrollTo(0, 0);
}
addEventListener('popstate', () => setState({ path: location.pathname }));

let toastId = 0;
export function toast(text, kind = 'error', ms = 6000) {
  const id = ++toastId;
  setState((s) => ({ toasts: [...s.toasts, { id, kind, text }] }));
  setTimeout(() => dismissToast(id), ms);
}
export function dismissToast(id) {
  setState((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
}

// Ticks once a second for timers (time in state, call duration).
export function useNow(ms = 1000) {
  const [, force] = useReducer((x) => x + 1, 0);
  useEffect(() => {
    const t = setInterval(force, ms);
    return () => clearInterval(t);
  }, [ms]);
  return Date.now();
}

export const hasRole = (me, r) => !!me?.roles?.includes(r);
export const isManager = (me) => hasRole(me, 'voice_manager') || hasRole(me, 'admin');
export const isAgent = (me) => !!me?.is_agent;
export const isAdmin = (me) => hasRole(me, 'admin');
// Where a user lands after sign-in (issue 10): agents on the inbox,
// managers on the live view, an administrator who is neither on the admin view,
// anyone else (a customer like the demo's amy) on "Call us" (issue 15).
export function homeOf(me) {
  if (isAgent(me)) return '/';
  if (hasRole(me, 'voice_manager')) return '/manager';
  if (isAdmin(me)) return '/admin/users';
  return '/call';
}
