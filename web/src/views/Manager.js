// The manager's real-time view: the wallboard (queues, live calls, agents,
// alerts), kept live by the event stream alone — views/Wallboard.js,
// wallboard.js, docs/WALLBOARD.md.
import { html } from 'htm/preact';
import { getState } from '../state.js';
import { PageHeader } from './common.js';
import { Wallboard } from './Wallboard.js';

export function Manager() {
  return html`<div class="page">
    <${PageHeader} kicker="Real time" title="Queues and agents">
      <span class="live-pill ${getState().live === 'open' ? 'on' : ''}"><span class="live-dot" aria-hidden="true"></span>
        ${getState().live === 'open' ? 'Live' : 'Reconnecting…'}</span></${PageHeader}>
    <${Wallboard} />
  </div>`;
}
