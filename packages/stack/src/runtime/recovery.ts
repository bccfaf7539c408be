import { rm } from 'node:fs/promises';
import { isTransientState, type AccountState } from '@gleaner/contracts';
import { ACTIVE_JOB_STATUSES } from '../storage/stores.js';
import { iso } from './clock.js';
import { publishAccount, publishJob, publishPrompt, type StackContext } from './context.js';

const TRANSIENT: NonNullable<AccountState>[] = [
  'HANDLE_LOGIN_SUCCESS',
  'TWOFA_NEEDED',
  'TWOFA_NEEDED.EMAIL',
  'TWOFA_NEEDED.SMS',
  'TWOFA_NEEDED.APP_CODE',
  'TWOFA_NEEDED.APP',
  'TWOFA_NEEDED_RETRY',
  'TWOFA_NEEDED_RETRY.EMAIL',
  'TWOFA_NEEDED_RETRY.SMS',
  'TWOFA_NEEDED_RETRY.APP_CODE',
  'TWOFA_NEEDED_RETRY.APP',
];

export type RecoveryResult = { jobs: number; prompts: number; accounts: number };

/**
 * SQLite, at start: what a previous process left unfinished: its jobs end JOB_INTERRUPTED (their
 * konnectors died with it or lost their channel), their prompts `interrupted`, and the transient
 * account states (waiting for a code, login pending) are cleared. On PostgreSQL, where other live
 * nodes' jobs run, the start takes only what dead workers left instead (`Workers.reap`, workers.ts).
 */
export async function recoverInterrupted(ctx: StackContext): Promise<RecoveryResult> {
  const { storage, clock, logger } = ctx;
  const now = iso(clock.now());
  const jobs = await storage.jobs.list({ statuses: ACTIVE_JOB_STATUSES, limit: 100_000 });
  const prompts = await storage.prompts.listWaiting();
  const accounts = (await storage.accounts.listWithStates(TRANSIENT)).filter((a) => isTransientState(a.state));
  await storage.transaction(async (tx) => {
    for (const job of jobs) {
      await tx.jobs.transition(job.id, ACTIVE_JOB_STATUSES, {
        status: 'errored',
        error: 'JOB_INTERRUPTED',
        loginStatus: job.loginStatus === 'pending' ? 'failed' : job.loginStatus,
        endedAt: now,
      });
    }
    for (const prompt of prompts) await tx.prompts.closeIfWaiting(prompt.id, 'interrupted');
    for (const account of accounts) await tx.accounts.update(account.id, { state: null, updatedAt: now });
  });
  // What a killed stack's jobs left in staging (their processes died with it: see the runner).
  await rm(ctx.config.stagingDir, { recursive: true, force: true });
  for (const job of jobs) await publishJob(ctx, job.id);
  for (const prompt of prompts) await publishPrompt(ctx, prompt.id);
  const touched = new Set([...jobs.map((j) => j.accountId), ...accounts.map((a) => a.id)]);
  for (const accountId of touched) await publishAccount(ctx, accountId);
  if (jobs.length || prompts.length || accounts.length) {
    logger.warn(
      { jobs: jobs.length, prompts: prompts.length, accounts: accounts.length },
      'recovered what the previous run left unfinished',
    );
  }
  return { jobs: jobs.length, prompts: prompts.length, accounts: accounts.length };
}
