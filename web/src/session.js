// Signing in and out. The token lives in localStorage so a reload keeps the
// agent signed in; any 401 from the API (expired, revoked, unknown token)
// signs out locally and shows the sign-in page with the reason.
import { ApiError, get, onSessionExpired, post, setToken } from './api.js';
import { restoreFromAgent } from './calls.js';
import { connectEvents, disconnectEvents } from './events.js';
import { resetRtc } from './rtc.js';
import { getState, navigate, setState } from './state.js';
import { emptyWallboard } from './wallboard.js';

const KEY = 'switchboard.session';
let expiryTimer = null;

function store(session) {
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
}

function clearLocal(flash) {
  clearTimeout(expiryTimer);
  disconnectEvents();
  resetRtc();
  setToken(null);
  store(null);
  setState({ session: null, me: null, agent: null, agents: {}, wallboard: emptyWallboard(), call: { phase: 'idle' }, flash });
  if (getState().path !== '/signin') navigate('/signin', { replace: true });
}

onSessionExpired(() => {
  if (!getState().session) return;
  clearLocal({ kind: 'warning', text: 'Your session has expired or was ended. Sign in again to continue.' });
});

export async function loadMe() {
  const me = await get('/api/v1/me');
  setState({ me, agent: me.agent || null });
  return me;
}

// At the token's expiry the next request would get a 401; ask at once so
// the page says so instead of waiting for the agent's next click.
function watchExpiry(session) {
  clearTimeout(expiryTimer);
  const left = Date.parse(session.expires_at) - Date.now();
  if (!Number.isFinite(left)) return;
  expiryTimer = setTimeout(() => {
    if (getState().session !== session) return;
    if (Date.parse(session.expires_at) <= Date.now()) get('/api/v1/me').catch(() => {});
    else watchExpiry(session);
  }, Math.min(Math.max(left + 500, 0), 2 ** 31 - 1));
}

async function start(session) {
  setToken(session.token);
  setState({ session, flash: null });
  watchExpiry(session);
  const me = await loadMe();
  restoreFromAgent(me.agent);
  connectEvents(session.token);
}

export async function signIn(userName, password) {
  let r;
  try {
    r = await post('/api/v1/login', { user_name: userName, password });
  } catch (e) {
    if (e instanceof ApiError && e.code === 'bad_credentials') {
      throw new ApiError(e.status, e.code, 'The user name or password is not right. Check them and try again.');
    }
    throw e;
  }
  const session = { token: r.token, expires_at: r.expires_at, user_name: r.user.user_name };
  store(session);
  await start(session);
}

export async function signOut() {
  try { await post('/api/v1/logout', {}); } catch { /* signed out locally anyway */ }
  clearLocal({ kind: 'info', text: 'You are signed out.' });
}

// On page load: resume a stored session if the server still accepts it.
export async function resume() {
  let session = null;
  try { session = JSON.parse(localStorage.getItem(KEY) || 'null'); } catch { /* corrupt: ignore */ }
  if (!session?.token) return false;
  try {
    await start(session);
    return true;
  } catch (e) {
    if (getState().session) clearLocal({ kind: 'error', text: e.message });
    return false;
  }
}
