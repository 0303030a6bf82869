// The manager's real-time view: the wallboard (queues, live calls, agents,
// alerts), kept live by the event stream alone — views/Wallboard.js,
// wallboard.js, docs/WALLBOARD.md. A manager who is not an agent (no
// softphone) chooses here where Listen / Whisper / Barge ring: this browser
// (it answers by itself, the server's auto_answer) or their SIP phone.
import { html } from 'htm/preact';
import { isAgent, useAppState } from '../state.js';
import { PageHeader } from './common.js';
import { DeviceChoice, MicError } from './Phone.js';
import { Wallboard } from './Wallboard.js';

export function Manager() {
  const { live, me, rtc } = useAppState();
  return html`<div class="page">
    <${PageHeader} kicker="Real time" title="Queues and agents">
      ${!isAgent(me) && html`<div class="monitor-device" aria-label="Listen in on"><${DeviceChoice} rtc=${rtc} sipRegistered=${false} label="Listen in on" /></div>`}
      <span class="live-pill ${live === 'open' ? 'on' : ''}"><span class="live-dot" aria-hidden="true"></span>
        ${live === 'open' ? 'Live' : 'Reconnecting…'}</span></${PageHeader}>
    ${!isAgent(me) && html`<${MicError} text=${rtc.error} />`}
    <${Wallboard} />
  </div>`;
}
