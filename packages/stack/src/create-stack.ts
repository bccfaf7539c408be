import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { budgetPolicy, type CodeBudgetPolicy } from './core/code-budget.js';
import { NotificationService, type NotificationOptions } from './notifications/service.js';
import { lockDataFolder, markNode } from './data-lock.js';
import { tightenDataFolder } from './data-modes.js';
import { asDiskFault } from './disk-faults.js';
import { StackError } from './errors.js';
import { createLogger } from './logger.js';
import { KonnectorRegistry, iconContentType, type FieldDefaults, type RegistryProblem } from './registry/registry.js';
import { installPackage, pruneInstalled, uninstallPackage } from './registry/install-store.js';
import { loadKeyring, type Keyring } from './secrets/keyring.js';
import { resealAll, rotateSecretKey, sealedKeyIds, type RotationResult } from './secrets/rotate.js';
import { isPostgresUrl, openPostgresStorage, redactDatabaseUrl, DatabaseError } from './storage/postgres.js';
import { openSqliteStorage } from './storage/sqlite.js';
import type { Storage, TriggerRecord } from './storage/stores.js';
import type { Stack } from './stack.js';
import { AccountService } from './runtime/accounts.js';
import { markUnreadableAccounts } from './runtime/unreadable-secrets.js';
import { systemClock, type Clock } from './runtime/clock.js';
import {
  fileView,
  filesRoot,
  stagingRoot,
  type SandboxStatus,
  type StackConfig,
  type StackContext,
} from './runtime/context.js';
import { BWRAP_PATH, checkSandbox, DEFAULT_SANDBOX_LIMITS, type SandboxLimits } from './runner/sandbox.js';
import { EventHub } from './runtime/events.js';
import { InProcessPromptBus, PgPromptBus, type PromptBus } from './runtime/prompt-bus.js';
import { PromptService } from './runtime/prompts.js';
import { CodeSourceService } from './code-sources/service.js';
import { JobService } from './runtime/jobs.js';
import { recoverInterrupted, type RecoveryResult } from './runtime/recovery.js';
import { InProcessQueue, type JobQueue } from './runtime/job-queue.js';
import { JobRunner } from './runtime/job-runner.js';
import { PgBossQueue } from './runtime/pg-boss-queue.js';
import { newWorkerId, Workers, type ReapResult } from './runtime/workers.js';
import { PgNotifier } from './storage/pg-notify.js';
import { installedRoot } from './registry/install-store.js';
import { Scheduler, type TickResult } from './runtime/scheduler.js';
import { DEFAULT_MAX_ATTEMPTS } from './core/prompt-lifecycle.js';
import { safeJoin } from '@gleaner/konnector/host';

