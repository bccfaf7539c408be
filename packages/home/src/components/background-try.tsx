import { useState } from 'react';
import type { Account } from '@gleaner/contracts';
import { isActive } from '../logic/account-status.js';
import { backgroundTryView } from '../logic/background-try.js';
import { tryBackgroundRun } from '../state/actions.js';
import { useHome } from '../state/store.js';
import { useAction } from './use-action.js';

/**
 * "Try a background run": the account's run as the scheduler starts it, on the person's word, so that
 * they know before the night whether it signs in without them. Its progress and outcome show here.
 */
export function BackgroundTry({ account }: { account: Account }) {
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useHome((s) => (jobId ? (s.jobsByAccount[account.id]?.find((j) => j.id === jobId) ?? null) : null));
  const lines = useHome((s) => (jobId ? s.logsByJob[jobId] : undefined));
  const start = useAction(async () => setJobId((await tryBackgroundRun(account.id)).id));
  const active = isActive(account.lastJob);
  const view = job ? backgroundTryView(job, account, lines) : null;

  return (
    <div className="card pad background-try" data-testid="background-try">
      <div className="background-try-head">
        <p className="hint">Runs as the scheduled run does: nobody is asked; codes come only from the sources above.</p>
        <button type="button" className="button" disabled={start.busy || active} onClick={() => void start.run()}>
          {start.busy ? 'Starting…' : 'Try a background run'}
        </button>
      </div>
      {view && (
        <div
          className={`background-try-outcome tone-${view.tone}`}
          role="status"
          aria-live="polite"
          data-testid="background-try-outcome"
          data-tone={view.tone}
        >
          <p className="background-try-headline">{view.headline}</p>
          {view.detail && <p>{view.detail}</p>}
        </div>
      )}
      {start.error && (
        <p className="inline-error" role="alert">
          {start.error}
        </p>
      )}
    </div>
  );
}
