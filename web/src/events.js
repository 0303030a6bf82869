// The event stream (ws /api/v1/events): applied to the state as it arrives,
// so presence and the softphone follow the server without polling. The
// browser cannot set headers on a WebSocket, so the token goes in
// access_token. A dropped stream reconnects with backoff; a refused one
// (token no longer valid) ends in the API client's 401 handling.
import { get } from './api.js';
import { onCallEvent, onOffer, onPresence } from './calls.js';
import { onRtcMessage, onStreamClosed, onStreamOpen } from './rtc.js';
import { getState, setState, setStateSoon } from './state.js';
import { onWallboardEvent } from './wallboard.js';

let ws = null;
let wanted = null;   // the token we should be connected with
let retry = 0;
let pingTimer = null;

export function connectEvents(token) {
  wanted = token;
  open();
}

// A message to the server on the stream (the browser phone's rtc.*, RTC_PROTOCOL.md):
// false when the stream is not open.
export function sendEvent(msg) {
  if (!ws || ws.readyState !== 1) return false;
  ws.send(JSON.stringify(msg));
  return true;
}

export function disconnectEvents() {
  wanted = null;
  clearInterval(pingTimer);
  if (ws) { ws.onclose = null; ws.close(); ws = null; }
}

function open() {
  if (!wanted) return;
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const sock = new WebSocket(`${proto}://${location.host}/api/v1/events?access_token=${wanted}`);
  ws = sock;
  setState({ live: 'connecting' });
  sock.onmessage = (e) => {
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    // Other scripts (and the end-to-end tests, which time the UI against
    // it) may listen: each event as it arrives, before it is applied.
    window.dispatchEvent(new CustomEvent('switchboard:event', { detail: m }));
    handle(m);
  };
  sock.onopen = () => {
    retry = 0;
    clearInterval(pingTimer);
    pingTimer = setInterval(() => sock.readyState === 1 && sock.send('{"type":"ping"}'), 25000);
    onStreamOpen();
  };
  sock.onclose = () => {
    clearInterval(pingTimer);
    if (ws !== sock || !wanted) return;
    setState({ live: 'closed' });
    onStreamClosed();
    // Ask the API whether the token still works: a 401 signs out.
    get('/api/v1/me').then((me) => setState({ me }), () => {});
    const delay = Math.min(10000, 500 * 2 ** retry++);
    setTimeout(() => ws === sock && open(), delay);
  };
}

function handle(m) {
  const s = getState();
  // The wallboard's events (managers only): docs/WALLBOARD.md.
  if (onWallboardEvent(m)) return;
  if (typeof m.type === 'string' && m.type.startsWith('rtc.')) { onRtcMessage(m); return; }
  switch (m.type) {
    case 'hello':
      setState({ live: 'open', agent: m.agent || s.agent });
      break;
    case 'presence': {
      const a = s.agents[m.user_name];
      const next = {
        ...(a || { user_name: m.user_name, name: m.user_name }),
        presence: m.to, away_reason: m.to === 'Away' ? m.reason : null, since: m.at,
        seconds_in_state: 0, interaction: m.interaction || null,
      };
      // everyone's (a manager's table): rendered soon; one's own at once below
      setStateSoon({ agents: { ...s.agents, [m.user_name]: next } });
      if (m.user_name === s.me?.user_name) {
        setState({ agent: { ...(s.agent || {}), ...next, registered: s.agent?.registered } });
        onPresence(m);
      }
      // A presence change during a call is in that interaction's activity
      // stream (and ends its recording): open forms read it again.
      if (m.interaction) setStateSoon((st) => ({ inboxRev: st.inboxRev + 1 }));
      break;
    }
    case 'interaction': // a manager's stream has every call's: re-read soon, not per event
      setStateSoon((st) => ({ inboxRev: st.inboxRev + 1 }));
      break;
    case 'offer':
      if (m.agent === s.me?.user_name) onOffer(m);
      break;
    case 'call':
      if (m.agent === s.me?.user_name) onCallEvent(m);
      break;
    case 'device': { // the agent's phone registered or not, live
      const a = s.agents[m.user_name];
      if (a) setState({ agents: { ...s.agents, [m.user_name]: { ...a, registered: m.registered } } });
      if (m.user_name === s.me?.user_name) setState({ agent: { ...(getState().agent || {}), registered: m.registered } });
      break;
    }
    case 'roles':
      if (m.user_name === s.me?.user_name) get('/api/v1/me').then((me) => setState({ me }), () => {});
      break;
    default:
      break;
  }
}