export type CreateStackOptions = {
  /** Holds gleaner.db, keys/, files/ and staging/ (unless `stagingDir` puts staging elsewhere). */
  dataDir: string;
  /**
   * A `postgres://user:password@host:port/db` URL: the stores live in that PostgreSQL database
   * (migrated at start) instead of `<dataDir>/gleaner.db`. Default: the embedded SQLite. On
   * PostgreSQL several stacks share the database (see docs/scale-out.md): jobs go through pg-boss.
   */
  database?: string;
  /**
   * Whether this node runs jobs; default true. `false` (PostgreSQL only: `serve --no-worker`): it
   * only enqueues them, for `gleaner worker` processes.
   */
  worker?: boolean;
  /** PostgreSQL: between two heartbeats of this worker (and reaps of dead ones); default 2 s. */
  heartbeatMs?: number;
  /** PostgreSQL: a worker silent for longer is dead and its running jobs end JOB_INTERRUPTED; default 10 s. */
  reapAfterMs?: number;
  /** Konnector folders, or folders of konnector folders (see KonnectorRegistry.load). */
  konnectorDirs?: string[];
  /** Field defaults that replace the manifests' for this installation (see KonnectorRegistry.load). */
  fieldDefaults?: FieldDefaults;
  logger?: Logger;
  /** For GLEANER_SECRET_KEY / GLEANER_SECRET_KEY_ID; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Jobs running at once; default 4. */
  concurrency?: number;
  /** Default 15 minutes. */
  jobTimeLimitMs?: number;
  /** Heap cap of each konnector process; default 512. */
  memoryLimitMb?: number;
  /** The longest any waitForTwoFaCode waits; default 10 minutes. */
  twoFaTimeoutCapMs?: number;
  /** Submissions per prompt; default 5. */
  maxCodeAttempts?: number;
  /** Prompts per job (codes refused by the site and asked again); default 10. */
  maxPromptsPerJob?: number;
  /** Default 2000. */
  maxLogLinesPerJob?: number;
  /**
   * Home's address as people reach it (`--public-url`, GLEANER_PUBLIC_URL): the links notifications
   * carry. Without it messages carry no link.
   */
  publicUrl?: string;
  /** Retries, thresholds and warning delay of notifications (see NotificationOptions). */
  notifications?: Partial<Omit<NotificationOptions, 'homeUrl'>>;
  /** The budget of codes where a manifest declares none; default 5 a day (see core/code-budget.ts). */
  codeBudget?: Partial<CodeBudgetPolicy>;
  /** Events kept for replay; default 10 000. */
  eventRetention?: number;
  /** How often due triggers are looked at; default 30 s; `false`: only `scheduler.tick()`. */
  schedulerIntervalMs?: number | false;
  /** Between SIGTERM and SIGKILL of a konnector being stopped; default 2 s. */
  killGraceMs?: number;
  clock?: Clock;
  /** How codes reach waiting jobs; default: across nodes (PgPromptBus) on PostgreSQL, in-process on SQLite. */
  promptBus?: PromptBus;
  /**
   * Every job under bubblewrap; default true. `false` (or `noSandbox: true`, the CLI's `--no-sandbox`)
   * runs every konnector as a plain process with the stack's rights. See docs/sandbox.md.
   */
  sandbox?: boolean;
  /** The same as `sandbox: false`. */
  noSandbox?: boolean;
  /** Default /usr/bin/bwrap. */
  bwrapPath?: string;
  /** CPU seconds, processes, largest file and /tmp size of each sandboxed run (see SandboxLimits). */
  sandboxLimits?: Partial<SandboxLimits>;
  /** Most MiB a job's staging folder may hold before the run is stopped (DISK_QUOTA_EXCEEDED); default 1024. */
  stagingLimitMb?: number;
  /**
   * Where the jobs' staging folders go; default `<data>/staging`, or, when the stack runs as root
   * with the sandbox, `<tmpdir>/gleaner-staging-<hash of the data folder>` (the sandbox's uid must reach it).
   */
  stagingDir?: string;
  /** Konnector slugs to treat as untrusted (as installed packages are): without a sandbox they do not run. */
  untrusted?: string[];
};

/** The Stack, plus what the CLI, Home's server and tests need beyond the API. */
export interface GleanerStack extends Stack {
  /** Konnectors found in folders of konnectors but refused (with the exact manifest path). */
  readonly konnectorProblems: RegistryProblem[];
  /** What restart recovery found at start. */
  readonly recovered: RecoveryResult;
  readonly storage: Storage;
  scheduler: {
    /** Starts the background runs due now (the timer calls it too). */
    tick(): Promise<TickResult>;
    /** The trigger's full record: last skip and its reason. */
    record(accountId: string): Promise<TriggerRecord>;
  };
  /** Whether jobs run sandboxed, and if the sandbox is unavailable, what is missing. */
  readonly sandbox: SandboxStatus;
  /** Where the jobs' staging folders are (`<stagingDir>/<jobId>`): on PostgreSQL, this node's own. */
  readonly stagingDir: string;
  /** This node's worker id (the jobs it runs carry it), or null when it runs no jobs. */
  readonly workerId: string | null;
  cluster: {
    /** Ends what dead workers left running (the timer does it every heartbeat on PostgreSQL). */
    reap(): Promise<ReapResult>;
  };
  secrets: {
    /** New key file, made current, every secret re-sealed under it. */
    rotate(newKeyId?: string): Promise<RotationResult>;
  };
  jobs: Stack['jobs'] & {
    /** Resolves when this job is no longer running in this process. */
    settled(id: string): Promise<void>;
  };
  events: Stack['events'] & {
    /** Resolves once every event so far is stored and pushed. */
    flush(): Promise<void>;
  };
}

