import type { Logger } from 'pino';
import type { Account, FileInfo, Job, Prompt } from '@gleaner/contracts';
import type { KonnectorRegistry } from '../registry/registry.js';
import type { Keyring } from '../secrets/keyring.js';
import type { AccountRecord, FileRecord, JobRecord, PromptRecord, Storage, Stores } from '../storage/stores.js';
import type { SandboxLimits } from '../runner/sandbox.js';
import type { PgNotifier } from '../storage/pg-notify.js';
import type { CodeBudgetPolicy } from '../core/code-budget.js';
import type { Clock } from './clock.js';
import type { EventHub } from './events.js';
import type { PromptBus } from './prompt-bus.js';

export type StackConfig = {
  dataDir: string;
  concurrency: number;
  jobTimeLimitMs: number;
  memoryLimitMb: number;
  twoFaTimeoutCapMs: number;
  maxCodeAttempts: number;
  maxPromptsPerJob: number;
  maxLogLinesPerJob: number;
  /** The budget of codes of accounts whose manifest declares none (each field its own fallback). */
  codeBudget: CodeBudgetPolicy;
  killGraceMs: number;
  /** Where each job's staging folder is made (`<stagingDir>/<jobId>`). */
  stagingDir: string;
  /** Most MiB a job's staging folder may hold. */
  stagingLimitMb: number;
  sandbox: SandboxStatus & { limits: SandboxLimits; bwrapPath: string; nproc: number | null };
};

/**
 * `on`: every job runs under bubblewrap; `off`: turned off by the operator (`--no-sandbox`), every
 * job runs as a plain process; `unavailable`: bubblewrap missing or broken, only trusted konnectors run.
 */
export type SandboxStatus = { state: 'on' | 'off' } | { state: 'unavailable'; missing: string; installLine: string };

/** What the runtime's parts share. */
export type StackContext = {
  config: StackConfig;
  storage: Storage;
  keyring: Keyring;
  registry: KonnectorRegistry;
  events: EventHub;
  promptBus: PromptBus;
  /** Messages between nodes sharing one PostgreSQL (LISTEN/NOTIFY); null on SQLite. */
  notifier: PgNotifier | null;
  logger: Logger;
  clock: Clock;
  /** Called when a run reported when its session or remembered device lapses (warnings, resolutions). */
  sessionHealthChanged?: (accountId: string) => Promise<void>;
  /** Called once a job has ended (by the node that ended it): notifications look at what it means. */
  afterJobEnded?: (job: JobRecord) => Promise<void>;
  /** Called when a job no longer uses its konnector's folder (the stack prunes old versions then). */
  onJobEnded?: () => void;
};

export const jobView = (j: JobRecord): Job => ({
  id: j.id,
  accountId: j.accountId,
  konnector: j.konnector,
  konnectorVersion: j.konnectorVersion,
  worker: j.workerId,
  mode: j.mode,
  status: j.status,
  loginStatus: j.loginStatus,
  error: j.error,
  filesSaved: j.filesSaved,
  createdAt: j.createdAt,
  startedAt: j.startedAt,
  endedAt: j.endedAt,
});

export const promptView = (p: PromptRecord): Prompt => ({
  id: p.id,
  jobId: p.jobId,
  accountId: p.accountId,
  type: p.type,
  retry: p.retry,
  status: p.status,
  attempts: p.attempts,
  createdAt: p.createdAt,
  expiresAt: p.expiresAt,
  destination: p.destination,
  attemptsLeft: p.attemptsLeft,
  methods: p.methods,
  method: p.method,
  trustDevice: p.trustDevice,
  resend: p.resendAvailableAt === null ? null : { availableAt: p.resendAvailableAt },
});

export const fileView = (f: FileRecord): FileInfo => ({
  id: f.id,
  accountId: f.accountId,
  jobId: f.jobId,
  name: f.name,
  folder: f.folder,
  size: f.size,
  sha256: f.sha256,
  bill: f.bill,
  savedAt: f.savedAt,
});

/** The account as the API shows it: never a credential, a session or account data. */
export async function accountView(stores: Stores, a: AccountRecord): Promise<Account> {
  const [lastJob, prompt, trigger, health] = await Promise.all([
    stores.jobs.latest(a.id),
    stores.prompts.waitingFor(a.id),
    stores.triggers.get(a.id),
    stores.notifications.getSessionHealth(a.id),
  ]);
  return {
    id: a.id,
    konnector: a.konnector,
    label: a.label,
    state: a.state,
    fields: { ...a.fieldsClear },
    secretFieldsSet: [...a.secretFieldsSet],
    sessionSaved: a.session !== null,
    lastJob: lastJob ? jobView(lastJob) : null,
    prompt: prompt ? promptView(prompt) : null,
    needsAction: a.pausedBy !== null,
    actionNeeded: a.pausedBy,
    nextRunAt: trigger?.frequency === 'off' ? null : (trigger?.nextRunAt ?? null),
    sessionHealth: health
      ? { sessionExpiresAt: health.sessionExpiresAt, deviceExpiresAt: health.deviceExpiresAt, renewAt: health.renewAt }
      : null,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

/** Publishes the account's current view (no-op if it was deleted meanwhile). */
export async function publishAccount(ctx: StackContext, accountId: string): Promise<void> {
  const record = await ctx.storage.accounts.get(accountId);
  if (!record) return;
  await ctx.events.publish({ type: 'account.updated', account: await accountView(ctx.storage, record) });
}

export async function publishJob(ctx: StackContext, jobId: string): Promise<void> {
  const record = await ctx.storage.jobs.get(jobId);
  if (record) await ctx.events.publish({ type: 'job.updated', job: jobView(record) });
}

export async function publishPrompt(ctx: StackContext, promptId: string): Promise<void> {
  const record = await ctx.storage.prompts.get(promptId);
  if (record) await ctx.events.publish({ type: 'prompt.updated', prompt: promptView(record) });
}

export function filesRoot(dataDir: string, accountId: string): string {
  return `${dataDir}/files/${accountId}`;
}

/** The default staging root, inside the data folder. */
export function stagingRoot(dataDir: string): string {
  return `${dataDir}/staging`;
}

/** One job's staging folder: the only place its konnector may write. */
export function jobStaging(config: StackConfig, jobId: string): string {
  return `${config.stagingDir}/${jobId}`;
}
