import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  BUDGET_LOG_PREFIX,
  CODE_SOURCE_LOG_LINE,
  secretFieldNames,
  siteTwoFa,
  twoFaState,
  type AccountState,
  type FileEntry,
  type LogLevel,
  type PromptStatus,
  type TwoFaReply,
} from '@gleaner/contracts';
import { SecretScrubber, safeJoin, type HostHandlers } from '@gleaner/konnector/host';
import { budgetPolicy, checkCodeBudget, type BudgetVerdict } from '../core/code-budget.js';
import { CodeSourceService } from '../code-sources/service.js';
import { diskFaultKind, diskFaultSentence } from '../disk-faults.js';
import type { InstalledKonnector } from '../registry/registry.js';
import { logSecrets } from '../logger.js';
import { MAX_LINE_CHARS } from '../runner/spawn-konnector.js';
import { UnreadableSecretError } from '../secrets/keyring.js';
import { accountAad } from '../secrets/sealed.js';
import type { CodeSourceKind, FileRecord, JobRecord } from '../storage/stores.js';
import { iso } from './clock.js';
import { MIN_RESEND_COOLDOWN_MS, PromptService } from './prompts.js';
import { mkdirPrivate, openStagedFile, StagedFileRefused, takeStagedFile } from './staged-file.js';
import {
  fileView,
  filesRoot,
  jobStaging,
  publishAccount,
  publishJob,
  publishPrompt,
  type StackContext,
} from './context.js';
import { CREDENTIALS_UNREADABLE, unreadableWhy } from './unreadable-secrets.js';

/** An error whose message is the code the konnector receives (serveHost maps it). */
const fail = (code: string): Error => new Error(code);

const MAX_ACCOUNT_DATA_BYTES = 1024 * 1024;
const MAX_SESSION_BYTES = 4 * 1024 * 1024;
/** After a prompt's deadline, an answer accepted at the last moment may still be on its way. */
const LATE_CODE_GRACE_MS = 5_000;

type Waiter = {
  promptId: string;
  close(status: Exclude<PromptStatus, 'waiting' | 'answered'>): Promise<void>;
  /** An approval in the provider's app went through: answered, with no code. */
  approve(): Promise<void>;
  /** The next reply for the konnector: a code, a request for a new one, or the end of the wait. */
  next(): Promise<TwoFaReply>;
  /** Records what the site said of the new code the konnector asked for. */
  resent(report: Parameters<HostHandlers['twoFaResent']>[0]): Promise<void>;
};

export type JobHost = {
  handlers: HostHandlers;
  /** Ends the job's waits (prompts closed with this status), flushes its logs, removes its staging. */
  close(status: 'cancelled' | 'interrupted'): Promise<void>;
  /** Stops the 2FA waits at once (cancel, shutdown) without waiting for the rest. */
  abortWaits(status: 'cancelled' | 'interrupted'): Promise<void>;
  /** Whether the account's credentials open; when not, the job log says why (checked before the run starts). */
  credentialsReadable(): Promise<boolean>;
};

/**
 * The host side of one job: serves its konnector with the account it runs for and nothing else.
 * Fields reach the konnector only through `start` (over IPC); the session and account data are
 * sealed at rest; files land under the account's folder, moved only from this job's staging folder.
 */
