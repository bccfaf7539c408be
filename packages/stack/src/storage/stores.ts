import type {
  AccountState,
  BillMetadata,
  ErrorCode,
  JobStatus,
  LoginStatus,
  PromptStatus,
  RunMode,
  TwoFaMethod,
  TwoFaType,
} from '@gleaner/contracts';

/**
 * The storage ports: one interface per concern. Both adapters (SQLite, PostgreSQL) implement them
 * with the same Kysely queries and must pass `test/storage-contract.ts`. Records are plain data; secrets inside them are
 * already sealed (the stores never see a clear credential, session or code).
 */

export type AccountRecord = {
  id: string;
  konnector: string;
  label: string;
  state: AccountState;
  fieldsClear: Record<string, string>;
  secretFieldsSet: string[];
  /** Sealed JSON of all fields. */
  credentials: string;
  /** Sealed session, or null. */
  session: string | null;
  /** Sealed account data, or null. */
  data: string | null;
  /** Set when an error that needs the person pauses scheduled runs. */
  pausedBy: ErrorCode | null;
  createdAt: string;
  updatedAt: string;
};
export type AccountPatch = Partial<Omit<AccountRecord, 'id' | 'konnector' | 'createdAt'>>;

export interface AccountStore {
  insert(account: AccountRecord): Promise<void>;
  get(id: string): Promise<AccountRecord | undefined>;
  list(): Promise<AccountRecord[]>;
  /** Returns false when there is no such account. */
  update(id: string, patch: AccountPatch): Promise<boolean>;
  /** Deletes the account; the caller deletes what hangs off it (see `Stores.deleteAccountCascade`). */
  delete(id: string): Promise<boolean>;
  /** Accounts whose state is one of these (restart recovery clears transient ones). */
  listWithStates(states: NonNullable<AccountState>[]): Promise<AccountRecord[]>;
}

export type JobRecord = {
  id: string;
  accountId: string;
  konnector: string;
  /** Set when the job starts running: the version of the konnector it runs. */
  konnectorVersion: string | null;
  /** The worker that runs (or ran) it: set by the transition to `running`. */
  workerId: string | null;
  mode: RunMode;
  status: JobStatus;
  loginStatus: LoginStatus;
  error: ErrorCode | null;
  filesSaved: number;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
};
export type JobPatch = Partial<
  Pick<JobRecord, 'status' | 'loginStatus' | 'error' | 'filesSaved' | 'startedAt' | 'endedAt' | 'konnectorVersion' | 'workerId'>
>;

export const ACTIVE_JOB_STATUSES: JobStatus[] = ['queued', 'running'];

export interface JobStore {
  /** Inserts a queued job unless the account already has an active one: then returns false. */
  insertIfNoActive(job: JobRecord): Promise<boolean>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Newest first. */
  list(filter: { accountId?: string; statuses?: JobStatus[]; limit?: number }): Promise<JobRecord[]>;
  update(id: string, patch: JobPatch): Promise<boolean>;
  /** Updates only if the job is in one of `from`; returns whether it did (a guarded transition). */
  transition(id: string, from: JobStatus[], patch: JobPatch): Promise<boolean>;
  active(accountId: string): Promise<JobRecord | undefined>;
  latest(accountId: string): Promise<JobRecord | undefined>;
  incrementFilesSaved(id: string): Promise<void>;
  /** Whether a job of the account ever logged in (loginStatus `succeeded`). */
  everLoggedIn(accountId: string): Promise<boolean>;
  deleteForAccount(accountId: string): Promise<void>;
  /** The jobs `running` on one of these workers. */
  runningOn(workerIds: string[]): Promise<JobRecord[]>;
}

export type JobLogRecord = {
  jobId: string;
  seq: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  at: string;
};

export interface LogStore {
  append(line: JobLogRecord): Promise<void>;
  list(jobId: string, limit?: number): Promise<JobLogRecord[]>;
  count(jobId: string): Promise<number>;
  deleteForJobsOf(accountId: string): Promise<void>;
}

