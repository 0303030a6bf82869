// The softphone during a transfer (SPEC.md §6, issue 12): INTERNAL-TRANSFER
// as the seed words it, what is happening in a sentence, the roster (who is
// on the call, who is on hold with music, whose phone rings) and the
// buttons that apply: Cancel transfer (the first agent, before the join),
// Join (the second agent, during the consult), Leave (either agent, once
// both are on; for the first agent during the ring it makes the transfer
// blind).
import { html } from 'htm/preact';
import { duration, phoneDisplay } from '../format.js';
import { firstName, nameOf, transferStep } from '../transfer.js';

const tip = (label, k) => ({ title: `${label} (Alt+${k.toUpperCase()})`, 'aria-keyshortcuts': `Alt+${k.toUpperCase()}`, 'data-key': k });

// One line of the roster: who, their part, and what they hear / do.
function legLine(leg, x, call, me) {
  const r = x.roster;
  if (leg.role === 'customer') {
    const who = call.name || (call.number && phoneDisplay(call.number)) || 'The customer';
    return { who, part: 'Customer', held: r.customer_on_hold,
      doing: r.customer_on_hold ? 'On hold · hearing music' : leg.state === 'up' ? 'On the call' : leg.state };
  }
  if (leg.role === 'external') {
    const to = call.transfer?.to?.number;
    return { who: to ? phoneDisplay(to) : 'External number', part: 'External',
      doing: leg.state === 'dialling' ? 'Ringing…' : 'On the call' };
  }
  const user = leg.user_name || (leg.role === 'agent' ? r.agent : r.second);
  const you = user === me;
  // transferor: the first agent's desk phone's own consult call (an
  // attended transfer started on the phone), beside its held first call.
  const part = { agent: 'Transferring', consult: 'Receiving', transferor: 'Consult call', supervisor: 'Supervisor' }[leg.role] || leg.role;
  const doing = leg.state === 'dialling' && leg.role === 'transferor' ? `Calling ${firstName(r.second) || 'the agent'}…`
    : leg.state === 'dialling' ? 'Ringing…'
    : leg.state === 'held' ? 'On hold'
    : leg.state === 'ending' ? 'Leaving'
    : r.phase === 'consult' && (leg.role === 'consult' || leg.role === 'transferor' || !(r.legs || []).some((l) => l.role === 'transferor'))
      ? `Talking with ${firstName(leg.role === 'consult' ? r.agent : r.second)}`
    : r.phase === 'consult' ? 'On hold on the phone'
    : 'On the call';
  return { who: `${nameOf(user) || 'Agent'}${you ? ' (you)' : ''}`, part, doing, you };
}

function Roster({ x, call, me }) {
  const legs = x.roster.legs || [];
  return html`<ul class="roster" aria-label="On the call">
    ${legs.map((l) => {
      const v = legLine(l, x, call, me);
      return html`<li class="roster-row ${v.held ? 'roster-held' : ''} ${l.state === 'dialling' ? 'roster-ringing' : ''}"
        data-role=${l.role} data-user=${l.user_name || undefined} data-state=${v.held ? 'on_hold' : l.state}>
        <span class="roster-dot" aria-hidden="true"></span>
        <span class="roster-who">${v.who}</span>
        <span class="roster-part">${v.part}</span>
        <span class="roster-doing">${v.doing}</span></li>`;
    })}</ul>`;
}

function headline(x, call) {
  const r = x.roster;
  if (x.role === 'first') {
    const to = nameOf(r.second) || (r.queue ? `the ${r.queue} queue` : call.transfer?.to?.number ? phoneDisplay(call.transfer.to.number) : 'the next agent');
    if (call.left) return `You left the call. The transfer to ${to} goes on; your wrap-up starts when it is answered.`;
    if (r.phase === 'xfer_queued') return `The customer waits in ${r.queue} on hold, first in line, for the next agent there. You stay on until one accepts, or cancel.`;
    if (r.phase === 'xfer_ring') return `Ringing ${to}${r.queue ? ` in ${r.queue}` : ''}… The customer is on hold with music.`;
    if (r.phase === 'consult') return `${to} accepted. Talk, then ${firstName(r.second)} joins the customer in, or you cancel.`;
    return `Three-party call with ${to} and the customer. Leave to hand the call over.`;
  }
  const from = nameOf(r.agent);
  if (r.phase === 'consult') return `Consulting with ${from}. The customer is on hold: Join brings them in.`;
  return `Three-party call with ${from} and the customer.`;
}

export function TransferPanel({ x, call, me, now }) {
  const r = x.roster;
  const t = call.startedAt ? duration((now - call.startedAt) / 1000) : '';
  const busy = !!call.busy;
  const first = x.role === 'first';
  const canCancel = first && !call.left && (r.phase === 'xfer_ring' || r.phase === 'xfer_queued' || r.phase === 'consult');
  const canLeave = !call.left && (r.phase === 'consult' || r.phase === 'conference'
    || (first && (r.phase === 'xfer_ring' || r.phase === 'xfer_queued')));
  const canJoin = !first && r.phase === 'consult';
  const other = first ? firstName(r.second) : firstName(r.agent);
  return html`<div class="sp-xfer" data-xfer-phase=${r.phase} data-xfer-role=${x.role}>
    <div class="sp-status sp-status-xfer"><span class="xfer-tag" data-internal-transfer>INTERNAL-TRANSFER</span>
      <span class="sp-timer" data-timer aria-label="call duration">${t}</span></div>
    <p class="sp-xfer-line" role="status">${headline(x, call)}</p>
    ${!first && call.transfer?.note && html`<p class="sp-xfer-note">“${call.transfer.note}”</p>`}
    <${Roster} x=${x} call=${call} me=${me} />
    ${call.xferNotice && html`<div class="notice notice-warning" role="status" data-xfer-notice>${call.xferNotice.text}</div>`}
    <div class="controls" role="group" aria-label="Transfer controls">
      ${canJoin && html`<button class="ctl ctl-go" disabled=${busy} ...${tip('Join: bring the customer in', 'j')}
        onClick=${() => transferStep('join')}>Join</button>`}
      ${canCancel && html`<button class="ctl" disabled=${busy} ...${tip('Cancel transfer: back to the customer', 'x')}
        onClick=${() => transferStep('cancel_transfer')}>Cancel transfer</button>`}
      ${canLeave && html`<button class="ctl ctl-end" disabled=${busy}
        ...${tip(r.phase === 'xfer_queued' ? `Leave: the call waits in ${r.queue} without you`
    : first && r.phase === 'xfer_ring' ? `Leave: the transfer to ${other} goes on without you`
    : `Leave: ${first ? `the call is ${other}’s` : `${other} keeps the call`}`, 'l')}
        onClick=${() => transferStep('leave')}>Leave</button>`}
    </div></div>`;
}
