import { isTwoFaState, type Account, type Job } from '@gleaner/contracts';
import { errorMessage, type ErrorMessage } from '../error-messages.js';
import { promptOfBackgroundRun } from './background-try.js';

export type StatusTone = 'ok' | 'running' | 'attention' | 'error' | 'idle';

export interface AccountStatus {
  tone: StatusTone;
  label: string;
}

/** A job that has not ended: queued or running (it may be waiting for a code). */
export function isActive(job: Job | null | undefined): boolean {
  return !!job && (job.status === 'queued' || job.status === 'running');
}

/** The one-line status of an account, as its badge shows it. */
export function accountStatus(account: Account): AccountStatus {
  const job = account.lastJob;
  if (isTwoFaState(account.state) && account.prompt?.status === 'waiting' && !promptOfBackgroundRun(account)) {
    return {
      tone: 'attention',
      label: account.prompt.type === 'app' ? 'Waiting for your approval' : 'Waiting for your code',
    };
  }
  if (job && isActive(job)) return { tone: 'running', label: job.status === 'queued' ? 'Starting' : 'Running' };
  if (account.needsAction) return { tone: 'attention', label: pausedMessage(account).title };
  if (!job) return { tone: 'idle', label: 'Never run' };
  if (job.status === 'errored') return { tone: 'error', label: errorMessage(job.error, job.mode).title };
  return { tone: 'ok', label: 'Up to date' };
}

/**
 * Why scheduled runs are paused, told by the run that paused them: the last job's mode when its
 * error is the one recorded (a background run that needed a person is not "a code was asked").
 */
export function pausedMessage(account: Account): ErrorMessage {
  const code = account.actionNeeded ?? account.lastJob?.error ?? 'USER_ACTION_NEEDED';
  const job = account.lastJob;
  return errorMessage(code, job && job.error === code ? job.mode : undefined);
}

/**
 * Accounts the person must act on, for the banner: their last error needs a person, and no run is
 * going on (a run that is waiting for a code or an approval is not an error to fix).
 */
export function accountsNeedingAction(accounts: readonly Account[]): Account[] {
  return accounts.filter((account) => account.needsAction && !isActive(account.lastJob));
}
