import { useId, useState, type FormEvent } from 'react';
import type { Account } from '@gleaner/contracts';
import { api } from '../api/client.js';
import { formatDateTime } from '../logic/format.js';
import { loadAccounts } from '../state/actions.js';
import { useAction } from './use-action.js';

/**
 * "Renew before it lapses": the person picks a time they will be at the screen; the stack starts a
 * manual run then (it may ask a code), before the session ends at night with nobody there.
 */
export function RenewalForm({ account }: { account: Account }) {
  const id = useId();
  const [when, setWhen] = useState('');
  const planned = account.sessionHealth?.renewAt ?? null;
  const plan = useAction(async (at: string | null) => {
    await api.planRenewal(account.id, at);
    setWhen('');
    await loadAccounts();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (when) void plan.run(new Date(when).toISOString());
  };
  if (planned)
    return (
      <p className="hint" data-testid="renewal-planned">
        A renewal run is planned for {formatDateTime(planned)}.{' '}
        <button type="button" className="link-button" onClick={() => void plan.run(null)}>
          Cancel it
        </button>
      </p>
    );
  return (
    <form className="renewal" onSubmit={submit}>
      <label htmlFor={`${id}-at`}>Or renew it at a time you will be here</label>{' '}
      <input id={`${id}-at`} type="datetime-local" value={when} onChange={(e) => setWhen(e.target.value)} required />{' '}
      <button type="submit" className="button" disabled={plan.busy}>
        Plan the renewal
      </button>
      {plan.error && (
        <span className="inline-error" role="alert">
          {plan.error}
        </span>
      )}
    </form>
  );
}
