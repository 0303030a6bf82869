// Formatting of times, durations and labels shared by the views.
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function since(iso, now = Date.now()) {
  if (!iso) return '';
  return duration((now - Date.parse(iso)) / 1000);
}

const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const tf = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const dateTime = (iso) => (iso ? dtf.format(new Date(iso)) : '—');
export const timeOnly = (iso) => (iso ? tf.format(new Date(iso)) : '');

export const STATE_LABELS = {
  new: 'New', work_in_progress: 'Work in Progress', closed_complete: 'Closed Complete', closed_abandoned: 'Closed Abandoned',
};

// Presence as shown: the server's status names, spaced for reading.
export const PRESENCE_LABELS = {
  Offline: 'Offline', Available: 'Available', Away: 'Away', CallingCustomer: 'Calling customer', Busy: 'Busy',
  AfterCallWork: 'After call work', FailedConnectAgent: 'Failed to connect', Missed: 'Missed',
};
export const presenceLabel = (p) => PRESENCE_LABELS[p] || p || 'Unknown';
export const presenceClass = (p) => `presence-${(p || 'unknown').toLowerCase()}`;

export const TABLES = {
  user: { label: 'User', plural: 'users', api: 'users' },
  contact: { label: 'Contact', plural: 'Contacts', api: 'contacts' },
  consumer: { label: 'Consumer', plural: 'Consumers', api: 'consumers' },
  case: { label: 'Case', plural: 'Cases', api: 'cases' },
  incident: { label: 'Incident', plural: 'Incidents', api: 'incidents' },
};

export const recordPath = (table, key) => `/records/${table}/${encodeURIComponent(key)}`;
export const interactionPath = (n) => `/interactions/${encodeURIComponent(n)}`;
