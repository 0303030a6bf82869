import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { signIn } from '../session.js';
import { navigate, useAppState } from '../state.js';

export function SignIn() {
  const { flash } = useAppState();
  const [userName, setUserName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  useEffect(() => first.current?.focus(), []);

  async function submit(e) {
    e.preventDefault();
    if (!userName.trim() || !password) {
      setError('Enter your user name and password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(userName.trim(), password);
      navigate('/', { replace: true });
    } catch (err) {
      setError(err.message);
      setPassword('');
    } finally {
      setBusy(false);
    }
  }

  return html`<main class="signin">
    <div class="signin-brand">
      <img src="/favicon.svg" alt="" width="40" height="40" />
      <div><p class="brand-name">Switchboard</p><p class="brand-sub">Contact center workspace</p></div>
    </div>
    <form class="signin-card" onSubmit=${submit} novalidate aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      ${flash && html`<div class="notice notice-${flash.kind}" role="status" data-flash>${flash.text}</div>`}
      <label for="user_name">User name</label>
      <input id="user_name" name="user_name" ref=${first} autocomplete="username" value=${userName}
        onInput=${(e) => setUserName(e.target.value)} aria-invalid=${!!error} />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" value=${password}
        onInput=${(e) => setPassword(e.target.value)} aria-invalid=${!!error} />
      <div class="form-error" role="alert" aria-live="assertive">${error}</div>
      <button class="btn btn-primary btn-block" type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
    <p class="signin-foot">Agents take and place calls here; managers watch queues live; administrators set up the site.</p>
  </main>`;
}
