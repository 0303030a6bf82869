// The softphone's state machine, driven by the event stream and by the
// agent's clicks. The audio is on the agent's SIP phone, or in this browser
// (rtc.js: Accept, Reject, Mute and End call then act on the browser's leg);
// this controls the call through the API (POST /api/v1/calls, /api/v1/calls/{n}/{action},
// POST /api/v1/agents/{u}/clear) and shows what the server reports.
//
//   idle ─offer→ offer ─accept→ (phone answers) ─presence Busy→ connected
//   idle ─click-to-call→ dialing ─call connected / presence Busy→ connected
//   connected ─End call / hang-up→ wrapup (AfterCallWork) ─Clear contact→ idle
//   dialing ─failed / FailedConnectAgent→ failed ─presence Available→ idle
import { ApiError, get, post, query } from './api.js';
import { acceptLeg, hangupLeg, legOfCall, muteLeg, rejectLeg } from './rtc.js';
import { getState, setState, toast } from './state.js';
import { learnNames, loadRoster, onTransferEvent } from './transfer.js';

const patch = (p) => setState((s) => ({ call: { ...s.call, ...p } }));
// The call is over for this softphone: its roster goes with it.
const reset = () => setState({ call: { phase: 'idle' }, calls: {} });

function digits(n) { return String(n || '').replace(/\D/g, ''); }

// Screen pop: the records whose phone is the caller's, added to those the
// panel already shows (the offer's).
export async function screenPop(number, interaction) {
  if (digits(number).length < 4) { patch({ records: getState().call.records || [] }); return; }
  const tables = [['incident', 'incidents'], ['case', 'cases'], ['contact', 'contacts'], ['consumer', 'consumers']];
  const found = [];
  await Promise.all(tables.map(async ([table, api]) => {
    try {
      const r = await get(`/api/v1/${api}${query({ phone: digits(number), limit: 5 })}`);
      for (const rec of r[api] || []) found.push({ table, rec });
    } catch { /* a table we may not read: leave it out */ }
  }));
  const c = getState().call;
  if (c.interaction !== interaction && c.interaction) return;
  const have = c.records || [];
  const known = new Set(have.map((r) => `${r.table}:${r.rec.number}`));
  const records = [...have, ...found.filter((r) => !known.has(`${r.table}:${r.rec.number}`))];
  // Caller identification: the name on the first record that has one.
  const party = records.map(({ table, rec }) => (table === 'case' ? rec.contact?.name
    : table === 'incident' ? rec.caller?.name : rec.name)).find(Boolean);
  patch({ records, name: c.name || party || null });
}

async function fillFromInteraction(number) {
  try {
    const ix = await get(`/api/v1/interactions/${number}`);
    const c = getState().call;
    if (c.interaction !== number) return;
    patch({ direction: ix.direction, number: c.number || ix.caller_number, queue: c.queue || ix.queue });
    if (!c.records) screenPop(c.number || ix.caller_number, number);
  } catch { /* the panel still works without the details */ }
}

// The offer's screen pop (EventOffer.records: the caller's user, contact or
// consumer, and the case the flow found) in the panel's {table, rec} form.
function offerRecords(records) {
  return records.filter((r) => r && r.table && r.number).map(({ table, ...rec }) => ({ table, rec }));
}

export function onOffer(m) {
  const fromOffer = Array.isArray(m.records);
  setState({
    call: {
      phase: 'offer', interaction: m.interaction, direction: 'inbound', number: m.caller?.number,
      name: m.caller?.name, user_name: m.caller?.user_name, queue: m.queue, intent: m.intent || null,
      records: fromOffer ? offerRecords(m.records) : null,
      // A transfer from another agent (issue 12): who transfers and why.
      transfer: m.transfer ? { role: 'second', from: m.transfer.from, note: m.transfer.note || '' } : null,
    },
  });
  if (m.transfer) learnNames([m.transfer.from]);
  const party = fromOffer && m.records.find((r) => r.table !== 'case' && r.name);
  if (!m.caller?.name && party) patch({ name: party.name });
  // When the flow found no case (or the offer carries no records), the
  // caller's cases and incidents by their number.
  if (!fromOffer || !m.records.some((r) => r.table === 'case')) screenPop(m.caller?.number, m.interaction);
}

export function onPresence(m) {
  const c = getState().call;
  switch (m.to) {
    case 'CallingCustomer':
      patch({ phase: 'dialing', interaction: m.interaction || c.interaction, direction: 'outbound' });
      break;
    case 'Busy': {
      const same = c.interaction && c.interaction === m.interaction;
      setState({
        call: {
          ...(same || c.phase === 'offer' || c.phase === 'dialing' ? c : {}),
          phase: 'connected', interaction: m.interaction || c.interaction,
          startedAt: same && c.startedAt ? c.startedAt : Date.parse(m.at) || Date.now(),
          direction: c.direction || 'inbound',
        },
      });
      if (m.interaction && (!c.number || !same)) fillFromInteraction(m.interaction);
      break;
    }
    case 'AfterCallWork':
      patch({ phase: 'wrapup', endedAt: Date.parse(m.at) || Date.now(), held: false, muted: false, keypad: false, xferNotice: null });
      setState({ calls: {} });
      break;
    case 'FailedConnectAgent':
      patch({ phase: 'failed', detail: c.detail || m.reason || 'The call did not go through.' });
      break;
    case 'Missed':
      if (c.phase === 'offer') toast(`You missed a call from ${c.name || c.number || 'a caller'}.`, 'warning');
      reset();
      break;
    case 'Available':
      // An offer goes only to an Available agent, and the server can send it
      // before the Available change that made it possible (the routing engine
      // offers at once; the presence event follows its commit). So Available
      // never ends an offer: Busy, Missed, Away or Offline do.
      if (c.phase !== 'idle' && c.phase !== 'offer') reset();
      break;
    default:
      if (c.phase !== 'idle') reset();
  }
}

