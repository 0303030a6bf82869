// The wallboard's state (issue 14; docs/WALLBOARD.md), kept from the event
// stream alone: the manager's stream starts with a `wallboard` snapshot
// (queues' figures, live calls, alerts) and then pushes `queue_stats`,
// `live_call`, `alert` and `queue` events. Nothing here polls: waits and
// times in a state are ticked in the browser from the timestamps the
// server sends (oldest_wait_since, phase_since, since). The pushed changes
// re-render the view at most every 200 ms (setStateSoon).
import { get } from './api.js';
import { getState, setState, setStateSoon } from './state.js';

const FEED_MAX = 30; // the queue events shown, newest first

export const emptyWallboard = () => ({ ready: false, dayStart: null, queues: {}, calls: {}, alerts: {}, feed: [] });

const alertKey = (a) => `${a.alert}:${a.queue || ''}:${a.agent || ''}`;

function snapshot(m) {
  const queues = {};
  for (const q of m.queues) queues[q.queue] = q;
  const calls = {};
  for (const c of m.calls) calls[c.interaction] = c;
  const alerts = {};
  for (const a of m.alerts) alerts[alertKey(a)] = a;
  setState({ wallboard: { ready: true, dayStart: m.day_start, queues, calls, alerts, feed: getState().wallboard.feed } });
  // The agents' table: read once per (re)connection; presence events keep it.
  get('/api/v1/agents').then((a) => {
    const map = {};
    const at = Date.now();
    for (const ag of a.agents) map[ag.user_name] = { ...ag, since: ag.since || new Date(at - ag.seconds_in_state * 1000).toISOString() };
    setState({ agents: map });
  }, () => {});
}

// One pushed wallboard message; true when it was one.
export function onWallboardEvent(m) {
  const wb = getState().wallboard;
  switch (m.type) {
    case 'wallboard':
      snapshot(m);
      return true;
    case 'queue_stats': {
      const { type, at, actor, ...q } = m;
      setStateSoon({ wallboard: { ...wb, queues: { ...wb.queues, [q.queue]: q } } });
      return true;
    }
    case 'live_call': {
      const calls = { ...wb.calls };
      if (m.ended) delete calls[m.interaction];
      else calls[m.interaction] = m;
      setStateSoon({ wallboard: { ...wb, calls } });
      return true;
    }
    case 'alert': {
      const alerts = { ...wb.alerts };
      if (m.active) alerts[alertKey(m)] = m;
      else delete alerts[alertKey(m)];
      setStateSoon({ wallboard: { ...wb, alerts } });
      return true;
    }
    case 'queue':
      setStateSoon({ wallboard: { ...wb, feed: [m, ...wb.feed].slice(0, FEED_MAX) } });
      return true;
    default:
      return false;
  }
}
