import type { Account } from '@gleaner/contracts';
import { accountStatus } from '../logic/account-status.js';

export function StatusBadge({ account }: { account: Account }) {
  const status = accountStatus(account);
  return (
    <span className={`badge badge-${status.tone}`} data-testid="status-badge">
      <span className="badge-dot" aria-hidden="true" />
      {status.label}
    </span>
  );
}
