// The admin view (issue 10, item 14): one route per section under /admin,
// for users holding the admin role; the server checks the role on every
// call, this only decides what to show.
import { html } from 'htm/preact';
import { isAdmin } from '../state.js';
import { PageHeader } from './common.js';
import { AdminAudit } from './AdminAudit.js';
import { AdminFlows } from './AdminFlows.js';
import { AdminQueues } from './AdminQueues.js';
import { AdminQuickConnects } from './AdminQuickConnects.js';
import { AdminFlags, AdminNumbers, AdminTrunks } from './AdminTelephony.js';
import { AdminUsers } from './AdminUsers.js';

export const ADMIN_SECTIONS = [
  ['users', 'Users', 'Users and agents'],
  ['queues', 'Queues', 'Queues'],
  ['numbers', 'Numbers', 'Numbers'],
  ['trunks', 'Trunks', 'Trunks'],
  ['quick-connects', 'Quick connects', 'Quick connects'],
  ['flags', 'Flags', 'Flags'],
  ['flows', 'Flows', 'Call flows'],
  ['audit', 'Audit log', 'Audit log'],
];

export function adminSection(path) {
  const m = path.match(/^\/admin(?:\/([^/]+))?(?:\/(.+))?$/);
  if (!m) return null;
  return { section: m[1] || 'users', rest: m[2] ? decodeURIComponent(m[2]) : null };
}

export function Admin({ me, path }) {
  if (!isAdmin(me)) {
    return html`<div class="page"><div class="notice notice-error" role="alert"><strong>Administrators only</strong>
      <span>The admin view needs the admin role.</span></div></div>`;
  }
  const { section, rest } = adminSection(path) || { section: 'users' };
  const entry = ADMIN_SECTIONS.find(([k]) => k === section);
  let body;
  switch (section) {
    case 'users': body = html`<${AdminUsers} />`; break;
    case 'queues': body = html`<${AdminQueues} />`; break;
    case 'numbers': body = html`<${AdminNumbers} />`; break;
    case 'trunks': body = html`<${AdminTrunks} />`; break;
    case 'quick-connects': body = html`<${AdminQuickConnects} />`; break;
    case 'flags': body = html`<${AdminFlags} />`; break;
    case 'flows': body = html`<${AdminFlows} name=${rest} />`; break;
    case 'audit': body = html`<${AdminAudit} />`; break;
    default: body = html`<p>There is no section “${section}”. <a href="/admin/users">Back to the users</a></p>`;
  }
  return html`<div class="page page-admin">
    <${PageHeader} kicker="Administration" title=${entry ? entry[2] : 'Administration'} />
    <nav class="admin-nav" aria-label="Administration">
      ${ADMIN_SECTIONS.map(([k, label]) => html`<a class="admin-tab" href=${`/admin/${k}`}
        aria-current=${k === section ? 'page' : undefined}>${label}</a>`)}</nav>
    ${body}
  </div>`;
}
