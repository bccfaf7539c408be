import { isTwoFaState, type Account, type Job } from '@gleaner/contracts';
import { promptOfBackgroundRun } from './background-try.js';

export type StepStatus = 'pending' | 'active' | 'done' | 'skipped' | 'error';
export type StepId = 'login' | 'code' | 'fetch' | 'done';

export interface ProgressStep {
  id: StepId;
  label: string;
  status: StepStatus;
}

export interface ConnectProgress {
  steps: ProgressStep[];
  /** The login is confirmed (LOGIN_SUCCESS or the 8-second rule): the person may leave. */
  connected: boolean;
  finished: boolean;
  failed: boolean;
  /** One short sentence of what is going on. */
  headline: string;
}

/**
 * The connecting view's steps for a run, from the account and the run's job.
 * `sawCode` is true once this run asked for a code (the view remembers it; states are transient);
 * `sawApproval`, when what it asked was an approval in an app (no code is checked then).
 */
export function connectProgress(
  account: Account,
  job: Job | null,
  sawCode: boolean,
  sawApproval = false,
): ConnectProgress {
  const asking = isTwoFaState(account.state) && account.prompt?.status === 'waiting';
  const codeSeen = sawCode || asking;
  const connected =
    job?.loginStatus === 'succeeded' || (account.state === 'LOGIN_SUCCESS' && !!job && job.status !== 'errored');
  const finished = job?.status === 'done';
  const failed = job?.status === 'errored' || job?.loginStatus === 'failed';

  let login: StepStatus = 'active';
  let code: StepStatus = 'pending';
  let fetch: StepStatus = 'pending';
  let done: StepStatus = 'pending';
  let headline = job?.status === 'queued' || !job ? 'Starting…' : 'Signing in to the website…';

  if (asking) {
    login = 'done';
    code = 'active';
    headline = promptOfBackgroundRun(account)
      ? 'Waiting for a code from your code sources…'
      : account.prompt?.type === 'app'
        ? 'Waiting for your approval…'
        : 'Waiting for your code…';
  } else if (codeSeen && !connected && !failed) {
    login = 'done';
    code = 'active';
    headline = sawApproval ? 'Checking with the website…' : 'Checking your code…';
  }
  if (connected) {
    login = 'done';
    code = codeSeen ? 'done' : 'skipped';
    fetch = finished ? 'done' : 'active';
    headline = finished ? 'All done.' : 'Connected. Fetching your documents…';
  }
  if (finished) {
    login = 'done';
    code = codeSeen ? 'done' : 'skipped';
    fetch = 'done';
    done = 'done';
    headline = 'All done.';
  }
  if (failed && job?.error === 'JOB_CANCELLED') {
    // The person's choice, not a failure: nothing is marked as failed.
    headline = connected ? 'You cancelled the run.' : 'You cancelled the sign-in.';
    if (!connected) {
      login = codeSeen ? 'done' : 'skipped';
      code = 'skipped';
    } else fetch = 'skipped';
  } else if (failed) {
    headline = 'The run stopped.';
    if (!connected) {
      if (codeSeen) {
        login = 'done';
        code = 'error';
      } else {
        login = 'error';
      }
    } else {
      fetch = 'error';
    }
  }

  return {
    steps: [
      { id: 'login', label: 'Signing in', status: login },
      { id: 'code', label: 'Verification code', status: code },
      { id: 'fetch', label: 'Fetching documents', status: fetch },
      { id: 'done', label: 'Done', status: done },
    ],
    connected,
    finished,
    failed,
    headline,
  };
}