/**
 * Opens the stack on a data folder: storage (migrated), secret keys (refusing a key file readable by
 * others), konnectors, restart recovery, then the job queue and the scheduler.
 *
 * @example
 * const stack = await createStack({ dataDir: './data', konnectorDirs: ['./konnectors'] })
 * const account = await stack.accounts.create({ konnector: 'github', fields: { login, password } })
 * await stack.jobs.start(account.id, 'manual')
 */
export async function createStack(options: CreateStackOptions): Promise<GleanerStack> {
  try {
    return await openStack(options);
  } catch (error) {
    // A full, read-only or forbidden data folder is said in one sentence naming it (no stack trace).
    throw asDiskFault(error, resolve(options.dataDir));
  }
}

async function openStack(options: CreateStackOptions): Promise<GleanerStack> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const logger = options.logger ?? createLogger();
  const clock = options.clock ?? systemClock;
  const postgres = options.database !== undefined;
  const runsJobs = options.worker ?? true;
  if (!postgres && !runsJobs)
    throw new StackError('invalid', 'worker: false (serve --no-worker) needs a PostgreSQL database (--database): on SQLite this process is the only one that runs jobs');
  // SQLite: one stack per data folder. PostgreSQL: nodes may share the data folder (docs/scale-out.md).
  const nodeId = newWorkerId();
  const lock = postgres ? markNode(dataDir, nodeId) : lockDataFolder(dataDir);
  let keyring: Keyring;
  let registry: KonnectorRegistry;
  let storage: Storage;
  let notifier: PgNotifier | null = null;
  try {
    storage = await openStorage(dataDir, options.database, logger);
  } catch (error) {
    lock.release();
    throw error;
  }
  try {
    if (options.database !== undefined) notifier = await PgNotifier.open(options.database, logger);
  } catch (error) {
    await storage.close();
    lock.release();
    throw new DatabaseError(
      `could not open the LISTEN connection to the PostgreSQL database ${redactDatabaseUrl(options.database!)}: ${(error as Error).message}`,
    );
  }
  try {
    // What is sealed already decides whether a missing key may be made anew (never, then).
    keyring = loadKeyring({ dataDir, env: options.env ?? process.env, sealedKeyIds: await sealedKeyIds(storage) });
    registry = KonnectorRegistry.load(options.konnectorDirs ?? [], {
      dataDir,
      ...(options.fieldDefaults ? { fieldDefaults: options.fieldDefaults } : {}),
      ...(options.untrusted ? { untrusted: options.untrusted } : {}),
    });
  } catch (error) {
    await notifier?.close();
    await storage.close();
    lock.release();
    throw error;
  }
  for (const problem of registry.problems) {
    logger.error({ dir: problem.dir, source: problem.source, problems: problem.problems }, 'konnector refused or hidden');
  }
  // The versions jobs on other nodes run (PostgreSQL, a shared data folder): read from the database
  // before each prune, so that no node removes a folder another one runs.
  let clusterInUse = new Set<string>();
  const refreshClusterInUse = async () => {
    if (!postgres) return;
    const running = await storage.jobs.list({ statuses: ['running'], limit: 100_000 });
    clusterInUse = new Set(
      running.flatMap((j) => (j.konnectorVersion ? [join(installedRoot(dataDir), j.konnector, j.konnectorVersion)] : [])),
    );
  };
  const inUse = () => new Set([...registry.inUse(), ...clusterInUse]);
  // Versions that no job can use any more: replaced, uninstalled, half-unpacked.
  const prune = async () => {
    try {
      await refreshClusterInUse();
      const removed = pruneInstalled(dataDir, inUse);
      if (removed.length) logger.info({ removed }, 'old konnector versions removed');
    } catch (error) {
      logger.warn({ err: error }, 'could not prune old konnector versions');
    }
  };
  await prune();

  const sandboxLimits: SandboxLimits = { ...DEFAULT_SANDBOX_LIMITS };
  for (const [name, value] of Object.entries(options.sandboxLimits ?? {}) as [keyof SandboxLimits, number][])
    sandboxLimits[name] = positive(value, DEFAULT_SANDBOX_LIMITS[name]);
  const concurrency = positive(options.concurrency, 4);
  // RLIMIT_NPROC counts per uid: nobody's, shared by every sandbox (see SandboxLimits.processes).
  const nproc = process.getuid?.() === 0 ? sandboxLimits.processes * concurrency : null;
  const sandbox = sandboxStatus(options, sandboxLimits, logger, nproc);
  // The sandbox's uid (nobody, when the stack is root) cannot enter the 0700 data folder.
  const stagingBase = resolve(
    options.stagingDir ??
      (sandbox.state === 'on' && process.getuid?.() === 0
        ? join(tmpdir(), `gleaner-staging-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`)
        : stagingRoot(dataDir)),
  );
  // PostgreSQL: each node its own staging folder under the base (which a shared data folder shares).
  const workerId = runsJobs ? nodeId : null;
  const stagingDir = postgres ? join(stagingBase, nodeId) : stagingBase;

  const config: StackConfig = {
    dataDir,
    concurrency,
    jobTimeLimitMs: positive(options.jobTimeLimitMs, 15 * 60_000),
    memoryLimitMb: positive(options.memoryLimitMb, 512),
    twoFaTimeoutCapMs: positive(options.twoFaTimeoutCapMs, 10 * 60_000),
    maxCodeAttempts: positive(options.maxCodeAttempts, DEFAULT_MAX_ATTEMPTS),
    maxPromptsPerJob: positive(options.maxPromptsPerJob, 10),
    maxLogLinesPerJob: positive(options.maxLogLinesPerJob, 2000),
    codeBudget: budgetPolicy(options.codeBudget),
    killGraceMs: positive(options.killGraceMs, 2000),
    stagingDir,
    stagingLimitMb: positive(options.stagingLimitMb, 1024),
    sandbox: { ...sandbox, limits: sandboxLimits, bwrapPath: options.bwrapPath ?? BWRAP_PATH, nproc },
  };
  const events = new EventHub(storage.events, {
    logger,
    retention: positive(options.eventRetention, 10_000),
    now: () => clock.now(),
    notifier,
  });
  const promptBus =
    options.promptBus ??
    (notifier
      ? new PgPromptBus({
          store: storage.promptMessages,
          notifier,
          // The current keyring when a code is sealed or opened: a rotation replaces it.
          keyring: () => ctx.keyring,
          logger,
          now: () => clock.now(),
        })
      : new InProcessPromptBus());
  const ctx: StackContext = {
    config,
    storage,
    keyring,
    registry,
    events,
    promptBus,
    notifier,
    logger,
    clock,
    onJobEnded: () => void prune(),
  };
  const notifications = new NotificationService(ctx, {
    ...options.notifications,
    homeUrl: options.publicUrl ?? (options.env ?? process.env).GLEANER_PUBLIC_URL ?? null,
  });
  ctx.afterJobEnded = (job) => notifications.jobEnded(job);
  ctx.sessionHealthChanged = async (accountId) => {
    await notifications.checkSessions(accountId);
  };
  const runner = workerId ? new JobRunner(ctx, workerId) : null;
  let queue: JobQueue | undefined;
  let workers: Workers | null = null;

  let recovered: RecoveryResult;
  let resealed: RotationResult;
  try {
    if (postgres) {
      const bossQueue = await PgBossQueue.open({
        database: options.database!,
        storage,
        notifier: notifier!,
        logger,
        runner,
        concurrency,
        lostAfterMs: positive(options.reapAfterMs, 10_000),
        now: () => Date.now(),
      });
      queue = bossQueue;
      workers = new Workers(
        ctx,
        runner,
        {
          runsJobs,
          heartbeatMs: positive(options.heartbeatMs, 2000),
          reapAfterMs: positive(options.reapAfterMs, 10_000),
          stagingBase,
        },
        () => bossQueue.resendLost(),
        workerId ?? undefined,
      );
      await workers.register();
      // Only what dead workers left: another live node's jobs go on.
      const reaped = await workers.reap();
      recovered = { jobs: reaped.jobs, prompts: reaped.prompts, accounts: reaped.accounts };
      if (reaped.jobs) logger.warn({ ...recovered, workers: reaped.workers }, 'recovered what dead workers left unfinished');
    } else {
      recovered = await recoverInterrupted(ctx);
      for (const stale of await storage.workers.list()) await storage.workers.delete(stale.id);
      queue = new InProcessQueue(runner!, concurrency);
      workers = new Workers(ctx, runner, { runsJobs, heartbeatMs: 2000, reapAfterMs: 10_000, stagingBase }, null, workerId!);
      await workers.register();
    }
    // Anything sealed under an older key is re-sealed under the current one, so old keys can go.
    resealed = await resealAll(storage, keyring);
    // A value that does not open is an account's state, not a reason to refuse the start.
    await markUnreadableAccounts(storage, resealed.unreadable, logger, clock.now());
    const traversable = sandbox.state === 'on' && process.getuid?.() === 0;
    await prepareStagingRoot(stagingBase, traversable);
    if (stagingDir !== stagingBase && runsJobs) await prepareStagingRoot(stagingDir, traversable);
    // Whatever umask made them: the data folder's folders 0700, its files 0600.
    const tightened = await tightenDataFolder(dataDir, traversable ? [stagingBase] : []);
    if (tightened > 0) logger.info({ dataDir, tightened }, 'data folder modes tightened to 0700/0600');
  } catch (error) {
    await workers?.stop(true).catch(() => undefined);
    await queue?.close().catch(() => undefined);
    events.close();
    await notifier?.close();
    await storage.close();
    lock.release();
    throw error;
  }
  if (resealed.resealed > 0)
    logger.info({ keyId: resealed.keyId, resealed: resealed.resealed }, 'secrets re-sealed under the current key');

  const jobQueue = queue;
  const jobs = new JobService(ctx, jobQueue, runner);
  const accounts = new AccountService(ctx, jobs);
  const prompts = new PromptService(ctx);
  const codeSources = new CodeSourceService(ctx);
  const scheduler = new Scheduler(ctx, jobs);
  await jobQueue.start();
  if (postgres) workers.start();
  let sessionSweep: NodeJS.Timeout | undefined;
  if (options.schedulerIntervalMs !== false) {
    scheduler.start(positive(options.schedulerIntervalMs, 30_000));
    // Every serve node sweeps; the claim of each warning makes one of them send it.
    sessionSweep = setInterval(() => {
      notifications.checkSessions().catch((error: unknown) => logger.warn({ err: error }, 'session sweep failed'));
    }, 3_600_000);
    sessionSweep.unref();
  }

  let closing: Promise<void> | null = null;
  logger.info(
    {
      dataDir,
      database: options.database === undefined ? 'sqlite' : redactDatabaseUrl(options.database),
      konnectors: registry.list().map((k) => k.manifest.slug),
      keyId: keyring.currentId,
      sandbox: sandbox.state,
      worker: workerId,
    },
    'stack started',
  );

  return {
    dataDir,
    get konnectorProblems() {
      return registry.problems;
    },
    recovered,
    sandbox,
    stagingDir,
    workerId,
    cluster: {
      reap: () => workers.reap(),
    },
    storage,
    konnectors: {
      list() {
        registry.refresh();
        return registry.list().map((k) => k.info);
      },
      get(slug) {
        registry.refresh();
        return registry.get(slug)?.info;
      },
      problems() {
        registry.refresh();
        return registry.problems;
      },
      async install(tgz, installOptions = {}) {
        await refreshClusterInUse();
        const result = await installPackage(dataDir, tgz, { force: installOptions.force ?? false, inUse });
        registry.refresh();
        const konnector = registry.get(result.konnector.manifest.slug);
        logger.info(
          { konnector: result.konnector.manifest.slug, version: result.konnector.manifest.version, previousVersion: result.previousVersion },
          'konnector installed',
        );
        if (konnector?.source === 'development')
          logger.warn({ konnector: konnector.manifest.slug, dir: konnector.dir }, 'installed, but a development folder of the same slug wins');
        return { konnector: konnector?.source === 'installed' ? konnector.info : result.konnector.info, previousVersion: result.previousVersion };
      },
      async uninstall(slug, uninstallOptions = {}) {
        const using = (await storage.accounts.list()).filter((a) => a.konnector === slug).length;
        await refreshClusterInUse();
        const { version } = await uninstallPackage(dataDir, slug, {
          force: uninstallOptions.force ?? false,
          accounts: using,
          inUse,
        });
        registry.refresh();
        logger.info({ konnector: slug, version, accounts: using }, 'konnector uninstalled');
      },
      async icon(slug) {
        registry.refresh();
        const konnector = registry.get(slug);
        if (!konnector) throw new StackError('not_found', `no konnector ${slug}`);
        if (!konnector.iconPath) throw new StackError('not_found', `konnector ${slug} has no icon`);
        return { contentType: iconContentType(konnector.iconPath), data: await readFile(konnector.iconPath) };
      },
    },
    accounts: {
      list: () => accounts.list(),
      get: (id) => accounts.get(id),
      create: (input) => accounts.create(input),
      update: (id, input) => accounts.update(id, input),
      remove: (id, options) => accounts.remove(id, options),
      kept: () => accounts.kept(),
      forgetKept: (accountId) => accounts.forgetKept(accountId),
      resetSession: (id) => accounts.resetSession(id),
    },
    jobs: {
      start: (accountId, mode) => jobs.start(accountId, mode),
      get: (id) => jobs.get(id),
      list: (filter) => jobs.list(filter),
      logs: (id) => jobs.logs(id),
      cancel: (id) => jobs.cancel(id),
      settled: (id) => jobs.settled(id),
    },
    prompts: {
      get: (promptId) => prompts.get(promptId),
      answer: (promptId, code, options) => prompts.answer(promptId, code, options),
      resend: (promptId, method) => prompts.resend(promptId, method),
      cancel: (promptId) => prompts.cancel(promptId),
    },
    codeSources: {
      list: (accountId) => codeSources.list(accountId),
      setAuthenticator: (accountId, secret) => codeSources.setAuthenticator(accountId, secret),
      setMailbox: (accountId, input) => codeSources.setMailbox(accountId, input),
      setSmsWebhook: (accountId) => codeSources.setSmsWebhook(accountId),
      test: (accountId, kind) => codeSources.test(accountId, kind),
      remove: (accountId, kind) => codeSources.remove(accountId, kind),
      receiveSms: (hookId, request) => codeSources.receiveSms(hookId, request),
    },
    triggers: {
      get: (accountId) => scheduler.get(accountId),
      set: (accountId, input) => scheduler.set(accountId, input),
    },
    notifications: {
      list: () => notifications.list(),
      get: (id) => notifications.get(id),
      create: (input) => notifications.create(input),
      update: (id, input) => notifications.update(id, input),
      remove: (id) => notifications.remove(id),
      test: (id) => notifications.test(id),
      idle: () => notifications.idle(),
      useListenAddress: (url) => notifications.useListenAddress(url),
      checkSessions: () => notifications.checkSessions(),
      planRenewal: (accountId, at) => notifications.planRenewal(accountId, at),
    },
    files: {
      async list(accountId) {
        await accounts.get(accountId);
        return (await storage.files.list(accountId)).map(fileView);
      },
      async open(fileId) {
        const file = await storage.files.get(fileId);
        if (!file) throw new StackError('not_found', `no file ${fileId}`);
        const path = safeJoin(filesRoot(dataDir, file.accountId), file.folder, file.name);
        if (!existsSync(path)) throw new StackError('not_found', `file ${fileId} is missing on disk`);
        return { file: fileView(file), stream: createReadStream(path) };
      },
    },
    events: {
      subscribe: (afterId, listener) => events.subscribe(afterId, listener),
      flush: () => events.flush(),
    },
    scheduler: {
      tick: () => scheduler.tick(),
      record: (accountId) => scheduler.record(accountId),
    },
    secrets: {
      async rotate(newKeyId) {
        const result = await rotateSecretKey(storage, dataDir, {
          env: options.env ?? process.env,
          ...(newKeyId ? { newKeyId } : {}),
        });
        ctx.keyring = result.keyring;
        return { keyId: result.keyId, accounts: result.accounts, resealed: result.resealed, unreadable: result.unreadable };
      },
    },
    close(graceMs = 10_000) {
      closing ??= (async () => {
        // Every step is tried whatever the one before threw (a full disk, a read-only lock file):
        // a stop always ends; the first failure is reported once all are done.
        const failures = await allSteps(logger, [
          ['the scheduler', () => scheduler.stop()],
          ['the session sweep', () => clearInterval(sessionSweep)],
          ['the jobs', () => jobs.close(graceMs)],
          ['the notifications', () => notifications.close()],
          ['the heartbeat', () => workers.stop(true)],
          // This node's own staging folder (its jobs are over); another node's is never touched.
          ['the staging folder', () => (postgres ? rm(stagingDir, { recursive: true, force: true }) : undefined)],
          ['the event log', () => events.flush()],
          ['the prompt bus', () => promptBus.close()],
          ['the events of other nodes', () => events.close()],
          ['the LISTEN connection', () => notifier?.close()],
          ['the database', () => storage.close()],
          ['the lock', () => lock.release()],
        ]);
        logger.info('stack stopped');
        if (failures[0]) throw asDiskFault(failures[0], dataDir);
      })();
      return closing;
    },
  };
}

