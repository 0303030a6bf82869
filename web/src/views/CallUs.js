// "Call us" (issue 15, point 4): any signed-in user — a customer with no
// roles like the demo's amy, a manager, an administrator, an agent — calls
// one of the site's numbers from the browser and goes through its call flow
// as a phone caller would: the greeting, the bot, the keypad's menus, the
// queue, an agent. The numbers are GET /api/v1/callable-numbers; the call
// is rtc.call on the event stream (rtc.js).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { duration } from '../format.js';
import { callNumber, clearOut, hangupOut, micOf, muteLeg, sendDigits } from '../rtc.js';
import { useAppState, useNow } from '../state.js';
import { AudioSettings, LevelMeter, MicError, QualityNotice } from './Phone.js';
import { ErrorBox, Loading, useLoad } from './common.js';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
const PHASES = {
  starting: 'Opening your microphone…', calling: 'Calling…', connecting: 'Connecting the audio…',
  connected: 'Connected', ended: 'Call ended', failed: 'Not connected',
};
const ENDS = {
  hangup: 'You hung up.', caller_hangup: 'You hung up.', remote_hangup: 'The other side hung up.',
  bye: 'The other side hung up.', ended: 'The call ended.', closed: 'The connection to the server dropped.',
};

function what(n) {
  if (n.flow) return `Call flow “${n.flow}”: a greeting, a bot you can talk to (or the keypad), then a queue`;
  if (n.queue) return `Straight to the ${n.queue} queue`;
  return '';
}

function Keypad({ out }) {
  useEffect(() => {
    // Typing digits on the keyboard presses them too (outside text fields).
    const onKey = (e) => {
      if (e.ctrlKey || e.altKey || e.metaKey || ['INPUT', 'TEXTAREA', 'SELECT'].includes(e.target.tagName)) return;
      if (KEYS.includes(e.key)) { e.preventDefault(); sendDigits(e.key); }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  return html`<div class="keypad" role="group" aria-label="Keypad">
    <output class="keypad-out" aria-live="polite" data-digits>${out.digits || '\u00a0'}</output>
    <div class="keypad-grid">${KEYS.map((k) => html`<button class="key" onClick=${() => sendDigits(k)} disabled=${!out.leg}
      aria-label=${`Press ${k === '*' ? 'star' : k === '#' ? 'pound' : k}`}>${k}</button>`)}</div></div>`;
}

function Live({ out, now }) {
  const up = out.phase === 'connected';
  const t = up && out.startedAt ? duration((now - out.startedAt) / 1000) : '';
  const done = out.phase === 'ended' || out.phase === 'failed';
  return html`<div class="card" aria-label="Your call" data-call-phase=${out.phase}>
    <div class="callus-state"><span role="status">${PHASES[out.phase] || out.phase} · ${out.to}</span>
      <span class="sp-timer" data-timer aria-label="call duration">${t}</span></div>
    ${out.phase === 'failed' && html`<div class="notice notice-error" role="alert" data-call-error>${out.reason}</div>`}
    ${out.phase === 'ended' && html`<p class="sp-hint" data-call-ended>${ENDS[out.reason] || `The call ended (${out.reason || 'no reason given'}).`}
      ${out.endedAt && out.startedAt ? ` It lasted ${duration((out.endedAt - out.startedAt) / 1000)}.` : ''}</p>`}
    ${!done && html`<${QualityNotice} q=${out.quality} failed=${out.failed} />
      <${LevelMeter} stream=${micOf(out.leg || out.ref)} muted=${out.muted} />
      <div class="controls" role="group" aria-label="Call controls">
        <button class="ctl" aria-pressed=${!!out.muted} onClick=${() => muteLeg(out.leg || out.ref, !out.muted)}>${out.muted ? 'Unmute' : 'Mute'}</button>
        <button class="ctl ctl-end" onClick=${hangupOut}>Hang up</button></div>
      <${Keypad} out=${out} />`}
    ${done && html`<button class="btn btn-quiet" onClick=${clearOut}>New call</button>`}
  </div>`;
}

export function CallUs() {
  const { rtc, live } = useAppState();
  const { data, error } = useLoad(() => get('/api/v1/callable-numbers'), []);
  const numbers = data?.numbers || null;
  const [to, setTo] = useState('');
  const [settings, setSettings] = useState(false);
  const now = useNow(500);
  const out = rtc.out;
  const busy = out && !['ended', 'failed'].includes(out.phase);
  useEffect(() => { if (!to && numbers?.length) setTo(numbers[0].number); }, [numbers]);
  return html`<div class="page callus">
    <div class="page-header"><div><h1>Call us</h1>
      <p class="muted">Call one of this site’s numbers from your browser, as a customer would: you hear the greeting,
        tell the bot what you need or answer the menus with the keypad, wait in the queue and talk to an agent. Your microphone and speaker are the phone.</p></div></div>
    <${MicError} text=${out?.phase === 'failed' ? null : rtc.error} />
    <div class="callus-grid">
      <div class="card"><h2 class="card-title">Number to call</h2>
        ${error ? html`<${ErrorBox} error=${error} />`
          : numbers === null ? html`<${Loading} />`
          : !numbers.length ? html`<p class="muted">This site has no numbers yet: an administrator adds them under Admin · Numbers.</p>`
          : html`<ul class="callus-numbers" role="radiogroup" aria-label="Numbers">${numbers.map((n) => html`<li><label>
              <input type="radio" name="callus-to" value=${n.number} checked=${to === n.number} disabled=${busy}
                onChange=${() => setTo(n.number)} />
              <span><span class="callus-number">${n.number}</span><br /><span class="sp-sub">${what(n)}</span></span></label></li>`)}</ul>
            <div class="controls controls-2">
              <button class="btn btn-accept" disabled=${!to || busy || live !== 'open'} onClick=${() => callNumber(to)}>Call ${to}</button>
              <button class="btn btn-quiet" aria-expanded=${settings} onClick=${() => setSettings(!settings)}>Audio settings</button></div>
            ${live !== 'open' && html`<p class="sp-hint">Connecting to the server…</p>`}
            ${settings && html`<${AudioSettings} />`}`}
      </div>
      ${out && html`<${Live} out=${out} now=${now} />`}
    </div></div>`;
}