export type PromptRecord = {
  id: string;
  jobId: string;
  accountId: string;
  type: TwoFaType | null;
  retry: boolean;
  status: PromptStatus;
  attempts: number;
  createdAt: string;
  expiresAt: string;
  /** What the site said about the code (see the API's Prompt): none of it secret. */
  destination: string | null;
  attemptsLeft: number | null;
  methods: TwoFaMethod[];
  method: string | null;
  trustDevice: { label: string; checked: boolean } | null;
  /** When a new code may be asked; null: the site offers none. */
  resendAvailableAt: string | null;
  /** Who gave the accepted code (a person or one of the account's code sources); null while none was. */
  answeredBy?: CodeAnswerer | null;
};

/** Who answered a prompt: the person, or one of the account's code sources. */
export type CodeAnswerer = 'person' | CodeSourceKind;

/** What a sent code changes on its waiting prompt. */
export type PromptDetailsPatch = Partial<
  Pick<PromptRecord, 'type' | 'destination' | 'attemptsLeft' | 'method' | 'expiresAt' | 'resendAvailableAt'>
>;

export interface PromptStore {
  insert(prompt: PromptRecord): Promise<void>;
  get(id: string): Promise<PromptRecord | undefined>;
  listByJob(jobId: string): Promise<PromptRecord[]>;
  /** The waiting prompt of an account, if any. */
  waitingFor(accountId: string): Promise<PromptRecord | undefined>;
  listWaiting(): Promise<PromptRecord[]>;
  /** The account's prompts made at or after `since` (ISO), oldest first: what the budget of codes counts. */
  listByAccountSince(accountId: string, since: string): Promise<PromptRecord[]>;
  /**
   * Counts one submission, atomically: only while the prompt is waiting, not expired at `now`, and
   * under `maxAttempts`. With `answer`, the same statement marks it answered, so that of two
   * concurrent submissions exactly one wins (`answeredBy` then says who gave it). Returns whether the row changed.
   */
  recordAttempt(
    id: string,
    options: { now: string; maxAttempts: number; answer: boolean; answeredBy?: CodeAnswerer },
  ): Promise<boolean>;
  /**
   * Takes the right to ask for a new code, atomically: only while the prompt is waiting, unexpired at
   * `now`, offers a resend and its cooldown is over; the next one is then allowed from `nextAt`.
   * Of two presses at once exactly one wins. Returns whether it did.
   */
  claimResend(id: string, options: { now: string; nextAt: string }): Promise<boolean>;
  /** Records what the site said of a new code on a waiting prompt; returns whether it was waiting. */
  updateDetails(id: string, patch: PromptDetailsPatch): Promise<boolean>;
  /** Closes a waiting prompt (expired, cancelled, interrupted); returns whether it was waiting. */
  closeIfWaiting(id: string, status: Exclude<PromptStatus, 'waiting'>): Promise<boolean>;
  /** The distinct kinds of 2FA the account's prompts asked for, whatever became of them (null: untyped). */
  typesAsked(accountId: string): Promise<Array<TwoFaType | null>>;
  deleteForAccount(accountId: string): Promise<void>;
}

export type FileRecord = {
  id: string;
  accountId: string;
  jobId: string | null;
  name: string;
  folder: string;
  size: number;
  sha256: string;
  attributes: Record<string, string>;
  bill: BillMetadata | null;
  savedAt: string;
};

export interface FileStore {
  /** Inserts, or replaces the record of the same account, folder and name (keeping its id). */
  upsert(file: FileRecord): Promise<FileRecord>;
  get(id: string): Promise<FileRecord | undefined>;
  list(accountId: string): Promise<FileRecord[]>;
  deleteForAccount(accountId: string): Promise<void>;
}

export type EventRecord = { id: number; type: string; at: string; payload: string };

export interface EventStore {
  /** Appends an event and returns its id; ids only grow. */
  append(event: Omit<EventRecord, 'id'>): Promise<number>;
  /** Events with an id above `afterId`, oldest first. */
  listAfter(afterId: number, limit: number): Promise<EventRecord[]>;
  lastId(): Promise<number>;
  /** Keeps the newest `keep` events. */
  prune(keep: number): Promise<void>;
}

