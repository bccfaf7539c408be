import { api } from '../api/client.js';
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

/** A manual run (Run now, Reconnect); the job and account events follow over the stream. */
export async function runNow(accountId: string): Promise<void> {
  const job = await api.runNow(accountId);
  if (job && typeof job === 'object' && 'id' in job)
    store.dispatch({ type: 'event', event: { id: 0, type: 'job.updated', at: job.createdAt, job } });
  store.dispatch({ type: 'answered', accountId, prompt: null });
}
