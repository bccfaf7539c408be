import { useState, type FormEvent } from 'react';
import { api, ApiRequestError, describeError } from '../api/client.js';
import { lockoutMessage } from '../logic/lockout.js';
import { store } from '../state/store.js';

export function SignInPage() {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!password) {
      setError('Type the admin password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.login(password);
      store.dispatch({ type: 'session', status: 'signed-in', csrfToken: api.csrfToken });
    } catch (caught) {
      if (caught instanceof ApiRequestError && caught.status === 401) setError('Wrong password. Try again.');
      else if (caught instanceof ApiRequestError && caught.status === 429) setError(lockoutMessage(caught.body));
      else setError(describeError(caught));
      setBusy(false);
    }
  };
  return (
    <main id="main" className="sign-in">
      <div className="sign-in-card">
        <p className="brand big">
          <span className="brand-mark" aria-hidden="true">
            G
          </span>{' '}
          Gleaner
        </p>
        <h1>Sign in</h1>
        <p className="muted">Your bills and statements, brought home from the websites you use.</p>
        <form onSubmit={(e) => void submit(e)} noValidate>
          <div className="field">
            <label htmlFor="password">Admin password</label>
            <input
              id="password"
              name="password"
              type="password"
              autoComplete="current-password"
              autoFocus
              value={password}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? 'sign-in-error' : undefined}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          {error && (
            <p id="sign-in-error" className="form-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="button primary wide" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <p className="hint">The password was printed by the server when it first started.</p>
      </div>
    </main>
  );
}