export type PromptMessageRecord = {
  promptId: string;
  kind: 'code' | 'cancelled' | 'locked' | 'resend';
  /** The message sealed with the keyring (bound to the prompt): the code, the box, the method. */
  sealed: string | null;
  at: string;
};

/**
 * The mailbox of waiting jobs, for when the job runs on another node than the one answering: a
 * message stays until its job takes it, so a notification lost on the way loses nothing.
 */
export interface PromptMessageStore {
  /** Leaves a message for the prompt's job (one per prompt: a prompt is answered, cancelled or locked once). */
  put(message: PromptMessageRecord): Promise<void>;
  /** Removes and returns the prompt's message, if any: of two takers exactly one gets it. */
  take(promptId: string): Promise<PromptMessageRecord | undefined>;
  /** Drops messages left before `before` (their job is gone); returns how many. */
  prune(before: string): Promise<number>;
}

export type TriggerRecord = {
  accountId: string;
  frequency: 'daily' | 'weekly' | 'off';
  time: string;
  weekday: number;
  nextRunAt: string | null;
  lastSkippedAt: string | null;
  skipReason: string | null;
};

export interface TriggerStore {
  upsert(trigger: TriggerRecord): Promise<void>;
  get(accountId: string): Promise<TriggerRecord | undefined>;
  /** Triggers whose next run is at or before `now`, oldest first. */
  due(now: string, limit: number): Promise<TriggerRecord[]>;
  /** Moves a trigger's next run only if it is still `expected` (two schedulers never both fire it). */
  advance(accountId: string, expected: string, next: string | null): Promise<boolean>;
  update(accountId: string, patch: Partial<Omit<TriggerRecord, 'accountId'>>): Promise<boolean>;
  delete(accountId: string): Promise<void>;
}

export interface SettingsStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export type WorkerRecord = { id: string; host: string; pid: number; startedAt: string; heartbeatAt: string };

/** The processes that run jobs, and their heartbeats (see runtime/workers.ts). */
export interface WorkerStore {
  insert(worker: WorkerRecord): Promise<void>;
  /** Records a heartbeat; false when the row is gone (another node declared this worker dead). */
  beat(id: string, at: string): Promise<boolean>;
  get(id: string): Promise<WorkerRecord | undefined>;
  list(): Promise<WorkerRecord[]>;
  delete(id: string): Promise<boolean>;
}

/** An account deleted with its documents kept: their records stay in `files`, under its id. */
export type KeptAccountRecord = { accountId: string; konnector: string; label: string; deletedAt: string };

export interface KeptAccountStore {
  insert(record: KeptAccountRecord): Promise<void>;
  get(accountId: string): Promise<KeptAccountRecord | undefined>;
  /** Newest deletion first. */
  list(): Promise<KeptAccountRecord[]>;
  delete(accountId: string): Promise<boolean>;
}

export type NotificationChannelRecord = {
  id: string;
  kind: 'email' | 'webhook' | 'ntfy';
  name: string;
  enabled: boolean;
  /** The non-secret settings (host, port, addresses, URL, topic). */
  settings: Record<string, unknown>;
  /** Sealed (SMTP password, webhook secret, ntfy token), or null. */
  secret: string | null;
  createdAt: string;
  updatedAt: string;
};

/** Why the person was told something about an account; one notification per cause until it is resolved. */
export type NotificationCause = 'needs_person' | 'code_unanswered' | 'failed_nights' | 'session_lapses' | 'device_lapses';

export type SessionHealthRecord = {
  accountId: string;
  sessionExpiresAt: string | null;
  deviceExpiresAt: string | null;
  /** A manual run planned by the person before the session lapses, or null. */
  renewAt: string | null;
  updatedAt: string;
};