const PROGRESS = {
  agent_ringing: 'Ringing your phone…',
  agent_answered: 'Your phone answered. Calling the customer…',
  customer_ringing: 'The customer’s phone is ringing…',
};

export function onCallEvent(m) {
  const c = getState().call;
  if (c.interaction && m.interaction !== c.interaction && c.phase !== 'dialing') return;
  if (onTransferEvent(m)) return;
  switch (m.event) {
    case 'agent_ringing': case 'agent_answered': case 'customer_ringing':
      patch({ interaction: m.interaction, progress: PROGRESS[m.event] });
      break;
    case 'connected':
      patch({ phase: 'connected', interaction: m.interaction, startedAt: c.startedAt || Date.parse(m.at) || Date.now() });
      break;
    case 'failed':
      patch({ phase: 'failed', detail: m.detail || 'The call did not go through.' });
      break;
    case 'hold': patch({ held: true, xferNotice: null }); break;
    case 'resume': patch({ held: false, xferNotice: null }); break;
    case 'mute': patch({ muted: true }); break;
    case 'unmute': patch({ muted: false }); break;
    case 'no_audio': patch({ noAudio: m.detail }); break; // "agent" or "customer"
    default: break;
  }
}

// Click-to-call from a form: target = { table, key, phone, number, name }.
export async function placeCall(target) {
  const s = getState();
  if (s.call.phase !== 'idle') {
    toast('Finish the current call (and Clear contact) before placing another.', 'warning');
    return;
  }
  setState({
    call: {
      phase: 'dialing', direction: 'outbound', number: target.number, name: target.name,
      target, progress: 'Placing the call…',
      // The record the call is placed from (a case or incident: its title).
      records: [{ table: target.table, rec: { number: target.key, name: target.title || target.name, short_description: target.title } }],
    },
  });
  try {
    const r = await post('/api/v1/calls', { record: { table: target.table, key: target.key }, phone: target.phone });
    const c = getState().call;
    if (c.phase === 'dialing' && !c.interaction) patch({ interaction: r.interaction });
  } catch (e) {
    reset();
    toast(e.status === 404 && e.code === 'not_found' && /no route/.test(e.message)
      ? 'Click-to-call is not available on this server yet.'
      : `The call could not be placed: ${e.message}`);
  }
}

// What the browser's own leg does for a control (the browser is the
// phone): Accept answers here, Reject declines, Mute silences the
// microphone, End call hangs up as a SIP phone's BYE would. True when done.
async function browserControl(action) {
  const leg = legOfCall(getState());
  if (!leg) return false;
  switch (action) {
    case 'accept':
      if (leg.phase !== 'ringing') return true;
      patch({ busy: action });
      if (await acceptLeg(leg.leg)) patch({ accepted: 'browser' });
      patch({ busy: null });
      return true;
    case 'reject':
      rejectLeg(leg.leg);
      reset();
      return true;
    case 'mute': case 'unmute':
      muteLeg(leg.leg, action === 'mute');
      patch({ muted: action === 'mute' });
      return true;
    case 'end':
      if (leg.phase === 'ringing') return false;
      hangupLeg(leg.leg);
      return true;
    default:
      return false; // hold, resume, the keypad: the server's, as for a SIP phone
  }
}

// A call control (accept, reject, hold, resume, mute, unmute, dtmf, end).
export async function control(action, body) {
  if (await browserControl(action)) return;
  const c = getState().call;
  if (!c.interaction) return;
  patch({ busy: action });
  try {
    await post(`/api/v1/calls/${c.interaction}/${action}`, body);
    if (action === 'hold' || action === 'resume') patch({ held: action === 'hold', xferNotice: null });
    if (action === 'mute' || action === 'unmute') patch({ muted: action === 'mute' });
    if (action === 'reject') reset();
    // The server re-rings the phone with auto-answer; one that ignores it
    // rings again and the agent answers there. Busy then shows the call.
    if (action === 'accept' && getState().call.phase === 'offer') patch({ accepted: true });
  } catch (e) {
    const LABEL = { accept: 'Accept', reject: 'Reject', hold: 'Hold', resume: 'Resume', mute: 'Mute',
      unmute: 'Unmute', dtmf: 'The keypad', end: 'End call' };
    toast(e.code === 'not_found' && /no route/.test(e.message)
      ? 'Call controls are not available on this server yet.'
      : `${LABEL[action] || 'That'} did not work: ${e.message}`);
  } finally {
    patch({ busy: null });
  }
}

export async function clearContact(note, wrapUpCode) {
  const me = getState().me;
  try {
    await post(`/api/v1/agents/${me.user_name}/clear`, { note, wrap_up_code: wrapUpCode });
    reset();
    return true;
  } catch (e) {
    toast(e instanceof ApiError ? e.message : String(e));
    return false;
  }
}

// After a reload: the softphone from the agent's presence.
export function restoreFromAgent(agent) {
  if (!agent) return;
  const at = Date.parse(agent.since) || Date.now();
  if (agent.presence === 'Busy' && agent.interaction) {
    setState({ call: { phase: 'connected', interaction: agent.interaction, startedAt: at } });
    fillFromInteraction(agent.interaction);
    loadRoster(agent.interaction); // a transfer in progress shows again
  } else if (agent.presence === 'AfterCallWork') {
    setState({ call: { phase: 'wrapup', interaction: agent.interaction, endedAt: at } });
    if (agent.interaction) fillFromInteraction(agent.interaction);
  } else if (agent.presence === 'CallingCustomer') {
    setState({ call: { phase: 'dialing', interaction: agent.interaction, direction: 'outbound' } });
  }
}
