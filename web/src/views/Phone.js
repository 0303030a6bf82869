// The phone in the browser's pieces (issue 15), shared by the softphone and
// the "Call us" page: the device choice, the microphone's level meter, the
// microphone and speaker pickers, the call-quality warning.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { canChooseSpeaker, chosenMic, chosenSpeaker, useAudioDevices, useLevel } from '../audio.js';
import { chooseDevice, switchMic, switchSpeaker } from '../rtc.js';

// "Calls ring: This browser | My SIP phone", and whether the server has this
// browser as the agent's phone.
export function DeviceChoice({ rtc, sipRegistered, label = 'Calls ring' }) {
  const [busy, setBusy] = useState(false);
  const pick = async (d) => {
    if (busy || (d === rtc.device && (d === 'sip' || rtc.registered))) return;
    setBusy(true);
    await chooseDevice(d);
    setBusy(false);
  };
  const status = rtc.device === 'browser'
    ? (rtc.registered ? ['ok', 'Browser phone ready'] : rtc.replaced ? ['warn', 'Another browser is your phone']
      : ['warn', busy ? 'Asking for the microphone…' : 'Browser phone connecting…'])
    : sipRegistered === false && label !== 'Calls ring' ? ['', 'Your SIP phone rings']
    : (sipRegistered ? ['ok', 'Phone registered'] : ['warn', 'Phone not registered']);
  return html`<div class="sp-devices">
    <div class="seg" role="radiogroup" aria-label=${label}>
      <span class="seg-label" aria-hidden="true">${label}</span>
      ${[['browser', 'This browser'], ['sip', 'My SIP phone']].map(([d, label]) => html`
        <button role="radio" class="seg-opt" aria-checked=${rtc.device === d} disabled=${busy}
          data-device=${d} onClick=${() => pick(d)}>${label}</button>`)}
    </div>
    <span class="sp-device ${status[0]}" data-rtc-registered=${rtc.device === 'browser' ? String(rtc.registered) : undefined}
      title=${rtc.device === 'browser' ? 'This browser tab rings and talks' : 'Your SIP phone'}>${status[1]}</span>
    ${rtc.device === 'browser' && rtc.replaced && html`<p class="sp-hint" role="status" data-replaced>Calls now ring in another
      browser window where you chose “This browser”. <button class="btn-link" onClick=${() => chooseDevice('browser')}>Ring here again</button></p>`}
  </div>`;
}

// The microphone's level, live: a bar that moves when you speak.
export function LevelMeter({ stream, muted }) {
  const level = useLevel(stream);
  const pct = muted ? 0 : Math.round(level * 100);
  return html`<div class="meter" role="meter" aria-label="Microphone level" aria-valuemin="0" aria-valuemax="100"
    aria-valuenow=${pct} data-level=${pct}>
    <svg class="meter-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zm-7 9a7 7 0 0 0 6 6.9V21h2v-2.1A7 7 0 0 0 19 12h-2a5 5 0 0 1-10 0z"/></svg><span class="meter-track"><span class="meter-bar" style=${`width:${pct}%`}></span></span>
    ${muted && html`<span class="meter-muted">Muted</span>`}</div>`;
}

// Microphone and speaker, remembered in this browser.
export function AudioSettings() {
  const { mics, speakers } = useAudioDevices();
  const [mic, setMic] = useState(chosenMic());
  const [spk, setSpk] = useState(chosenSpeaker());
  const label = (d, i, what) => d.label || `${what} ${i + 1}`;
  return html`<div class="audio-settings" role="group" aria-label="Audio settings">
    <label for="pick-mic">Microphone</label>
    <select id="pick-mic" value=${mic} onChange=${(e) => { setMic(e.target.value); switchMic(e.target.value); }}>
      <option value="">Default</option>
      ${mics.filter((d) => d.deviceId && d.deviceId !== 'default').map((d, i) => html`<option value=${d.deviceId}>${label(d, i, 'Microphone')}</option>`)}</select>
    ${canChooseSpeaker()
      ? html`<label for="pick-speaker">Speaker</label>
        <select id="pick-speaker" value=${spk} onChange=${(e) => { setSpk(e.target.value); switchSpeaker(e.target.value); }}>
          <option value="">Default</option>
          ${speakers.filter((d) => d.deviceId && d.deviceId !== 'default').map((d, i) => html`<option value=${d.deviceId}>${label(d, i, 'Speaker')}</option>`)}</select>`
      : html`<p class="sp-hint">This browser plays calls on its default speaker (it cannot pick another).</p>`}
  </div>`;
}

// Poor quality only: loss, jitter, round trip, with what they mean.
export function QualityNotice({ q, failed }) {
  if (failed) return html`<div class="notice notice-error" role="alert" data-media-failed>${failed}</div>`;
  if (!q?.poor) return null;
  const parts = [q.loss >= 0.03 && `${Math.round(q.loss * 100)}% of the audio lost`,
    q.jitter >= 0.03 && `jitter ${Math.round(q.jitter * 1000)} ms`,
    q.rtt != null && q.rtt >= 0.3 && `round trip ${Math.round(q.rtt * 1000)} ms`].filter(Boolean);
  return html`<div class="notice notice-warning" role="status" data-quality="poor">Poor call quality: ${parts.join(', ')}.
    Voices may break up both ways; a wired network or closing other downloads helps.</div>`;
}

// The microphone was refused or is missing: what to do.
export function MicError({ text }) {
  return text ? html`<div class="notice notice-error" role="alert" data-mic-error>${text}</div>` : null;
}
