// Transfers in the softphone (SPEC.md §6, issue 12): Quick connects (who and
// where a call can go), the transfer itself, and the live call's roster —
// who is on the call and who is on hold — while it is in progress.
//
// The roster is the server's (GET /api/v1/calls/{n}, and the `call` object
// of every transfer reply), kept in state.calls keyed by interaction, so the
// panel shows the consult and the held customer side by side. It is re-read
// on every transfer event; events after which the server no longer counts
// this agent on the call (left, or a cancelled consult for the second agent)
// drop it instead, since the server would answer 404.
//
//   first agent:  bridged ─transfer→ xfer_ring ─second answers→ consult ─join→ conference
//                 bridged ─transfer to a queue→ xfer_queued ─the queue offers→ xfer_ring …
//                 xfer_queued / xfer_ring / consult ─Cancel transfer→ bridged (customer back)
//                 xfer_ring ─not taken→ bridged (customer still on hold), or back to
//                   xfer_queued for a queue's
//                 consult / conference ─Leave→ (the call is the second's) → AfterCallWork
//   second agent: offer (transfer: from, note) ─Accept→ consult ─Join→ conference
//                 ─the first leaves→ bridged, the call is theirs
import { get, post, query, seg } from './api.js';
import { getState, setState, toast } from './state.js';

// The phases of a call in which a transfer is in progress (the roster shows).
// `xfer_queued`: a transfer to a queue, waiting for an agent there (its name
// is the roster's `queue`); the queue's next agent is offered it (xfer_ring).
export const XFER_PHASES = new Set(['xfer_queued', 'xfer_ring', 'consult', 'conference']);

const patchCall = (p) => setState((s) => ({ call: { ...s.call, ...p } }));

// ---- names for rosters ----------------------------------------------------
let namesAsked = 0;
// Agents' display names for user names a roster or an offer mentions; read
// once from GET /api/v1/agents (again at most every 30 s for a newcomer).
export async function learnNames(userNames) {
  const { names } = getState();
  if (!userNames.some((u) => u && !names[u]) || Date.now() - namesAsked < 30000) return;
  namesAsked = Date.now();
  try {
    const r = await get('/api/v1/agents');
    addNames(r.agents);
  } catch { /* user names are shown instead */ }
}
export function addNames(agents) {
  const add = {};
  for (const a of agents || []) if (a.user_name && a.name) add[a.user_name] = a.name;
  setState((s) => ({ names: { ...s.names, ...add } }));
}
export const nameOf = (user) => (user && getState().names[user]) || user || '';
// "Beth" from "Beth Agent": how the softphone's sentences name a colleague.
export const firstName = (user) => nameOf(user).split(' ')[0];

// ---- the roster ----------------------------------------------------------
const reads = {}; // interaction → sequence of the latest read, so a slow reply cannot undo a newer one

export function setRoster(interaction, roster) {
  reads[interaction] = (reads[interaction] || 0) + 1;
  if (!roster || roster.phase === 'ended') { dropRoster(interaction); return; }
  const me = getState().me?.user_name;
  // Not on it any more (the reply to our own Leave): nothing to show.
  if (roster.agent !== me && roster.second !== me) { dropRoster(interaction); return; }
  setState((s) => ({ calls: { ...s.calls, [interaction]: { ...roster, interaction, at: Date.now() } } }));
  learnNames([roster.agent, roster.second, ...(roster.legs || []).map((l) => l.user_name)]);
  applyHeld(interaction);
}

export function dropRoster(interaction) {
  reads[interaction] = (reads[interaction] || 0) + 1;
  if (!getState().calls[interaction]) return;
  setState((s) => {
    const calls = { ...s.calls };
    delete calls[interaction];
    return { calls };
  });
}

export async function loadRoster(interaction) {
  const n = (reads[interaction] || 0) + 1;
  reads[interaction] = n;
  try {
    const r = await get(`/api/v1/calls/${seg(interaction)}`);
    if (reads[interaction] === n) setRoster(interaction, r);
  } catch (e) {
    if (reads[interaction] === n && e.status === 404) dropRoster(interaction);
  }
}

// Back to a plain call: whether the customer is still on hold is the
// server's (after a transfer that was not taken they are; after a cancel
// they are not), shown as after Hold.
function applyHeld(interaction) {
  const c = getState().call;
  const r = getState().calls[interaction];
  if (c.interaction === interaction && r && r.phase === 'bridged' && c.phase === 'connected') {
    patchCall({ held: !!r.customer_on_hold });
  }
}

