import { isTwoFaState, type Account } from '@gleaner/contracts';
import { errorMessage } from '../error-messages.js';

export type StatusTone = 'ok' | 'running' | 'attention' | 'error' | 'idle';

export interface AccountStatus {
  tone: StatusTone;
  label: string;
}

/** The one-line status of an account, as its badge shows it. */
export function accountStatus(account: Account): AccountStatus {
  const job = account.lastJob;
  if (isTwoFaState(account.state) && account.prompt?.status === 'waiting') {
    return { tone: 'attention', label: 'Waiting for your code' };
  }
  if (job && (job.status === 'queued' || job.status === 'running')) {
    return { tone: 'running', label: job.status === 'queued' ? 'Starting' : 'Running' };
  }
  if (account.needsAction) return { tone: 'attention', label: 'Action needed' };
  if (!job) return { tone: 'idle', label: 'Never run' };
  if (job.status === 'errored') return { tone: 'error', label: errorMessage(job.error).title };
  return { tone: 'ok', label: 'Up to date' };
}

/** Accounts the person must act on, for the banner: their last error needs a person. */
export function accountsNeedingAction(accounts: readonly Account[]): Account[] {
  return accounts.filter((account) => account.needsAction);
}
