// The interaction form: its fields, the recording with an audio player and
// the call's transcript beside it as a conversation, and the activity stream
// (status details, offers, recording, notes, trace records, transcript).
import { CallNote } from './Softphone.js';
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, post, recordingUrl } from '../api.js';
import { dateTime, dateTimeSeconds, duration, phoneDisplay, recordPath, STATE_LABELS, timeOnly } from '../format.js';
import { isManager, useAppState } from '../state.js';
import { learnNames, nameOf } from '../transfer.js';
import { ErrorBox, Field, Loading, PageHeader, StateBadge, useLoad } from './common.js';

const KIND_LABELS = {
  state: 'Status', presence: 'Presence', note: 'Note', offer: 'Offer', recording: 'Recording', caller: 'Caller',
  queue: 'Queue', transfer: 'Transfer', bot: 'Bot', call: 'Call', conversation: 'Conversation', ctr: 'Trace record',
  transcript: 'Transcript',
};

// The recording grows while the call lasts (the server keeps it a valid WAV
// after every second written), so the player is fetched again whenever the
// interaction changes (`rev`: a new activity entry, a new state) and, while
// the interaction is open, once more shortly after: the last second of audio
// is written just after the call ends. A player loaded during the call no
// longer shows the length it had then (issue 10).
function Recording({ number, rev, open, audioRef, onTime }) {
  const [st, setSt] = useState({ url: null, error: null, loading: true });
  const shown = useRef(null);
  useEffect(() => () => { if (shown.current) URL.revokeObjectURL(shown.current); }, []);
  useEffect(() => {
    let live = true;
    const load = () => recordingUrl(number).then((u) => {
      if (!live) { URL.revokeObjectURL(u); return; }
      const old = shown.current;
      shown.current = u;
      setSt({ url: u, error: null, loading: false });
      if (old) setTimeout(() => URL.revokeObjectURL(old), 1000); // after the player let go of it
    }, (e) => live && setSt((s) => (s.url ? s : { url: null, error: e, loading: false })));
    load();
    const again = open ? setTimeout(load, 2000) : null;
    return () => { live = false; clearTimeout(again); };
  }, [number, rev, open]);
  if (st.loading) return html`<${Loading} label="Loading the recording…" />`;
  if (st.error) return html`<${ErrorBox} error=${st.error} title="The recording cannot be played" />`;
  return html`<div class="recording">
    <audio controls preload="metadata" src=${st.url} aria-label=${`Recording of ${number}`} ref=${audioRef}
      onTimeUpdate=${(e) => onTime(e.currentTarget.currentTime * 1000)} onSeeked=${(e) => onTime(e.currentTarget.currentTime * 1000)}></audio>
    <a class="btn btn-quiet" href=${st.url} download=${`${number}.wav`}>Download</a>
    <p class="hint">Stereo: the customer on the left channel, the agent on the right.</p></div>`;
}

// m:ss from the start of the call.
const clock = (ms) => `${Math.floor(ms / 60000)}:${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}`;