export function createJobHost(
  ctx: StackContext,
  job: JobRecord,
  konnector: InstalledKonnector,
  hooks: { onAccountState(state: AccountState): void },
): JobHost {
  const { storage, keyring, config, logger } = ctx;
  const accountId = job.accountId;
  const staging = jobStaging(config, job.id);
  /** The run's secrets (password fields, codes), scrubbed from its output in every form they take. */
  const secrets = new SecretScrubber(3);
  /** The same values, out of the stack's own log too while the job runs. */
  const loggedSecrets: Array<() => void> = [];
  const waiters = new Set<Waiter>();
  const codeSources = new CodeSourceService(ctx);
  /** The kinds the account's code sources answer with nobody there, read when the run starts. */
  let silentKinds: CodeSourceKind[] = [];
  /** Codes a source already gave in this run: one the site refused is not given again. */
  const sourceCodes = new Set<string>();
  /** A code received before the run began is an earlier run's. */
  const runStartedAt = ctx.clock.now();
  let logSeq = 0;
  let logChain: Promise<void> = Promise.resolve();
  let truncated = false;

  /**
   * Scrubbed before it is cut, so that a cut never leaves the start of a secret. A line at the cut's
   * length or longer may itself be the head of a longer one (the runner and the SDK cut too): its
   * last characters, where a secret cut off there would start, are dropped unless a whole one is found.
   */
  const clean = (text: string): string => {
    if (text.length < MAX_LINE_CHARS) return secrets.scrub(text);
    const head = secrets.scrubHead(text);
    return `${head.slice(0, MAX_LINE_CHARS)}…`;
  };

  const account = async () => {
    const record = await storage.accounts.get(accountId);
    if (!record) throw fail('USER_ACTION_NEEDED.ACCOUNT_REMOVED');
    return record;
  };

  const setState = async (state: AccountState) => {
    await storage.accounts.update(accountId, { state, updatedAt: iso(ctx.clock.now()) });
    hooks.onAccountState(state);
    await publishAccount(ctx, accountId);
  };

  /**
   * Opens one of the account's sealed values; one that does not open is logged for the job (why,
   * never the value) and read as absent. Credentials are checked before the run (credentialsReadable).
   */
  const openSealed = (column: 'credentials' | 'session' | 'data', sealed: string | null): string | null => {
    if (sealed === null) return null;
    try {
      return keyring.open(sealed, accountAad(accountId, column));
    } catch (error) {
      if (!(error instanceof UnreadableSecretError)) throw error;
      const why = unreadableWhy(error.reason, error.keyId);
      logger.warn({ jobId: job.id, accountId, column, reason: error.reason, keyId: error.keyId }, `account ${column} unreadable`);
      log(
        column === 'credentials' ? 'error' : 'warn',
        column === 'credentials'
          ? `the saved credentials cannot be read (${why}): enter the password again`
          : column === 'session'
            ? `the saved session cannot be read (${why}): logging in again`
            : `the saved account data cannot be read (${why}): starting without it`,
        iso(ctx.clock.now()),
      );
      return null;
    }
  };

  const log = (level: LogLevel, message: string, at: string): void => {
    if (truncated) return;
    const seq = logSeq++;
    let line = { jobId: job.id, seq, level, message: clean(message), at };
    if (seq >= config.maxLogLinesPerJob) {
      truncated = true;
      line = { ...line, level: 'warn', message: `log truncated after ${config.maxLogLinesPerJob} lines` };
    }
    logChain = logChain.then(async () => {
      try {
        await storage.logs.append(line);
        await ctx.events.publish({ type: 'job.log', line });
      } catch (error) {
        logger.warn({ err: error, jobId: job.id }, 'could not store a job log line');
      }
    });
  };

  /** Whether the account's budget allows one more code now (see core/code-budget.ts). */
  const codeBudget = async (): Promise<BudgetVerdict> => {
    const policy = budgetPolicy(konnector.manifest.codeBudget, config.codeBudget);
    const now = ctx.clock.now();
    const lookBack = Math.max(policy.windowHours * 3_600_000, policy.backoffMinutes * 60_000 + config.twoFaTimeoutCapMs, policy.resendSeconds * 1000);
    const history = await storage.prompts.listByAccountSince(accountId, iso(now - lookBack));
    return checkCodeBudget(
      policy,
      history.map((p) => ({
        createdAt: Date.parse(p.createdAt),
        expiresAt: Date.parse(p.expiresAt),
        status: p.status,
        retry: p.retry,
        resendAvailableAt: p.resendAvailableAt === null ? null : Date.parse(p.resendAvailableAt),
      })),
      { mode: job.mode, now },
    );
  };

  /** The prompt the konnector is asking the site a new code for (between a `resend` reply and its `twoFaResent`). */
  let resending: Waiter | null = null;

  const waitForCode = async (params: Parameters<HostHandlers['waitForTwoFaCode']>[0]): Promise<TwoFaReply> => {
    // A background run waits only for a code one of the account's sources gives with nobody there.
    const bySource = params.type !== undefined && (silentKinds as string[]).includes(params.type);
    if (job.mode === 'background' && !bySource) throw fail('USER_ACTION_NEEDED.TWOFA_EXPIRED');
    const earlier = await storage.prompts.listByJob(job.id);
    if (earlier.length >= config.maxPromptsPerJob) throw fail('LOGIN_FAILED.TOO_MANY_ATTEMPTS');
    if (!params.retry) {
      // A konnector that asks before its site sends (a choice of where the code goes) stops here.
      const budget = await codeBudget();
      if (!budget.ok) {
        log('warn', `${BUDGET_LOG_PREFIX}${budget.sentence}`, iso(ctx.clock.now()));
        throw fail('TWOFA_BUDGET_EXCEEDED');
      }
    }
    for (const waiter of [...waiters]) await waiter.close('cancelled');

    const now = ctx.clock.now();
    const timeoutMs = Math.max(1, Math.min(params.timeoutMs, config.twoFaTimeoutCapMs));
    const promptId = randomUUID();
    let type = params.type;
    let method = params.method;
    /** The request of the konnector waiting for the next reply, if one is. */
    let pending: { resolve(reply: TwoFaReply): void; reject(error: Error): void } | null = null;
    /** A final outcome that came while no request was waiting (during a resend): the next one gets it. */
    let buffered: { reply: TwoFaReply } | { error: string } | null = null;
    let settled = false;
    let expiry: NodeJS.Timeout | undefined;
    let lateTimer: NodeJS.Timeout | undefined;
    const nextReply = (): Promise<TwoFaReply> => {
      if (buffered) {
        const outcome = buffered;
        buffered = null;
        return 'reply' in outcome ? Promise.resolve(outcome.reply) : Promise.reject(fail(outcome.error));
      }
      if (settled) return Promise.reject(fail('JOB_INTERRUPTED'));
      const reply = new Promise<TwoFaReply>((resolve, reject) => {
        pending = { resolve, reject };
      });
      // The wait may end (the stack closing, the job cancelled) while the prompt is still being stored
      // and published, before the handler awaits it: that rejection is not an unhandled one.
      reply.catch(() => undefined);
      return reply;
    };
    const hand = (outcome: { reply: TwoFaReply } | { error: string }) => {
      const waiting = pending;
      pending = null;
      if (!waiting) buffered = outcome;
      else if ('reply' in outcome) waiting.resolve(outcome.reply);
      else waiting.reject(fail(outcome.error));
    };
    const finish = (outcome: { reply: TwoFaReply } | { error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(expiry);
      clearTimeout(lateTimer);
      stopListening();
      stopSources();
      waiters.delete(waiter);
      hand(outcome);
    };
    let sourceTimer: NodeJS.Timeout | undefined;
    let stopMailbox: (() => void) | null = null;
    const stopSources = () => {
      clearTimeout(sourceTimer);
      stopMailbox?.();
    };
    /** Watches the person's mailbox for the site's e-mail; one that cannot be read leaves the code to the person. */
    const watchMailbox = async (): Promise<void> => {
      const previous = earlier.at(-1);
      const stop = await codeSources.watchMailbox(accountId, {
        since: previous ? Date.parse(previous.createdAt) : runStartedAt,
        used: sourceCodes,
        onCode: (code) => {
          sourceCodes.add(code);
          secrets.add(code);
          void new PromptService(ctx)
            .answer(promptId, code, { source: 'email' })
            .then((outcome) => {
              if (outcome !== 'accepted') log('warn', `the code read from the mailbox was not taken (${outcome})`, iso(ctx.clock.now()));
            })
            .catch(sourceFailed);
        },
        onError: (message) => {
          if (settled) return;
          log(
            'warn',
            job.mode === 'background'
              ? `${message}: nobody is there to type the code; fix the mailbox in the account's Codes`
              : `${message}: type the code instead; fix the mailbox in the account's Codes`,
            iso(ctx.clock.now()),
          );
          void publishAccount(ctx, accountId).catch(sourceFailed);
          if (job.mode === 'background') void waiter.close('expired').catch(sourceFailed);
        },
      });
      if (stop && settled) stop();
      else stopMailbox = stop;
    };
    /**
     * The stored authenticator secret answers an app_code prompt at once; when its current code is
     * one the site already refused in this run, it answers with the next one, when that begins.
     */
    const answerFromAuthenticator = async (): Promise<void> => {
      if (settled) return;
      const at = ctx.clock.now();
      const current = await codeSources.authenticatorCode(accountId, at);
      if (!current || settled) return;
      if (current.given || sourceCodes.has(current.code)) {
        sourceTimer = setTimeout(() => void answerFromAuthenticator().catch(sourceFailed), current.nextInMs + 50);
        return;
      }
      sourceCodes.add(current.code);
      secrets.add(current.code);
      // Marked given before it is sent: the site may take it before this records anything.
      await storage.codeSources.touch(accountId, 'app_code', { lastCodeAt: iso(at) });
      const outcome = await new PromptService(ctx).answer(promptId, current.code, { source: 'app_code' });
      if (outcome !== 'accepted') log('warn', `the stored authenticator secret's code was not taken (${outcome})`, iso(ctx.clock.now()));
    };
    const sourceFailed = (error: unknown) => logger.warn({ err: error, jobId: job.id }, 'a code source failed');
    // Listen before the prompt exists: an answer can only come after it is stored.
    const stopListening = ctx.promptBus.listen(promptId, (message) => {
      if (message.kind === 'code') {
        const code = message.code.reveal();
        secrets.add(code);
        loggedSecrets.push(logSecrets.add(code));
        if (message.source) log('info', CODE_SOURCE_LOG_LINE[message.source], iso(ctx.clock.now()));
        finish({
          reply: {
            code,
            ...(method ? { method } : {}),
            ...(params.trustDevice ? { trustDevice: message.trustDevice ?? params.trustDevice.checked } : {}),
          },
        });
      } else if (message.kind === 'locked') {
        log('error', `the prompt was locked after ${config.maxCodeAttempts} malformed codes`, iso(ctx.clock.now()));
        finish({ error: 'LOGIN_FAILED.TOO_MANY_ATTEMPTS' });
      } else if (message.kind === 'resend') {
        // One request for a new code at a time: the stack's cooldown already spaced them out.
        if (settled || !pending) return;
        resending = waiter;
        log('info', `the person asked for a new code${message.method ? ` (${message.method})` : ''}`, iso(ctx.clock.now()));
        hand({ reply: { resend: message.method ? { method: message.method } : {} } });
      } else {
        finish({ error: 'JOB_CANCELLED' });
      }
    });
    /** Closes the prompt (if still waiting), tells Home, and ends the wait with `outcome`. */
    const end = async (status: Exclude<PromptStatus, 'waiting'>, outcome: { reply: TwoFaReply } | { error: string }) => {
      if (settled) return;
      if (await storage.prompts.closeIfWaiting(promptId, status)) await publishPrompt(ctx, promptId);
      finish(outcome);
    };
    /** Ends the wait when the prompt's time is up (armed again when a new code comes with its own lifetime). */
    const armExpiry = (ms: number) => {
      clearTimeout(expiry);
      expiry = setTimeout(() => {
        void (async () => {
          const closed = await storage.prompts.closeIfWaiting(promptId, 'expired');
          if (closed) {
            await publishPrompt(ctx, promptId);
            finish({ error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
            return;
          }
          // Answered at the last moment: its code is on the way through the bus.
          if (!settled)
            lateTimer = setTimeout(() => finish({ error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' }), LATE_CODE_GRACE_MS);
        })().catch((error: unknown) => {
          logger.error({ err: error, promptId }, 'could not expire a prompt');
          finish({ error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
        });
      }, ms);
    };
    const waiter: Waiter = {
      promptId,
      approve: () => end('answered', { reply: { code: '' } }),
      close: (status) =>
        end(status, {
          error:
            status === 'expired'
              ? 'USER_ACTION_NEEDED.TWOFA_EXPIRED'
              : status === 'cancelled'
                ? 'JOB_CANCELLED'
                : 'JOB_INTERRUPTED',
        }),
      next: nextReply,
      async resent(report) {
        if (settled) return;
        const at = ctx.clock.now();
        if (!report.ok) {
          log('warn', 'the site did not send a new code: the last one stands', iso(at));
          return;
        }
        const newType = report.type ?? type;
        const lifetime = report.timeoutMs === undefined ? undefined : Math.max(1, Math.min(report.timeoutMs, config.twoFaTimeoutCapMs));
        const changed = await storage.prompts.updateDetails(promptId, {
          ...(newType !== type ? { type: newType ?? null } : {}),
          ...(report.destination !== undefined ? { destination: report.destination } : {}),
          ...(report.attemptsLeft !== undefined ? { attemptsLeft: report.attemptsLeft } : {}),
          ...(report.method !== undefined ? { method: report.method } : {}),
          ...(lifetime !== undefined ? { expiresAt: iso(at + lifetime) } : {}),
          // The konnector states the site's cooldown; the stack's own floor holds whatever it says.
          ...(report.cooldownMs !== undefined
            ? { resendAvailableAt: iso(at + Math.max(report.cooldownMs, MIN_RESEND_COOLDOWN_MS)) }
            : {}),
        });
        if (!changed) return;
        if (lifetime !== undefined) armExpiry(lifetime);
        log('info', `a new code was sent${report.method ? ` (${report.method})` : ''}`, iso(at));
        method = report.method ?? method;
        if (newType !== type) {
          type = newType;
          const state = twoFaState(type, params.retry);
          await setState(state);
        }
        await publishPrompt(ctx, promptId);
      },
    };
    waiters.add(waiter);
    const reply = nextReply();

    try {
      await storage.transaction(async (tx) => {
        await tx.prompts.insert({
          id: promptId,
          jobId: job.id,
          accountId,
          type: type ?? null,
          retry: params.retry,
          status: 'waiting',
          attempts: 0,
          createdAt: iso(now),
          expiresAt: iso(now + timeoutMs),
          destination: params.destination ?? null,
          attemptsLeft: params.attemptsLeft ?? null,
          methods: params.methods ?? [],
          method: params.method ?? null,
          trustDevice: params.trustDevice ?? null,
          resendAvailableAt: params.resend ? iso(now + params.resend.cooldownMs) : null,
        });
        await tx.accounts.update(accountId, { state: twoFaState(type, params.retry), updatedAt: iso(now) });
      });
    } catch (error) {
      finish({ error: 'UNKNOWN_ERROR' });
      throw error;
    }

    // Armed before anything else awaits: an answer may come as soon as the row exists.
    if (!settled) armExpiry(timeoutMs);
    hooks.onAccountState(twoFaState(type, params.retry));
    await publishPrompt(ctx, promptId);
    await publishAccount(ctx, accountId);
    // The sources, in their order: the authenticator secret first (the person stays free to type one).
    if (type === 'app_code' && silentKinds.includes('app_code')) void answerFromAuthenticator().catch(sourceFailed);
    if (type === 'email' && silentKinds.includes('email')) void watchMailbox().catch(sourceFailed);
    return reply;
  };

  const handlers: HostHandlers = {
    async start() {
      const record = await account();
      const opened = openSealed('credentials', record.credentials);
      if (opened === null) throw fail(CREDENTIALS_UNREADABLE);
      const fields = JSON.parse(opened) as Record<string, string>;
      for (const [name, spec] of Object.entries(konnector.manifest.fields)) {
        const value = fields[name];
        if (spec.type === 'password') {
          secrets.add(value);
          loggedSecrets.push(logSecrets.add(value));
        }
      }
      await mkdir(staging, { recursive: true, mode: 0o700 });
      // What the site may ask for decides whether a background run may post the credentials.
      const [asked, everLoggedIn, budget, silent] = await Promise.all([
        storage.prompts.typesAsked(accountId),
        storage.jobs.everLoggedIn(accountId),
        codeBudget(),
        codeSources.silentKinds(accountId),
      ]);
      silentKinds = silent;
      if (!budget.ok) logger.info({ jobId: job.id, accountId, reason: budget.reason }, 'budget of codes spent');
      return {
        jobId: job.id,
        accountId,
        konnector: job.konnector,
        mode: job.mode,
        fields,
        state: record.state,
        stagingDir: staging,
        twoFaTimeoutCapMs: config.twoFaTimeoutCapMs,
        siteTwoFa: siteTwoFa({ asked, everLoggedIn, manifest: konnector.manifest.twofa }),
        secretFields: secretFieldNames(konnector.manifest.fields),
        ...(budget.ok ? {} : { codeBudgetRefused: budget.sentence }),
        silentTwoFa: silentKinds,
      };
    },

    async updateAccountAttributes({ attrs }) {
      if (attrs.state !== undefined) await setState(attrs.state);
      return {};
    },

    async getAccountData() {
      const record = await account();
      const opened = openSealed('data', record.data);
      return { data: opened === null ? {} : (JSON.parse(opened) as Record<string, unknown>) };
    },

    async saveAccountData({ data, merge }) {
      const record = await account();
      const opened = openSealed('data', record.data);
      const before = opened === null ? {} : (JSON.parse(opened) as Record<string, unknown>);
      const next = merge ? { ...before, ...data } : data;
      const json = JSON.stringify(next);
      if (json.length > MAX_ACCOUNT_DATA_BYTES) throw fail('UNKNOWN_ERROR');
      await storage.accounts.update(accountId, { data: keyring.seal(json, accountAad(accountId, 'data')) });
      return { data: next };
    },

    async loadSession() {
      const record = await account();
      return { session: openSealed('session', record.session) };
    },

    async saveSession({ session }) {
      if (session !== null && session.length > MAX_SESSION_BYTES) throw fail('UNKNOWN_ERROR');
      const record = await account();
      await storage.accounts.update(accountId, {
        session: session === null ? null : keyring.seal(session, accountAad(accountId, 'session')),
        // A fresh session answers a reset.
        ...(record.state === 'RESET_SESSION' && session !== null ? { state: null } : {}),
        updatedAt: iso(ctx.clock.now()),
      });
      if (record.state === 'RESET_SESSION' && session !== null) hooks.onAccountState(null);
      await publishAccount(ctx, accountId);
      return {};
    },

    async sessionHealth(health) {
      const at = iso(ctx.clock.now());
      await storage.notifications.setSessionHealth(accountId, {
        ...(health.sessionExpiresAt !== undefined
          ? { sessionExpiresAt: health.sessionExpiresAt === null ? null : iso(Date.parse(health.sessionExpiresAt)) }
          : {}),
        ...(health.deviceExpiresAt !== undefined
          ? { deviceExpiresAt: health.deviceExpiresAt === null ? null : iso(Date.parse(health.deviceExpiresAt)) }
          : {}),
        updatedAt: at,
      });
      await ctx.sessionHealthChanged?.(accountId);
      await publishAccount(ctx, accountId);
      return {};
    },

    waitForTwoFaCode: (params) => waitForCode(params),
    async twoFaResent(report) {
      const waiter = resending;
      resending = null;
      if (!waiter) throw fail('JOB_INTERRUPTED');
      await waiter.resent(report);
      return waiter.next();
    },
    async twoFaApproved() {
      // None left (it expired as the site said yes): the site's word is what counts, the run goes on.
      for (const waiter of [...waiters]) await waiter.approve();
      return {};
    },

    async listFiles() {
      return { files: (await storage.files.list(accountId)).map(toEntry) };
    },

    async saveFile(params) {
      try {
        const root = filesRoot(config.dataDir, accountId);
        const target = safeJoin(root, params.folder, params.name);
        // Nothing of the staged path is trusted: see openStagedFile.
        let staged;
        try {
          staged = await openStagedFile(staging, params.stagedPath);
        } catch (error) {
          if (error instanceof StagedFileRefused)
            log('warn', `refused to save ${JSON.stringify(params.stagedPath)}: ${error.message}`, iso(ctx.clock.now()));
          throw error;
        }
        let taken;
        try {
          await mkdirPrivate(dirname(root), dirname(target));
          taken = await takeStagedFile(staged, target);
        } finally {
          await staged.handle.close().catch(() => undefined);
        }
        const { size, sha256 } = taken;
        const record: FileRecord = {
          id: randomUUID(),
          accountId,
          jobId: job.id,
          name: params.name,
          folder: params.folder,
          size,
          sha256,
          attributes: params.attributes,
          bill: params.bill ?? null,
          savedAt: iso(ctx.clock.now()),
        };
        const saved = await storage.files.upsert(record);
        await storage.jobs.incrementFilesSaved(job.id);
        await ctx.events.publish({ type: 'file.saved', file: fileView(saved) });
        await publishJob(ctx, job.id);
        return toEntry(saved);
      } catch (error) {
        logger.warn({ err: error, jobId: job.id }, 'a konnector could not save a file');
        const fault = diskFaultKind(error);
        if (fault) {
          // The operator's to fix: the job log says which folder, the code says full or not.
          log(
            'error',
            `could not save ${params.name}: ${diskFaultSentence(fault, filesRoot(config.dataDir, accountId))}`,
            iso(ctx.clock.now()),
          );
          throw fail(fault === 'full' ? 'DISK_QUOTA_EXCEEDED' : 'SAVE_FILE_FAILED');
        }
        throw fail('SAVE_FILE_FAILED');
      }
    },

    onLog(entry) {
      log(entry.level, entry.message, entry.at);
    },
  };

  const abortWaits = async (status: 'cancelled' | 'interrupted') => {
    for (const waiter of [...waiters]) await waiter.close(status);
  };

  // Once the job is over, a request still in flight from its (exited) process changes nothing.
  let ended = false;
  const guarded: Record<string, unknown> = {
    onLog: (entry: Parameters<HostHandlers['onLog']>[0]) => handlers.onLog(entry),
  };
  for (const [name, handler] of Object.entries(handlers)) {
    if (name === 'onLog') continue;
    guarded[name] = async (params: unknown) => {
      if (ended) throw fail('JOB_INTERRUPTED');
      return (handler as (p: unknown) => Promise<unknown>)(params);
    };
  }

  return {
    handlers: guarded as HostHandlers,
    abortWaits,
    async credentialsReadable() {
      return openSealed('credentials', (await account()).credentials) !== null;
    },
    async close(status) {
      ended = true;
      await abortWaits(status);
      try {
        await rm(staging, { recursive: true, force: true });
      } catch (error) {
        // Logged for the job; never in the way of its end.
        logger.warn({ err: error, jobId: job.id }, 'could not remove the staging folder');
        log(
          'warn',
          `could not remove the staging folder ${staging}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          iso(ctx.clock.now()),
        );
      }
      await logChain;
      for (const forget of loggedSecrets.splice(0)) forget();
    },
  };
}

function toEntry(f: FileRecord): FileEntry {
  return {
    name: f.name,
    folder: f.folder,
    size: f.size,
    sha256: f.sha256,
    attributes: f.attributes,
    ...(f.bill ? { bill: f.bill } : {}),
    savedAt: f.savedAt,
  };
}