// ---- what the softphone shows -------------------------------------------
// The transfer in progress on the softphone's call, from the roster:
// { roster, role: 'first'|'second', phase } or null.
export function transferOf(state) {
  const c = state.call;
  const r = c.interaction && state.calls[c.interaction];
  const me = state.me?.user_name;
  if (!r || !XFER_PHASES.has(r.phase)) return null;
  const role = r.agent === me ? 'first' : r.second === me ? 'second' : null;
  return role ? { roster: r, role, phase: r.phase } : null;
}

// ---- events --------------------------------------------------------------
// The transfer is over and the call is a plain one again with the first
// agent: shown at once (the customer on hold or not, as the event says),
// before the roster read that follows confirms it.
function backToBridged(ix, held) {
  const r = getState().calls[ix];
  if (!r) return;
  setState((s) => ({ calls: { ...s.calls, [ix]: { ...r, phase: 'bridged', second: null, queue: null,
    customer_on_hold: held, legs: (r.legs || []).filter((l) => l.role !== 'consult') } } }));
  applyHeld(ix);
}

const TRANSFER_EVENTS = new Set(['transfer_ringing', 'transfer_queued', 'transfer_accepted', 'consult', 'joined',
  'left', 'transferred', 'transfer_failed', 'transfer_cancelled', 'second_left']);

const FAIL_WORDS = { rejected: 'rejected it', 'no answer': 'did not answer' };

// A `call` event about a transfer, for the softphone's call. Returns false
// for the other call events.
export function onTransferEvent(m) {
  if (!TRANSFER_EVENTS.has(m.event)) return false;
  const s = getState();
  const c = s.call;
  const ix = m.interaction;
  const r = s.calls[ix];
  switch (m.event) {
    case 'left':
      // We left. During the ring (a blind transfer, or Leave before the
      // answer) we are still the call's agent until the second answers;
      // otherwise the call is no longer ours.
      if (r && r.phase === 'xfer_ring' && r.agent === s.me?.user_name) {
        setState((st) => ({ calls: { ...st.calls, [ix]: { ...r, legs: r.legs.filter((l) => l.role !== 'agent') } } }));
      } else {
        dropRoster(ix);
      }
      // detail: the agent the call goes to (or the queue it waits in, the number it rings)
      patchCall({ left: true, leftTo: m.detail || null, xferNotice: null });
      return true;
    case 'transfer_cancelled':
      if (r?.second === s.me?.user_name || (c.transfer?.role === 'second' && r?.agent !== s.me?.user_name)) {
        dropRoster(ix);
        if (c.phase === 'offer') {
          setState({ call: { phase: 'idle' } });
        }
        toast(`${firstName(m.detail) || 'The other agent'} cancelled the transfer.`, 'info', 6000);
        return true;
      }
      patchCall({ xferNotice: { kind: 'info', text: `Transfer to ${m.detail ? nameOf(m.detail) : r?.queue ? `the ${r.queue} queue` : 'the next agent'} cancelled. You are back with the customer.` } });
      backToBridged(ix, false);
      break;
    case 'transfer_failed': {
      // "beth: rejected" / "beth: no answer"
      const [who, ...why] = String(m.detail || '').split(': ');
      const reason = why.join(': ');
      if (c.left) { // we had left: the call ends with it, and stays ours to wrap up
        dropRoster(ix);
        patchCall({ left: false, transfer: null });
        toast(`${nameOf(who) || 'The agent'} did not take the transfer, so the call ended.`, 'warning');
        return true;
      }
      const did = `${nameOf(who) || 'The agent'} ${FAIL_WORDS[reason.replace(/ \(SIP \d+\)$/, '')] || `did not take the transfer${reason ? ` (${reason})` : ''}`}`;
      patchCall({ xferNotice: { kind: 'warning', text: r?.queue
        ? `${did}. The call waits in ${r.queue} for the next agent there.`
        : `${did}. The customer is still on hold: resume the call or transfer again.` } });
      if (!r?.queue) backToBridged(ix, true);
      break;
    }
    case 'second_left':
      patchCall({ xferNotice: { kind: 'info', text: `${nameOf(m.detail)} left the call.` } });
      backToBridged(ix, r?.phase === 'consult'); // after a consult the customer is still on hold
      break;
    case 'transferred':
      patchCall({ transfer: null, xferNotice: { kind: 'success', text: `${nameOf(m.detail)} left: the call is yours now.` } });
      if (r) { // ours at once; the read that follows confirms it
        setState((st) => ({ calls: { ...st.calls, [ix]: { ...r, phase: 'bridged', agent: s.me?.user_name, second: null,
          queue: null, customer_on_hold: false, legs: (r.legs || []).filter((l) => l.role !== 'agent')
            .map((l) => (l.role === 'consult' ? { ...l, role: 'agent' } : l)) } } }));
      }
      break;
    case 'consult':
      patchCall({ transfer: { ...(c.transfer || {}), role: 'second', from: c.transfer?.from || m.detail } });
      break;
    case 'transfer_ringing': case 'transfer_queued': case 'transfer_accepted': case 'joined':
      patchCall({ xferNotice: null });
      break;
    default:
      break;
  }
  loadRoster(ix);
  learnNames([m.detail]);
  return true;
}

