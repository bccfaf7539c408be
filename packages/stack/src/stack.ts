import type { Readable } from 'node:stream';
import type {
  Account,
  AnswerOutcome,
  CodeSource,
  CodeSourceKind,
  FileInfo,
  Job,
  JobLogLine,
  KeptAccount,
  KonnectorInfo,
  KonnectorProblem,
  NotificationChannel,
  NotificationTestResult,
  CreateNotificationChannelBody,
  UpdateNotificationChannelBody,
  Prompt,
  ResendOutcome,
  RunMode,
  StackEvent,
  Trigger,
} from '@gleaner/contracts';
import type { SmsReceipt, SmsRequest } from './code-sources/service.js';

/**
 * The stack as a service: what the HTTP API (and tests, and the CLI) call. Storage, secrets,
 * jobs, the runner, prompts and the scheduler sit behind it; the API layer only maps HTTP to it.
 * Methods throw `StackError` (see errors.ts) with a code the API maps to a status.
 */
export interface Stack {
  readonly dataDir: string;
  konnectors: {
    list(): KonnectorInfo[];
    get(slug: string): KonnectorInfo | undefined;
    /** Konnectors found but refused (each problem names the manifest field), or hidden by a development folder. */
    problems(): KonnectorProblem[];
    /**
     * Installs a package (.tgz bytes): `StackError('invalid')` with `details.problems` for a bad one,
     * `'conflict'` for a same or older version without `force`.
     */
    install(tgz: Buffer, options?: { force?: boolean }): Promise<{ konnector: KonnectorInfo; previousVersion: string | null }>;
    /** `StackError('conflict')` with `details.accounts` while accounts use it, unless `force`; `'not_found'` if not installed. */
    uninstall(slug: string, options?: { force?: boolean }): Promise<void>;
    /** The konnector's icon; `StackError('not_found')` without one. */
    icon(slug: string): Promise<{ contentType: string; data: Buffer }>;
  };
  accounts: {
    list(): Promise<Account[]>;
    get(id: string): Promise<Account>;
    create(input: { konnector: string; label?: string; fields: Record<string, string> }): Promise<Account>;
    update(id: string, input: { label?: string; fields?: Record<string, string> }): Promise<Account>;
    /** Deletes the account; its documents are kept (listed by `kept()`) unless `keepFiles: false`. */
    remove(id: string, options?: { keepFiles?: boolean }): Promise<void>;
    /** The documents of deleted accounts, kept; newest deletion first. */
    kept(): Promise<KeptAccount[]>;
    /** Deletes the kept documents of a deleted account; `StackError('not_found')` if none are kept. */
    forgetKept(accountId: string): Promise<void>;
    /** Drops the saved session; the next run logs in again (RESET_SESSION). */
    resetSession(id: string): Promise<Account>;
  };
  jobs: {
    /** Starts a job; throws `StackError('conflict')` if the account already has an active one. */
    start(accountId: string, mode: RunMode): Promise<Job>;
    get(id: string): Promise<Job>;
    list(filter: { accountId?: string; limit?: number }): Promise<Job[]>;
    logs(id: string): Promise<JobLogLine[]>;
    cancel(id: string): Promise<Job>;
  };
  prompts: {
    get(promptId: string): Promise<Prompt>;
    /** Pushes the code (and the "trust this device" box, when the prompt has one) to the konnector waiting on this prompt. */
    answer(promptId: string, code: string, options?: { trustDevice?: boolean }): Promise<AnswerOutcome>;
    /** Asks the konnector for a new code (by one of the prompt's methods), once per cooldown. */
    resend(promptId: string, method?: string): Promise<{ outcome: ResendOutcome; availableAt: string | null }>;
    cancel(promptId: string): Promise<void>;
  };
  /** An account's code sources (docs/code-sources.md); their secrets are sealed and never returned. */
  codeSources: {
    list(accountId: string): Promise<CodeSource[]>;
    /** Stores the authenticator secret (otpauth:// URI or base32); `StackError('invalid')` names what is wrong. */
    setAuthenticator(accountId: string, secret: string): Promise<{ source: CodeSource; code: string; validForMs: number }>;
    /** Stores the mailbox after connecting to it; `StackError('invalid')` says what the mailbox refused. */
    setMailbox(
      accountId: string,
      input: { host: string; port: number; tls: boolean; user: string; password: string; folder: string },
    ): Promise<{ source: CodeSource; lastMatchAt: string | null }>;
    /** A new SMS webhook (URL and secret); the secret is returned this once. */
    setSmsWebhook(accountId: string): Promise<{ source: CodeSource; secret: string }>;
    test(accountId: string, kind: CodeSourceKind): Promise<{ ok: boolean; message: string; code?: string }>;
    remove(accountId: string, kind: CodeSourceKind): Promise<void>;
    /** A forwarded SMS posted to a webhook (see CodeSourceService.receiveSms). */
    receiveSms(hookId: string, request: SmsRequest): Promise<SmsReceipt>;
  };
  triggers: {
    get(accountId: string): Promise<Trigger>;
    set(accountId: string, input: { frequency: Trigger['frequency']; time?: string }): Promise<Trigger>;
  };
  /** Where the admin is told what needs a person (absent from stacks without them: their API has no such routes). */
  notifications?: {
    list(): Promise<NotificationChannel[]>;
    get(id: string): Promise<NotificationChannel>;
    create(input: CreateNotificationChannelBody): Promise<NotificationChannel>;
    update(id: string, input: UpdateNotificationChannelBody): Promise<NotificationChannel>;
    remove(id: string): Promise<void>;
    /** Sends a test message now; says what failed. */
    test(id: string): Promise<NotificationTestResult>;
    /** Resolves once every delivery under way has ended (tests, shutdown). */
    idle(): Promise<void>;
    /** Plans a manual run at `at` before the account's session lapses (null cancels it). */
    planRenewal(accountId: string, at: string | null): Promise<{ at: string | null }>;
    /** Warns of sessions that lapse soon (the hourly sweep does it too); how many warnings were raised. */
    checkSessions(): Promise<number>;
    /** The server's address, for the links in messages when no public URL was configured. */
    useListenAddress(url: string): void;
  };
  files: {
    list(accountId: string): Promise<FileInfo[]>;
    open(fileId: string): Promise<{ file: FileInfo; stream: Readable }>;
  };
  events: {
    /** Events after `afterId` (replayed from storage), then live ones until unsubscribed. */
    subscribe(afterId: number | null, listener: (event: StackEvent) => void): () => void;
  };
  /** Stops taking jobs; running ones get `graceMs` to finish, then end JOB_INTERRUPTED. */
  close(graceMs?: number): Promise<void>;
}
