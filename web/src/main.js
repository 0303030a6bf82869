// Switchboard's web workspace: sign-in, the agent's inbox and softphone,
// the forms, the manager's live view and reports, the interaction search and
// the admin view. Preact with htm (no JSX step); routes are paths, served by the
// binary's static handler (index.html for any path of the app).
import '@fontsource/inter/latin-400.css';
import '@fontsource/inter/latin-500.css';
import '@fontsource/inter/latin-600.css';
import '@fontsource/inter/latin-700.css';
import './styles.css';
import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { resume, signOut } from './session.js';
import { dismissToast, hasRole, homeOf, isAdmin, isAgent, isManager, navigate, useAppState } from './state.js';
import { Admin, ADMIN_SECTIONS } from './views/Admin.js';
import { CallUs } from './views/CallUs.js';
import { Inbox } from './views/Inbox.js';
import { InteractionForm } from './views/InteractionForm.js';
import { Manager } from './views/Manager.js';
import { PresenceControl } from './views/Presence.js';
import { RecordForm } from './views/RecordForm.js';
import { Reports } from './views/Reports.js';
import { Search } from './views/Search.js';
import { SignIn } from './views/SignIn.js';
import { Softphone } from './views/Softphone.js';

// Same-origin links navigate inside the app.
document.addEventListener('click', (e) => {
  const a = e.target.closest?.('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  e.preventDefault();
  navigate(url.pathname);
});

function route(path, me) {
  let m;
  if ((m = path.match(/^\/records\/([a-z]+)\/([^/]+)$/))) return html`<${RecordForm} table=${m[1]} recordKey=${decodeURIComponent(m[2])} />`;
  if ((m = path.match(/^\/interactions\/([^/]+)$/))) return html`<${InteractionForm} number=${decodeURIComponent(m[1])} />`;
  if (path === '/interactions') return html`<${Search} />`;
  if (path === '/call') return html`<${CallUs} />`;
  if (path === '/manager') {
    return isManager(me) ? html`<${Manager} />`
      : html`<div class="page"><div class="notice notice-error" role="alert"><strong>Managers only</strong>
        <span>The live view needs the voice_manager role.</span></div></div>`;
  }
  if (path === '/reports') {
    return isManager(me) ? html`<${Reports} />`
      : html`<div class="page"><div class="notice notice-error" role="alert"><strong>Managers only</strong>
        <span>Reports need the voice_manager or admin role.</span></div></div>`;
  }
  if (path === '/admin' || path.startsWith('/admin/')) return html`<${Admin} me=${me} path=${path} />`;
  if (path === '/') {
    if (isAgent(me)) return html`<${Inbox} />`;
    if (hasRole(me, 'voice_manager')) return html`<${Manager} />`;
    if (isAdmin(me)) return html`<${Admin} me=${me} path="/admin/users" />`;
    return html`<${NoRole} me=${me} />`;
  }
  return html`<div class="page"><h1>Page not found</h1><p><a href="/">Back to the workspace</a></p></div>`;
}

function NoRole({ me }) {
  return html`<div class="page"><div class="card"><h1>Welcome, ${me.name}</h1>
    <p>Your account holds no agent or manager role, so there is nothing to work on here yet.
    An administrator can grant you the roles you need.</p>
    <p><a class="btn btn-primary" href="/call">Call us from the browser</a></p></div></div>`;
}

function NavLink({ href, children, path }) {
  const current = href === '/' ? path === '/' : path.startsWith(href);
  return html`<a class="nav-link" href=${href} aria-current=${current ? 'page' : undefined}>${children}</a>`;
}

function roleLabel(me) {
  if (hasRole(me, 'voice_manager')) return 'Manager';
  if (isAgent(me)) return isAdmin(me) ? 'Agent · Admin' : 'Agent';
  return isAdmin(me) ? 'Administrator' : 'User';
}

function Shell({ me, path }) {
  const { toasts } = useAppState();
  const agent = isAgent(me);
  return html`<div class="shell ${agent ? 'with-phone' : ''}">
    <a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <a class="brand" href="/" aria-label="Switchboard home"><img src="/favicon.svg" alt="" width="28" height="28" /><span>Switchboard</span></a>
      <nav aria-label="Main">
        ${agent && html`<${NavLink} href="/" path=${path}>Inbox</${NavLink}>`}
        ${isManager(me) && html`<${NavLink} href="/manager" path=${path}>Live</${NavLink}>`}
        ${isManager(me) && html`<${NavLink} href="/reports" path=${path}>Reports</${NavLink}>`}
        ${(agent || isManager(me)) && html`<${NavLink} href="/interactions" path=${path}>Interactions</${NavLink}>`}
        ${isAdmin(me) && html`<${NavLink} href="/admin" path=${path}>Admin</${NavLink}>`}
        <${NavLink} href="/call" path=${path}>${agent || isManager(me) || isAdmin(me) ? 'Test call' : 'Call us'}</${NavLink}>
      </nav>
      <div class="topbar-right">
        <${PresenceControl} />
        <div class="me"><span class="me-name">${me.name}</span><span class="me-role">${roleLabel(me)}</span></div>
        <button class="btn btn-quiet" onClick=${signOut}>Sign out</button>
      </div>
    </header>
    <div class="body">
      ${agent && html`<${Softphone} />`}
      <main id="main" tabindex="-1">${route(path, me)}</main>
    </div>
    <div class="toasts" role="region" aria-label="Messages" aria-live="polite">
      ${toasts.map((t) => html`<div class="toast toast-${t.kind}" role=${t.kind === 'error' ? 'alert' : 'status'}>
        <span>${t.text}</span><button class="toast-x" aria-label="Dismiss" onClick=${() => dismissToast(t.id)}>×</button></div>`)}
    </div>
  </div>`;
}

function App() {
  const { session, me, path } = useAppState();
  const [booting, setBooting] = useState(true);
  useEffect(() => { resume().finally(() => setBooting(false)); }, []);
  useEffect(() => {
    if (booting) return;
    if (!session && path !== '/signin') navigate('/signin', { replace: true });
    if (session && me && path === '/signin') navigate(homeOf(me), { replace: true });
    if (session && me && path === '/' && homeOf(me) !== '/') navigate(homeOf(me), { replace: true });
    if (session && me && path === '/admin') navigate('/admin/users', { replace: true });
  }, [booting, session, me, path]);
  useEffect(() => {
    const titles = { '/call': 'Call us', '/': 'Inbox', '/manager': 'Live', '/interactions': 'Interactions', '/reports': 'Reports', '/signin': 'Sign in' };
    const admin = path.startsWith('/admin/') && ADMIN_SECTIONS.find(([k]) => k === path.split('/')[2]);
    const t = titles[path] || (admin ? `${admin[1]} · Admin` : path.startsWith('/interactions/') ? path.split('/')[2] : path.startsWith('/records/') ? decodeURIComponent(path.split('/')[3]) : '');
    document.title = t ? `${t} · Switchboard` : 'Switchboard';
  }, [path]);
  if (booting) return html`<div class="boot" role="status">Loading Switchboard…</div>`;
  if (!session || !me) return html`<${SignIn} />`;
  return html`<${Shell} me=${me} path=${path} />`;
}

render(html`<${App} />`, document.getElementById('app'));