// The call's transcript (docs/TRANSCRIPTS.md) as a conversation: customer
// on the left, agent on the right, each utterance with its time. Clicking
// one plays the recording from there; the one being played is highlighted.
// `status` is the interaction's (null: none, then it is not asked for);
// the form reloads the interaction while a job is queued or running.
function Transcript({ number, status, open, audioRef, playMs, onAsked }) {
  const { me } = useAppState();
  const [st, setSt] = useState({ t: null, error: null });
  const [ask, setAsk] = useState({ busy: false, error: null });
  useEffect(() => {
    if (status !== 'done' && status !== 'failed') { setSt({ t: null, error: null }); return undefined; }
    let live = true;
    get(`/api/v1/interactions/${encodeURIComponent(number)}/transcript`).then((t) => live && setSt({ t, error: null }),
      (e) => live && setSt({ t: null, error: e }));
    return () => { live = false; };
  }, [number, status]);
  async function transcribe() {
    setAsk({ busy: true, error: null });
    try {
      await post(`/api/v1/interactions/${encodeURIComponent(number)}/transcript`);
      setAsk({ busy: false, error: null });
      onAsked();
    } catch (e) {
      setAsk({ busy: false, error: e });
    }
  }
  function seek(ms) {
    const a = audioRef.current;
    if (!a) return;
    a.currentTime = ms / 1000;
    a.play().catch(() => {});
  }
  const idle = status !== 'queued' && status !== 'running';
  const askButton = isManager(me) && !open && idle && html`<button class="btn btn-quiet" type="button"
    onClick=${transcribe} disabled=${ask.busy} data-transcribe>${status ? 'Transcribe again' : 'Transcribe this call'}</button>`;
  let body;
  if (!status) {
    body = html`<p class="empty">${open ? 'No transcript yet: it is made once the call has ended.'
      : 'No transcript: transcripts are off, or the transcription policy did not choose this call.'}</p>`;
  } else if (!idle) {
    body = html`<${Loading} label=${status === 'queued' ? 'Waiting to be transcribed…' : 'Transcribing…'} />`;
  } else if (st.error) body = html`<${ErrorBox} error=${st.error} title="The transcript cannot be shown" />`;
  else if (!st.t) body = html`<${Loading} label="Loading the transcript…" />`;
  else if (st.t.status === 'failed') {
    body = html`<div class="notice notice-error" role="alert"><strong>The transcription failed</strong><span>${st.t.error}</span></div>`;
  } else if (!st.t.utterances.length) body = html`<p class="empty">No speech was heard in this recording.</p>`;
  else {
    body = html`<ol class="transcript" aria-label="Transcript">
      ${st.t.utterances.map((u) => {
        const on = playMs !== null && playMs >= u.start_ms && playMs < u.end_ms;
        return html`<li class=${`utt utt-${u.channel}${on ? ' utt-on' : ''}`} data-channel=${u.channel}
          data-start=${u.start_ms} aria-current=${on ? 'true' : undefined}>
          <button type="button" class="utt-btn" onClick=${() => seek(u.start_ms)}
            title=${`Play from ${clock(u.start_ms)}`}>
            <span class="utt-who">${u.channel === 'customer' ? 'Customer' : 'Agent'} · <time>${clock(u.start_ms)}</time></span>
            <span class="utt-text">${u.text}</span></button></li>`;
      })}</ol>
      ${st.t.redacted ? html`<p class="hint">${st.t.redacted} item${st.t.redacted > 1 ? 's' : ''} redacted (card numbers, security codes, national ids).</p>` : null}`;
  }
  return html`<div class="transcript-wrap" data-transcript=${status || 'none'}>
    <header class="sub-head"><h3>Transcript</h3>${st.t?.engine ? html`<span class="muted">${st.t.engine}</span>` : null}
      ${askButton}</header>
    ${body}
    <${ErrorBox} error=${ask.error} title="The transcript was not asked for" /></div>`;
}

function Activity({ items }) {
  const list = [...items].reverse();
  return html`<ol class="activity" aria-label="Activity stream, newest first">
    ${list.map((a) => html`<li class="act act-${a.kind}" data-kind=${a.kind}>
      <span class="act-kind">${KIND_LABELS[a.kind] || a.kind}</span>
      <div class="act-body"><p class="act-text">${a.text}</p>
        <p class="act-meta">${a.actor === 'system' ? 'System' : a.actor} · <time datetime=${a.at}>${dateTimeSeconds(a.at)}</time></p></div>
    </li>`)}</ol>`;
}