export interface NotificationStore {
  insertChannel(channel: NotificationChannelRecord): Promise<void>;
  getChannel(id: string): Promise<NotificationChannelRecord | undefined>;
  /** Oldest first. */
  listChannels(): Promise<NotificationChannelRecord[]>;
  updateChannel(id: string, patch: Partial<Omit<NotificationChannelRecord, 'id' | 'kind' | 'createdAt'>>): Promise<boolean>;
  deleteChannel(id: string): Promise<boolean>;
  /**
   * Takes the right to tell this cause for this account, atomically: true for the one caller (of any
   * node) whose row went in; false while the cause is already told and not resolved.
   */
  claimCause(accountId: string, cause: NotificationCause, at: string): Promise<boolean>;
  /** Resolves causes (they may be told again); returns those that were open. */
  resolveCauses(accountId: string, causes: NotificationCause[]): Promise<NotificationCause[]>;
  openCauses(accountId: string): Promise<NotificationCause[]>;
  /** Sets what is known (a field left undefined is kept). */
  setSessionHealth(accountId: string, patch: { sessionExpiresAt?: string | null; deviceExpiresAt?: string | null; updatedAt: string }): Promise<void>;
  getSessionHealth(accountId: string): Promise<SessionHealthRecord | undefined>;
  listSessionHealth(): Promise<SessionHealthRecord[]>;
  /** Plans (or, with null, cancels) the account's renewal run. */
  setRenewAt(accountId: string, at: string | null, updatedAt: string): Promise<void>;
  /** Accounts whose planned renewal is due at `now`, oldest first. */
  dueRenewals(now: string, limit: number): Promise<Array<{ accountId: string; renewAt: string }>>;
  /** Takes a due renewal only if it is still `expected` (two schedulers never both start it). */
  takeRenewal(accountId: string, expected: string): Promise<boolean>;
  /** Causes and session health of a deleted account. */
  deleteForAccount(accountId: string): Promise<void>;
}

/** The kinds of code source, in the order they are tried when a prompt opens. */
export const CODE_SOURCE_KINDS = ['app_code', 'email', 'sms'] as const;
export type CodeSourceKind = (typeof CODE_SOURCE_KINDS)[number];

/** A code source of an account: its shown settings in clear, its secrets sealed (bound to account and kind). */
export type CodeSourceRecord = {
  accountId: string;
  kind: CodeSourceKind;
  settings: Record<string, string | number | boolean>;
  sealed: string;
  /** The webhook's id in its URL (sms), unique; null for the other kinds. */
  hookId: string | null;
  createdAt: string;
  lastCodeAt: string | null;
  lastMessageAt: string | null;
  lastError: string | null;
};

export type CodeSourcePatch = Partial<Pick<CodeSourceRecord, 'lastCodeAt' | 'lastMessageAt' | 'lastError'>>;

export interface CodeSourceStore {
  /** Sets the account's source of this kind, replacing the one it had. */
  put(record: CodeSourceRecord): Promise<void>;
  get(accountId: string, kind: CodeSourceKind): Promise<CodeSourceRecord | undefined>;
  /** The source whose webhook URL carries `hookId`. */
  byHook(hookId: string): Promise<CodeSourceRecord | undefined>;
  /** The account's sources, in CODE_SOURCE_KINDS order. */
  list(accountId: string): Promise<CodeSourceRecord[]>;
  /** Records what happened to it; returns whether it exists. */
  touch(accountId: string, kind: CodeSourceKind, patch: CodeSourcePatch): Promise<boolean>;
  remove(accountId: string, kind: CodeSourceKind): Promise<boolean>;
  deleteForAccount(accountId: string): Promise<void>;
}

export interface Stores {
  accounts: AccountStore;
  jobs: JobStore;
  logs: LogStore;
  prompts: PromptStore;
  files: FileStore;
  events: EventStore;
  triggers: TriggerStore;
  settings: SettingsStore;
  workers: WorkerStore;
  kept: KeptAccountStore;
  promptMessages: PromptMessageStore;
  notifications: NotificationStore;
  codeSources: CodeSourceStore;
}

/** A storage adapter: the stores, transactions, and its lifecycle. */
export interface Storage extends Stores {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `fn` with stores bound to one transaction; rolls back if it throws. Isolation is each
   * database's default (SQLite: one writer at a time; PostgreSQL: READ COMMITTED): what must not race
   * is one guarded statement (`transition`, `recordAttempt`, `closeIfWaiting`, `advance`, `insertIfNoActive`).
   */
  transaction<T>(fn: (tx: Stores) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
