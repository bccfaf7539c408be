import type { Job } from '@gleaner/contracts';
import { api, ApiRequestError } from '../api/client.js';
import { store } from './store.js';

/** Loads that several pages share; each dispatches what it gets. */
export async function loadAccounts(): Promise<void> {
  store.dispatch({ type: 'accounts', accounts: await api.accounts() });
}

export async function loadKonnectors(): Promise<void> {
  store.dispatch({ type: 'konnectors', konnectors: await api.konnectors() });
}

export async function loadJobs(accountId: string): Promise<void> {
  store.dispatch({ type: 'jobs', accountId, jobs: await api.jobs(accountId) });
}

export async function loadFiles(accountId: string): Promise<void> {
  store.dispatch({ type: 'files', accountId, files: await api.files(accountId) });
}

export async function loadLogs(jobId: string): Promise<void> {
  store.dispatch({ type: 'logs', jobId, lines: await api.logs(jobId) });
}

/**
 * A manual run (Run now, Reconnect); the job and account events follow over the stream. A run
 * already going on (started in another tab, or by the scheduler) is no failure: the caller follows it.
 */
export async function runNow(accountId: string): Promise<void> {
  let job: Awaited<ReturnType<typeof api.runNow>>;
  try {
    job = await api.runNow(accountId);
  } catch (error) {
    if (isActiveJobConflict(error)) return;
    throw error;
  }
  if (job && typeof job === 'object' && 'id' in job)
    store.dispatch({ type: 'event', event: { id: 0, type: 'job.updated', at: job.createdAt, job } });
  store.dispatch({ type: 'answered', accountId, prompt: null });
}

/**
 * "Try a background run": a run as the scheduler starts it (nobody is asked). Its log is followed
 * live from the start, for the line that says how the code came.
 */
export async function tryBackgroundRun(accountId: string): Promise<Job> {
  const job = await api.startJob(accountId, 'background');
  store.dispatch({ type: 'event', event: { id: 0, type: 'job.updated', at: job.createdAt, job } });
  store.dispatch({ type: 'logs', jobId: job.id, lines: [] });
  void loadLogs(job.id).catch(() => {});
  return job;
}

/** The stack's 409 for "this account already has an active job" (its details name the job). */
function isActiveJobConflict(error: unknown): boolean {
  if (!(error instanceof ApiRequestError) || error.status !== 409) return false;
  const details = (error.body as { details?: { jobId?: unknown } } | undefined)?.details;
  return typeof details?.jobId === 'string';
}