export function InteractionForm({ number }) {
  const { inboxRev } = useAppState();
  const audioRef = useRef(null);
  const [playMs, setPlayMs] = useState(null);
  const { data: ix, error, loading, reload } = useLoad(() => get(`/api/v1/interactions/${encodeURIComponent(number)}`), [number, inboxRev]);
  // While its transcript is on its way (queued, running, or the call still
  // on), the interaction is read again every 5 s: its status shows it.
  const hasRec = !!ix?.activity.some((a) => a.kind === 'recording');
  const waiting = hasRec && (ix.transcript === 'queued' || ix.transcript === 'running' || ix.state === 'work_in_progress');
  useEffect(() => {
    if (!waiting) return undefined;
    const t = setTimeout(reload, 5000);
    return () => clearTimeout(t);
  }, [waiting, ix]);
  // The assignee by name (a transferred call changes hands): "Beth Agent (beth)".
  useEffect(() => { if (ix?.agent) learnNames([ix.agent]); }, [ix?.agent]);
  if (loading && !ix) return html`<div class="page"><${Loading} /></div>`;
  if (error) return html`<div class="page"><${PageHeader} kicker="Interaction" title=${number} />
    <${ErrorBox} error=${error} title="This interaction cannot be shown" /></div>`;
  const hasRecording = ix.activity.some((a) => a.kind === 'recording');
  const lr = ix.linked_record;
  return html`<div class="page">
    <${PageHeader} kicker=${`Interaction · Phone · ${ix.direction === 'outbound' ? 'Outbound' : 'Inbound'}`} title=${ix.number}>
      <${StateBadge} state=${ix.state} label=${ix.state_label || STATE_LABELS[ix.state]} /></${PageHeader}>
    <div class="two-col">
      <div class="col-main">
        <section class="card form-card" aria-label="Interaction details" data-form="interaction">
          <dl class="fields">
            <${Field} label=${ix.direction === 'outbound' ? 'Customer number' : 'Caller number'}>${ix.caller_number && phoneDisplay(ix.caller_number)}</${Field}>
            <${Field} label="Queue">${ix.queue}</${Field}>
            <${Field} label="Assigned to">${ix.agent && (nameOf(ix.agent) !== ix.agent ? `${nameOf(ix.agent)} (${ix.agent})` : ix.agent)}</${Field}>
            <${Field} label="Linked record">${lr && html`<a href=${recordPath(lr.table, lr.number)}>${lr.table} ${lr.number}</a>`}</${Field}>
            <${Field} label="Opened">${dateTime(ix.opened_at)}</${Field}>
            <${Field} label="Closed">${ix.closed_at && dateTime(ix.closed_at)}</${Field}>
            ${ix.close_reason && html`<${Field} label="Close reason">${ix.close_reason}</${Field}>`}
            ${ix.wrap_up_code && html`<${Field} label="Wrap-up code">${ix.wrap_up_code}</${Field}>`}
            ${/* the sums over its contact trace records (docs/CTR.md), once there are any */
              ix.closed_at || ix.talk_seconds > 0 || ix.queue_wait_seconds > 0 ? html`
              <${Field} label="Queue wait">${duration(ix.queue_wait_seconds || 0)}</${Field}>
              <${Field} label="Talk time">${duration(ix.talk_seconds || 0)}</${Field}>
              <${Field} label="Hold time">${duration(ix.hold_seconds || 0)}</${Field}>
              <${Field} label="After-call work">${duration(ix.after_call_work_seconds || 0)}</${Field}>` : null}
          </dl></section>
        ${ix.state === 'work_in_progress' && html`<section class="card" aria-label="Add a note"><${CallNote} interaction=${ix.number} /></section>`}
        <section class="card" aria-labelledby="rec-h">
          <header class="card-head"><h2 id="rec-h">Recording</h2></header>
          ${hasRecording ? html`<${Recording} number=${ix.number} rev=${`${ix.state}:${ix.activity.length}`}
            open=${ix.state === 'work_in_progress'} audioRef=${audioRef} onTime=${setPlayMs} />` : html`<p class="empty">No recording: the call was not answered by an agent${ix.state === 'work_in_progress' ? ' yet' : ''}.</p>`}
          ${hasRecording ? html`<${Transcript} number=${ix.number} status=${ix.transcript}
            open=${ix.state === 'work_in_progress'} audioRef=${audioRef} playMs=${playMs} onAsked=${reload} />` : null}
        </section>
        ${ix.conversations?.length ? html`<section class="card"><header class="card-head"><h2>Conversations</h2></header>
          <ul class="plain">${ix.conversations.map((c) => html`<li>${c.number} · ${c.flag} · ${timeOnly(c.created_at)}</li>`)}</ul></section>` : null}
      </div>
      <section class="card col-side" aria-labelledby="act-h">
        <header class="card-head"><h2 id="act-h">Activity</h2><span class="count">${ix.activity.length}</span></header>
        <${Activity} items=${ix.activity} /></section>
    </div></div>`;
}
