// The softphone panel: the offer with the caller and their records (screen
// pop), Accept / Reject, the live call with Hold, Mute, Keypad and End call,
// the recording notice of outbound calls, and wrap-up with Clear contact.
// Transfers (issue 12): Quick connects on a connected call, INTERNAL-TRANSFER
// with the call's roster while one is in progress (Transfer.js), and the
// second agent's offer saying from whom and why. The phone in the browser
// (issue 15): the device choice in the header, Accept answering here, the
// microphone's level, audio settings and the call quality (Phone.js).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, post, query, seg } from '../api.js';
import { clearContact, control } from '../calls.js';
import { dateTime, duration, interactionPath, phoneDisplay, presenceLabel, recordPath, STATE_LABELS, TABLES } from '../format.js';
import { setState, toast, useAppState, useNow } from '../state.js';
import { acceptLeg, legOfCall, micOf, rejectLeg } from '../rtc.js';
import { nameOf, transferOf } from '../transfer.js';
import { AudioSettings, DeviceChoice, LevelMeter, MicError, QualityNotice } from './Phone.js';
import { QuickConnects } from './QuickConnects.js';
import { TransferPanel } from './Transfer.js';

// A note on the interaction while the call goes on (issue 10): it goes to
// the activity stream at once, with its time; up to 2,000 characters.
export function CallNote({ interaction }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const add = async (e) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    try {
      await post(`/api/v1/interactions/${encodeURIComponent(interaction)}/notes`, { text: text.trim() });
      setText('');
      toast('Note added to the interaction.', 'success', 3000);
      setState((s) => ({ inboxRev: s.inboxRev + 1 }));
    } catch (err) {
      toast(`The note was not added: ${err.message}`);
    }
    setBusy(false);
  };
  const onKeyDown = (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) add(e); };
  return html`<form class="sp-note" onSubmit=${add} onKeyDown=${onKeyDown}>
    <label for="call-note">Note on the interaction</label>
    <textarea id="call-note" rows="2" maxlength="2000" value=${text} onInput=${(e) => setText(e.target.value)}
      placeholder="What the customer says, what you promised…"></textarea>
    <button class="btn btn-quiet" type="submit" disabled=${busy || !text.trim()}>${busy ? 'Adding…' : 'Add note'}</button></form>`;
}

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

// Keyboard first (issue 10): Alt + a letter presses the softphone's button
// that carries it (data-key), whatever has the focus; "?" (outside a text
// field) shows them all. Alt + letter, not Ctrl, so the browser's own
// shortcuts (Ctrl+R, Ctrl+W …) stay as they are.
export const SHORTCUTS = [
  ['a', 'Accept an incoming call'], ['r', 'Reject an incoming call'], ['h', 'Hold or resume'],
  ['m', 'Mute or unmute'], ['k', 'Show or hide the keypad'], ['e', 'End call'], ['c', 'Clear contact (submit the wrap-up)'],
  ['q', 'Quick connects: transfer the call'], ['j', 'Join: bring the customer in (a transfer to you)'],
  ['l', 'Leave a transfer or three-party call'], ['x', 'Cancel the transfer'],
];
const tip = (label, k) => ({ title: `${label} (Alt+${k.toUpperCase()})`, 'aria-keyshortcuts': `Alt+${k.toUpperCase()}`, 'data-key': k });

