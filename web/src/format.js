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
// With seconds: the activity stream, where events seconds apart must read apart.
const dtsf = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export const dateTimeSeconds = (iso) => (iso ? dtsf.format(new Date(iso)) : '—');

// A phone number shown one way everywhere (issue 10): the records' style,
// "+1 555 0199", whether it came from a record, a caller's From or a dialled
// number. Short numbers (extensions, the site's own 5000) stay as they are.
export function phoneDisplay(n) {
  const s = String(n || '').trim();
  const d = s.replace(/\D/g, '');
  if (d.length < 7 || d.length > 15) return s;
  if (d[0] === '1' && d.length === 8) return `+1 ${d.slice(1, 4)} ${d.slice(4)}`; // the demo's numbers
  if (d[0] === '1' && d.length === 11) return `+1 ${d.slice(1, 4)} ${d.slice(4, 7)} ${d.slice(7)}`;
  return `+${d.slice(0, d.length - 8)} ${d.slice(-8, -4)} ${d.slice(-4)}`.replace('+ ', '+');
}
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