/** The embedded SQLite in the data folder, or the PostgreSQL database `database` names. */
function openStorage(dataDir: string, database: string | undefined, logger: Logger): Promise<Storage> {
  if (database === undefined) return openSqliteStorage(join(dataDir, 'gleaner.db'));
  if (!isPostgresUrl(database))
    throw new DatabaseError(
      `the database must be a postgres:// URL (or none, for the SQLite in the data folder), got ${redactDatabaseUrl(database)}`,
    );
  return openPostgresStorage(database, { logger, hold: 'shared' });
}

let sandboxWarningPrinted = false;

/** Off when asked; otherwise bwrap is run once: on, or unavailable with what is missing (logged and printed once). */
function sandboxStatus(
  options: CreateStackOptions,
  limits: SandboxLimits,
  logger: Logger,
  nproc: number | null,
): SandboxStatus {
  if (options.sandbox === false || options.noSandbox === true) {
    logger.warn('sandbox turned off: every konnector runs with the rights of the stack');
    return { state: 'off' };
  }
  const check = checkSandbox(limits, options.bwrapPath, nproc);
  if (check.ok) return { state: 'on' };
  logger.error(
    { missing: check.missing, install: check.installLine },
    'no sandbox: only trusted konnectors will run (install bubblewrap, or start with --no-sandbox)',
  );
  if (!sandboxWarningPrinted) {
    sandboxWarningPrinted = true;
    process.stderr.write(
      `gleaner: no sandbox for konnectors: ${check.missing}.\n` +
        `  Install it: ${check.installLine}\n` +
        '  Until then only trusted konnectors (your own folders) run; installed packages do not.\n',
    );
  }
  return { state: 'unavailable', missing: check.missing, installLine: check.installLine };
}

/**
 * The staging root: made if missing; one the sandbox uid must traverse (outside the data folder)
 * is 0711 and must be ours and not a link, or another local user could have planted it.
 */
async function prepareStagingRoot(dir: string, traversable: boolean): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  if (!info.isDirectory() || info.uid !== process.getuid?.())
    throw new StackError('invalid', `the staging folder ${dir} is not a folder of this user: remove it`);
  await chmod(dir, traversable ? 0o711 : 0o700);
}

/** Runs every step in turn, each even if one before failed; the failures are logged and returned. */
export async function allSteps(logger: Logger, steps: [string, () => unknown][]): Promise<Error[]> {
  const failures: Error[] = [];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (error) {
      logger.error({ err: error }, `could not stop ${what}`);
      failures.push(error instanceof Error ? error : new Error(String(error)));
    }
  }
  return failures;
}

function positive(value: number | undefined | false, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