function typing(el) {
  return el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

function useShortcuts(setHelp) {
  useEffect(() => {
    const onKey = (e) => {
      if (e.altKey && !e.ctrlKey && !e.metaKey && /^Key[A-Z]$/.test(e.code)) {
        const btn = document.querySelector(`.softphone [data-key="${e.code.slice(3).toLowerCase()}"]`);
        if (btn && !btn.disabled) { e.preventDefault(); btn.click(); }
      } else if (e.key === '?' && !typing(e.target) && !e.ctrlKey && !e.altKey) {
        e.preventDefault();
        setHelp((h) => !h);
      } else if (e.key === 'Escape') {
        setHelp(false);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}

function ShortcutHelp({ close }) {
  return html`<div class="sp-help" role="dialog" aria-modal="false" aria-labelledby="sp-help-h">
    <h3 id="sp-help-h">Keyboard shortcuts</h3>
    <dl>${SHORTCUTS.map(([k, what]) => html`<div class="sp-help-row"><dt><kbd>Alt</kbd>+<kbd>${k.toUpperCase()}</kbd></dt><dd>${what}</dd></div>`)}
      <div class="sp-help-row"><dt><kbd>Ctrl</kbd>+<kbd>Enter</kbd></dt><dd>Submit the wrap-up (in the note)</dd></div>
      <div class="sp-help-row"><dt><kbd>↑</kbd> <kbd>↓</kbd> <kbd>Enter</kbd></dt><dd>In Quick connects: move, pick (type to filter; <kbd>Esc</kbd> closes)</dd></div>
      <div class="sp-help-row"><dt><kbd>?</kbd></dt><dd>Show or hide this list</dd></div></dl>
    <button class="btn btn-quiet" onClick=${close}>Close</button></div>`;
}
// The wrap-up codes of the call's queue (an administrator's list); a call
// with no queue, or a queue without codes, takes any code as typed.
function useWrapCodes(queue) {
  const [codes, setCodes] = useState(null);
  useEffect(() => {
    let live = true;
    setCodes(null);
    if (queue) {
      get(`/api/v1/queues/${seg(queue)}`).then((q) => live && setCodes(q.wrap_up_codes || []))
        .catch(() => live && setCodes([]));
    } else {
      setCodes([]);
    }
    return () => { live = false; };
  }, [queue]);
  return codes;
}

function recordTitle({ table, rec }) {
  if (table === 'incident' || table === 'case') return rec.short_description;
  return rec.name;
}

function ScreenPop({ records }) {
  if (records === null || records === undefined) return html`<p class="sp-muted">Looking up the caller’s records…</p>`;
  if (!records.length) return html`<p class="sp-muted">No records match this number.</p>`;
  return html`<ul class="sp-records" aria-label="Matched records">
    ${records.map((r) => html`<li><a href=${recordPath(r.table, r.rec.number)}>
      <span class="sp-table">${TABLES[r.table].label} ${r.rec.number}</span>
      <span class="sp-title">${recordTitle(r)}</span></a></li>`)}</ul>`;
}

function Caller({ call }) {
  const title = call.name || (call.number && phoneDisplay(call.number)) || 'Unknown caller';
  return html`<div class="sp-caller">
    <div class="avatar" aria-hidden="true">${(call.name || '#').slice(0, 1).toUpperCase()}</div>
    <div><p class="sp-name" data-caller>${title}</p>
      <p class="sp-sub">${[call.name && call.number && phoneDisplay(call.number), call.queue && `Queue ${call.queue}`,
        call.intent && `Chose ${call.intent}`,
        call.direction === 'outbound' ? 'Outbound' : call.direction === 'inbound' ? 'Inbound' : null]
        .filter(Boolean).join(' · ')}</p></div></div>`;
}

// The customer's history (issue 10): their earlier interactions by number,
// with when, who, how it ended and the last note, newest first.
export function History({ number, current }) {
  const [rows, setRows] = useState(null);
  useEffect(() => {
    let live = true;
    setRows(null);
    if (String(number || '').replace(/\D/g, '').length < 4) { setRows([]); return undefined; }
    get(`/api/v1/interactions${query({ phone: number, limit: 6 })}`)
      .then((r) => live && setRows(r.interactions.filter((ix) => ix.number !== current).slice(0, 5)),
        () => live && setRows([]));
    return () => { live = false; };
  }, [number, current]);
  if (rows === null) return html`<p class="sp-muted">Looking up earlier calls…</p>`;
  if (!rows.length) return html`<p class="sp-muted">No earlier calls from this number.</p>`;
  return html`<ul class="sp-history" aria-label="Earlier calls">${rows.map((ix) => html`<li data-history=${ix.number}>
    <a href=${interactionPath(ix.number)}>${dateTime(ix.opened_at)}</a>
    <span class="sp-sub">${[ix.direction === 'outbound' ? 'Outbound' : 'Inbound', ix.agent || 'no agent',
      ix.close_reason === 'caller_hangup' ? 'caller hung up' : STATE_LABELS[ix.state]].join(' · ')}</span>
    ${ix.last_note && html`<span class="sp-note-text">“${ix.last_note}”</span>`}</li>`)}</ul>`;
}

function Keypad() {
  const [sent, setSent] = useState('');
  const press = (k) => { setSent((s) => (s + k).slice(-16)); control('dtmf', { digits: k }); };
  return html`<div class="keypad" role="group" aria-label="Keypad">
    <output class="keypad-out" aria-live="polite">${sent || '\u00a0'}</output>
    <div class="keypad-grid">${KEYS.map((k) => html`<button class="key" onClick=${() => press(k)}
      aria-label=${`Send ${k === '*' ? 'star' : k === '#' ? 'pound' : k}`}>${k}</button>`)}</div></div>`;
}

// A transfer's outcome on the first agent's call (not taken, cancelled, the
// second agent left) or the second agent's (the call is theirs now).
function XferNotice({ n }) {
  if (!n) return null;
  return html`<div class="notice notice-${n.kind === 'warning' ? 'warning' : n.kind === 'success' ? 'success' : 'info'}" role="status" data-xfer-notice>${n.text}</div>`;
}

// The call while a transfer is in progress: the caller, INTERNAL-TRANSFER
// with the roster and its buttons, the note box and the screen pop.
function Transferring({ call, x, now, me }) {
  return html`<div class="sp-body">
    <${TransferPanel} x=${x} call=${call} me=${me} now=${now} />
    <${Caller} call=${call} />
    ${x.role === 'first' && call.interaction && html`<${CallNote} interaction=${call.interaction} />`}
    <h3 class="sp-h">Caller’s records</h3>
    <${ScreenPop} records=${call.records} />
    ${x.role === 'first' && call.interaction && html`<a class="sp-link" href=${interactionPath(call.interaction)}>Open interaction ${call.interaction}</a>`}
  </div>`;
}

function Connected({ call, now }) {
  const t = call.startedAt ? duration((now - call.startedAt) / 1000) : '0:00';
  const closeQc = () => {
    call.setQc(false);
    setTimeout(() => document.querySelector('.softphone [data-key="q"]')?.focus(), 0);
  };
  return html`<div class="sp-body">
    <div class="sp-status ${call.held ? 'sp-status-held' : ''}" data-held=${call.held ? 'true' : 'false'}><span class="live-dot" aria-hidden="true"></span>
      <span>${call.held ? 'On hold' : 'Connected'}</span>
      <span class="sp-timer" data-timer aria-label="call duration">${t}</span></div>
    <${Caller} call=${call} />
    ${call.noAudio && html`<div class="notice notice-warning" role="alert" data-no-audio=${call.noAudio}>${call.noAudio === 'agent'
      ? 'No audio is arriving from your phone: the customer cannot hear you. Check your phone\u2019s network settings (for baresip: net_interface 127.0.0.1 on this demo).'
      : 'No audio is arriving from the customer: you may not hear them. Their phone or network may be blocking audio.'}</div>`}
    <div class="chips">
      <span class="chip chip-rec" title="Calls are recorded"><span class="rec-dot" aria-hidden="true"></span>Recording</span>
      ${call.muted && html`<span class="chip chip-warn">Muted</span>`}
      ${call.held && html`<span class="chip chip-warn">Customer on hold</span>`}
    </div>
    ${call.qc ? html`<${QuickConnects} interaction=${call.interaction} onClose=${closeQc} />`
      : html`<div class="controls" role="group" aria-label="Call controls">
      <button class="ctl" aria-pressed=${!!call.muted} disabled=${!!call.busy} ...${tip(call.muted ? 'Unmute' : 'Mute', 'm')}
        onClick=${() => control(call.muted ? 'unmute' : 'mute')}>${call.muted ? 'Unmute' : 'Mute'}</button>
      <button class="ctl" aria-pressed=${!!call.held} disabled=${!!call.busy} ...${tip(call.held ? 'Resume' : 'Hold', 'h')}
        onClick=${() => control(call.held ? 'resume' : 'hold')}>${call.held ? 'Resume' : 'Hold'}</button>
      <button class="ctl" aria-expanded=${!!call.keypad} ...${tip('Keypad', 'k')}
        onClick=${() => call.setKeypad(!call.keypad)}>Keypad</button>
      <button class="ctl" aria-expanded=${!!call.qc} aria-haspopup="dialog" disabled=${!call.interaction} ...${tip('Quick connects: transfer the call', 'q')}
        onClick=${() => (call.qc ? closeQc() : call.setQc(true))}>Quick connects</button>
      <button class="ctl ctl-end" ...${tip('End call', 'e')} onClick=${() => control('end')}>End call</button>
    </div>`}
    ${call.leg && html`<${BrowserAudio} leg=${call.leg} muted=${call.muted} />`}
    <${XferNotice} n=${call.xferNotice} />
    ${call.keypad && !call.qc && html`<${Keypad} />`}
    ${call.interaction && html`<${CallNote} interaction=${call.interaction} />`}
    <h3 class="sp-h">Caller’s records</h3>
    <${ScreenPop} records=${call.records} />
    <h3 class="sp-h">Earlier calls</h3>
    <${History} number=${call.number} current=${call.interaction} />
    ${call.interaction && html`<a class="sp-link" href=${interactionPath(call.interaction)}>Open interaction ${call.interaction}</a>`}
  </div>`;
}

// The call's audio in this browser: the microphone's level, the quality
// when it is poor, and the microphone and speaker to use.
function BrowserAudio({ leg, muted }) {
  const [open, setOpen] = useState(false);
  return html`<div class="sp-audio" data-browser-leg=${leg.phase}>
    <div class="sp-audio-row"><${LevelMeter} stream=${micOf(leg.leg)} muted=${muted} />
      <button class="btn btn-quiet btn-small" aria-expanded=${open} onClick=${() => setOpen(!open)}>Audio</button></div>
    ${leg.phase === 'connecting' && html`<p class="sp-progress" role="status">Connecting the audio…</p>`}
    <${QualityNotice} q=${leg.quality} failed=${leg.failed} />
    ${open && html`<${AudioSettings} />`}</div>`;
}

function Wrapup({ call, now }) {
  const codes = useWrapCodes(call.queue);
  // After a transfer to an agent or a queue the interaction is the next
  // agent's (or waits in the queue for one); every agent who took part may
  // still open it (the server's rule), so the link stays. After a blind
  // transfer to an external number it stays this agent's.
  const handedOver = call.left && call.transfer?.role === 'first' && !call.transfer.to?.number;
  // A second agent whose part ended before the call became theirs (they
  // left, or the transfer was cancelled): the interaction is the first's.
  const helped = call.transfer?.role === 'second';
  const handedTo = handedOver && (call.transfer.to?.agent || (call.leftTo && call.leftTo !== call.transfer.to?.queue ? call.leftTo : null));
  const [code, setCode] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    await clearContact(note.trim(), code);
    setBusy(false);
  };
  // Ctrl+Enter (or Cmd+Enter) in the form submits it, as in a chat box.
  const onKeyDown = (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit(e); };
  return html`<form class="sp-body" onSubmit=${submit} onKeyDown=${onKeyDown}>
    <div class="sp-status sp-status-ended"><span>Call ended</span>
      <span class="sp-timer">${call.endedAt ? `${duration((now - call.endedAt) / 1000)} in wrap-up` : ''}</span></div>
    <${Caller} call=${call} />
    ${handedOver
      ? html`<p class="sp-hint" data-handed-over>${handedTo
        ? `You transferred the call${call.transfer.to?.queue ? ` through ${call.transfer.to.queue}` : ''} to ${nameOf(handedTo)}: the interaction is theirs now. Clear contact adds your note to it; they close it.`
        : `You transferred the call to the ${call.transfer.to?.queue || ''} queue: the agent there who takes it gets the interaction. Clear contact adds your note to it.`}</p>`
      : helped
      ? html`<p class="sp-hint" data-helped>You were on ${nameOf(call.transfer.from) || 'another agent'}’s call: the interaction stays theirs. Clear contact adds your note to it.</p>`
      : call.left && call.transfer?.to?.number
      ? html`<p class="sp-hint" data-handed-over>You transferred the call to ${phoneDisplay(call.transfer.to.number)}. Wrap it up: the interaction stays yours.</p>`
      : html`<p class="sp-hint">Update the record, then clear the contact to take the next call.</p>`}
    <label for="wrap-code">Wrap-up code</label>
    ${codes === null || codes.length
      ? html`<select id="wrap-code" value=${code} disabled=${codes === null} aria-busy=${codes === null}
          onChange=${(e) => setCode(e.target.value)}>
          <option value="">None</option>${(codes || []).map((c) => html`<option value=${c}>${c}</option>`)}</select>`
      : html`<input id="wrap-code" maxlength="63" value=${code} onInput=${(e) => setCode(e.target.value)}
          placeholder=${call.queue ? 'This queue has no list: any code' : 'Any code'} />`}
    <label for="wrap-note">Note for the activity stream</label>
    <textarea id="wrap-note" rows="3" maxlength="2000" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea>
    <button class="btn btn-primary btn-block" type="submit" disabled=${busy} ...${tip('Clear contact', 'c')}>${busy ? 'Clearing…' : 'Clear contact'}</button>
    ${call.interaction && html`<a class="sp-link" href=${interactionPath(call.interaction)}>Open interaction ${call.interaction}</a>`}
  </form>`;
}

function Idle({ agent, me, rtc }) {
  const p = agent?.presence;
  if (me && me.can_handle_calls === false) {
    return html`<div class="sp-body sp-idle"><p class="sp-idle-text" data-no-roles>Your account cannot take or place calls yet.</p>
      <p class="sp-hint">Taking calls needs the roles sn_openframe.user and interaction_agent (or awa_agent and
        awa_integration_user). Ask an administrator to grant them.</p></div>`;
  }
  const browser = rtc.device === 'browser';
  const noPhone = browser ? !rtc.registered : agent && agent.registered === false;
  const text = p === 'Available' && noPhone
    ? (browser ? 'Available, but no call can reach you: this browser is not connected as your phone yet'
      : `Available, but no call can reach you: your SIP phone is not registered (register it as ${agent.user_name || 'your user name'})`)
    : p === 'Available' ? 'Ready for calls'
    : p === 'Away' ? `Away${agent.away_reason ? ` · ${agent.away_reason}` : ''}: calls are not routed to you. Choose Available in the status menu (top right) to take calls.`
    : p === 'Missed' ? 'You missed a call. Set your presence to take calls again.'
    : p === 'Offline' ? 'Offline: set yourself Available to take calls'
    : presenceLabel(p);
  return html`<div class="sp-body sp-idle">
    <div class="sp-idle-icon" aria-hidden="true">
      <svg viewBox="0 0 24 24"><path d="M8 3.8c.7-.6 1.8-.5 2.4.3l1.4 1.9c.6.8.5 1.8-.1 2.5l-1 1c.9 1.7 2.2 3 3.9 3.9l1-1c.7-.6 1.7-.7 2.5-.1l1.9 1.4c.8.6.9 1.7.3 2.4l-1.1 1.2c-.9.9-2.2 1.2-3.4.8-4.1-1.4-7.4-4.7-8.8-8.8-.4-1.2-.1-2.5.8-3.4z"/></svg></div>
    <p class="sp-idle-text">${text}</p>
    <p class="sp-hint">${browser ? 'Calls ring in this browser tab: keep it open. You talk with your microphone and speaker or headset.'
      : 'Calls ring your SIP phone; control them here.'} Click a phone number on any form to call.</p>
  </div>`;
}

export function Softphone() {
  const state = useAppState();
  const { call, agent, me, live } = state;
  const now = useNow(500);
  const [keypad, setKeypad] = useState(false);
  const [qc, setQc] = useState(false);
  const [help, setHelp] = useState(false);
  useShortcuts(setHelp);
  const x = transferOf(state);
  // Quick connects belongs to one connected call with no transfer going on.
  const qcOpen = qc && call.phase === 'connected' && !x;
  useEffect(() => { if (qc && !qcOpen) setQc(false); }, [qc, qcOpen]);
  if (!me?.is_agent) return null;
  const leg = legOfCall(state);
  const c = { ...call, keypad, setKeypad, qc: qcOpen, setQc, leg };
  let body;
  switch (call.phase) {
    case 'offer':
      body = html`<div class="sp-body">
        <div class="sp-status sp-status-ring"><span class="ring" aria-hidden="true"></span><span>${call.transfer ? 'Incoming transfer' : 'Incoming call'}</span></div>
        ${call.transfer && html`<div class="sp-xfer-from" data-transfer-from=${call.transfer.from}>
          <span class="xfer-tag">INTERNAL-TRANSFER</span>
          <p>Transfer from <strong>${nameOf(call.transfer.from)}</strong></p>
          ${call.transfer.note && html`<p class="sp-xfer-note" data-transfer-note>“${call.transfer.note}”</p>`}</div>`}
        <${Caller} call=${c} />
        ${leg && leg.phase !== 'ringing'
          ? html`<p class="sp-progress" role="status" data-accepted="browser">Answering in this browser… Connecting the audio.</p>
            <${QualityNotice} failed=${leg.failed} />`
          : call.accepted && !leg
          ? html`<p class="sp-progress" role="status" data-accepted>Answering on your phone… If it rings, pick it up.</p>
            <button class="btn btn-reject btn-block" ...${tip('Reject', 'r')} onClick=${() => control('reject')} disabled=${!!call.busy}>Reject</button>`
          : html`<div class="controls controls-2" role="group" aria-label="Answer">
          <button class="btn btn-accept" ...${tip('Accept', 'a')} onClick=${() => control('accept')} disabled=${!!call.busy}>Accept</button>
          <button class="btn btn-reject" ...${tip('Reject', 'r')} onClick=${() => control('reject')} disabled=${!!call.busy}>Reject</button>
        </div>`}
        <h3 class="sp-h">Caller’s records</h3><${ScreenPop} records=${call.records} />
        <h3 class="sp-h">Earlier calls</h3><${History} number=${call.number} current=${call.interaction} /></div>`;
      break;
    case 'dialing':
      body = html`<div class="sp-body">
        <div class="sp-status sp-status-ring"><span class="ring" aria-hidden="true"></span><span>Calling</span></div>
        <${Caller} call=${c} />
        <div class="notice notice-info" role="status" data-recording-notice>This call will be recorded.</div>
        <p class="sp-progress" aria-live="polite">${call.progress || 'Connecting…'}</p>
        <button class="btn btn-reject btn-block" onClick=${() => control('end')} disabled=${!call.interaction}>End call</button></div>`;
      break;
    case 'connected':
      body = x ? html`<${Transferring} call=${c} x=${x} now=${now} me=${me.user_name} />` : html`<${Connected} call=${c} now=${now} />`;
      break;
    case 'wrapup': body = html`<${Wrapup} call=${c} now=${now} />`; break;
    case 'failed':
      body = html`<div class="sp-body"><div class="sp-status sp-status-ended"><span>Not connected</span></div>
        <${Caller} call=${c} /><div class="notice notice-error" role="alert">${call.detail}</div>
        <p class="sp-hint">You will be Available again in a moment.</p></div>`;
      break;
    default: body = html`<${Idle} agent=${agent} me=${me} rtc=${state.rtc} />`;
  }
  // A ring in the browser with no offer on the panel (a manager's listen,
  // whisper or barge to an agent who is one): answer or decline it here.
  const stray = !leg && Object.values(state.rtc.legs).find((l) => l.phase === 'ringing');
  return html`<aside class="softphone" aria-label="Softphone" data-phase=${call.phase}>
    <header class="sp-head"><h2>Softphone</h2>
      <button class="btn btn-quiet sp-keys" aria-expanded=${help} title="Keyboard shortcuts (?)" onClick=${() => setHelp(!help)}>Shortcuts</button>
    </header>
    <${DeviceChoice} rtc=${state.rtc} sipRegistered=${!!agent?.registered} />
    <${MicError} text=${state.rtc.error} />
    ${stray && html`<div class="notice notice-info sp-banner" role="status" data-stray-ring>Your browser phone is ringing.
      <span class="controls controls-2"><button class="btn btn-accept" onClick=${() => acceptLeg(stray.leg)}>Answer</button>
      <button class="btn btn-reject" onClick=${() => rejectLeg(stray.leg)}>Decline</button></span></div>`}
    ${live === 'closed' && html`<div class="notice notice-warning sp-banner" role="status">Reconnecting to live updates…</div>`}
    ${help && html`<${ShortcutHelp} close=${() => setHelp(false)} />`}
    <div aria-live="polite">${body}</div>
  </aside>`;
}
