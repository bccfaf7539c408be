import { isTwoFaState, type Account, type Job, type Prompt } from '@gleaner/contracts';
import { promptOfBackgroundRun } from './background-try.js';

/**
 * What the 2FA dialog shows for one account, decided from the account (its `state`, `prompt`,
 * `lastJob`) and what this browser did (the prompt it answered). Pure, so that the open/close rules
 * are tested without a browser.
 */
export type TwoFaDialogView =
  | { kind: 'closed'; reason: 'idle' | 'success' | 'error' | 'expired' | 'dismissed' | 'background' }
  | { kind: 'ask'; prompt: Prompt; retry: boolean }
  | { kind: 'checking'; promptId: string };

export interface TwoFaLocal {
  /** The prompt this browser just answered (the dialog then says "checking…"). */
  answeredPromptId?: string | undefined;
  /** The job of that prompt: a new prompt of the same job means the code was refused. */
  answeredJobId?: string | undefined;
  /** Prompts the person chose to put aside ("Later"): not reopened by themselves. */
  dismissed?: ReadonlySet<string> | undefined;
}

function jobActive(job: Job | null | undefined): boolean {
  return !!job && (job.status === 'queued' || job.status === 'running');
}

export function twoFaDialogView(account: Account, now: number, local: TwoFaLocal = {}): TwoFaDialogView {
  const prompt = account.prompt;
  const job = account.lastJob;
  const loginDone = account.state === 'LOGIN_SUCCESS' || job?.loginStatus === 'succeeded';

  // A background run asks nobody: its prompt waits for the code sources (a mailbox may take seconds).
  if (prompt && prompt.status === 'waiting' && promptOfBackgroundRun(account))
    return { kind: 'closed', reason: 'background' };
  if (prompt && prompt.status === 'waiting' && isTwoFaState(account.state) && !loginDone) {
    if (Date.parse(prompt.expiresAt) <= now) return { kind: 'closed', reason: 'expired' };
    if (local.answeredPromptId === prompt.id) return { kind: 'checking', promptId: prompt.id };
    if (local.dismissed?.has(prompt.id)) return { kind: 'closed', reason: 'dismissed' };
    const askedAgain = !!local.answeredPromptId && local.answeredJobId === prompt.jobId;
    const retry = prompt.retry || (account.state?.startsWith('TWOFA_NEEDED_RETRY') ?? false) || askedAgain;
    return { kind: 'ask', prompt, retry };
  }
  if (loginDone) return { kind: 'closed', reason: local.answeredPromptId ? 'success' : 'idle' };
  if (job?.status === 'errored' || job?.loginStatus === 'failed') {
    return { kind: 'closed', reason: local.answeredPromptId || prompt ? 'error' : 'idle' };
  }
  if (prompt && prompt.status === 'expired') return { kind: 'closed', reason: 'expired' };
  // Answered, and the konnector is checking the code with the website: keep saying so.
  if (local.answeredPromptId && jobActive(job)) return { kind: 'checking', promptId: local.answeredPromptId };
  return { kind: 'closed', reason: 'idle' };
}

/** Of all accounts, the one whose dialog should be on screen (the most recently asked first). */
export function pickTwoFaAccount(
  accounts: readonly Account[],
  now: number,
  localFor: (accountId: string) => TwoFaLocal,
): { account: Account; view: Exclude<TwoFaDialogView, { kind: 'closed' }> } | null {
  let best: { account: Account; view: Exclude<TwoFaDialogView, { kind: 'closed' }>; at: string } | null = null;
  for (const account of accounts) {
    const view = twoFaDialogView(account, now, localFor(account.id));
    if (view.kind === 'closed') continue;
    const at = account.prompt?.createdAt ?? account.updatedAt;
    if (!best || at > best.at) best = { account, view, at };
  }
  return best ? { account: best.account, view: best.view } : null;
}
