import type { Account } from '@gleaner/contracts';
import { pausedMessage } from '../logic/account-status.js';
import { paths } from '../logic/routes.js';
import { Link } from '../router.js';
import { NextStepButton } from './next-step-button.js';

/** Shown while scheduled runs of an account are paused because its last error needs the person (never while a run goes on). */
export function ActionNeededBanner({
  account,
  konnectorName,
  linkToAccount,
  ready = false,
}: {
  account: Account;
  konnectorName: string;
  linkToAccount: boolean;
  /** Opened from a notification's link: its button is focused. */
  ready?: boolean;
}) {
  const message = pausedMessage(account);
  // A manual run resolves every case but new credentials; there the run follows the edit.
  const next = message.next === 'update-credentials' ? 'update-credentials' : 'reconnect';
  return (
    <section
      className="banner"
      role="region"
      aria-label={`Action needed: ${account.label}`}
      data-testid="action-needed-banner"
    >
      <span className="banner-icon" aria-hidden="true">
        !
      </span>
      <div className="banner-body">
        <p className="banner-title">
          {message.title}
          <span className="banner-account">
            {' · '}
            {linkToAccount ? (
              <Link to={paths.account(account.id)}>
                {konnectorName} — {account.label}
              </Link>
            ) : (
              `${konnectorName} — ${account.label}`
            )}
          </span>
        </p>
        <p>{message.message} Scheduled runs are paused until then.</p>
      </div>
      <div className="banner-actions">
        <NextStepButton account={account} next={next} ready={ready} />
      </div>
    </section>
  );
}