// ---- actions -------------------------------------------------------------
// Starts a transfer: to = { agent } | { queue } | { number, quick_connect }
// (a quick connect goes by its id, so the records name it). Throws the
// API's error (its message is shown in the Quick connects panel).
export async function startTransfer(interaction, to, mode, note) {
  const body = { to: to.quick_connect ? { quick_connect: to.quick_connect } : to, mode };
  if (note) body.note = note;
  const n = reads[interaction] || 0;
  const r = await post(`/api/v1/calls/${seg(interaction)}/transfer`, body);
  patchCall({ transfer: { role: 'first', to, mode, note: note || '' }, xferNotice: null, left: mode === 'blind' });
  // The reply's roster, unless an event has had it read since (newer). A
  // blind transfer's reply is the call after our leaving, which the `left`
  // event (maybe already here) cannot tell.
  if (mode === 'blind' || (reads[interaction] || 0) === n) setRoster(interaction, r?.call);
  return r;
}

const STEP_LABEL = { join: 'Join', leave: 'Leave', cancel_transfer: 'Cancel transfer' };

// join, leave or cancel_transfer; a refusal is a toast in the server's words.
export async function transferStep(action) {
  const c = getState().call;
  if (!c.interaction) return;
  patchCall({ busy: action });
  const n = reads[c.interaction] || 0;
  try {
    const r = await post(`/api/v1/calls/${seg(c.interaction)}/${action}`);
    if (action === 'leave') patchCall({ left: true });
    if ((reads[c.interaction] || 0) === n || action === 'leave') setRoster(c.interaction, r?.call);
  } catch (e) {
    toast(`${STEP_LABEL[action]} did not work: ${e.message}`);
    loadRoster(c.interaction);
  } finally {
    patchCall({ busy: null });
  }
}

// ---- Quick connects ------------------------------------------------------
// GET /api/v1/quick-connects?q= → { agents, queues, external }: the other
// agents who may take calls (can_take_transfer, and the reason in the
// server's words when not), the queues (waiting, longest wait) and the
// external numbers an administrator defined.
export async function loadQuickConnects(q = '') {
  const r = await get(`/api/v1/quick-connects${query({ q })}`);
  addNames(r.agents);
  return { agents: r.agents || [], queues: r.queues || [], external: r.external || [] };
}

// Quick connects' entries in one list, filtered by what the agent typed:
// agents (name or user name), queues (name), external numbers (name or
// digits). Each has a key, its kind, the `to` of the transfer and a label.
export function quickConnectEntries(data, text) {
  const t = text.trim().toLowerCase();
  const digits = t.replace(/\D/g, '');
  const has = (...xs) => !t || xs.some((x) => String(x || '').toLowerCase().includes(t));
  const out = [];
  for (const a of data?.agents || []) {
    if (has(a.name, a.user_name)) {
      out.push({ key: `agent:${a.user_name}`, kind: 'agent', to: { agent: a.user_name }, label: a.name || a.user_name, item: a,
        disabled: a.can_take_transfer === false });
    }
  }
  for (const q of data?.queues || []) {
    if (has(q.name, `${q.name} queue`)) out.push({ key: `queue:${q.name}`, kind: 'queue', to: { queue: q.name }, label: q.name, item: q });
  }
  for (const x of data?.external || []) {
    if (has(x.name, x.number) || (digits.length >= 2 && String(x.number).replace(/\D/g, '').includes(digits))) {
      out.push({ key: `external:${x.id ?? x.number}`, kind: 'external', to: { number: x.number, quick_connect: x.id }, label: x.name || x.number, item: x });
    }
  }
  return out;
}
