import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { AccountAttributes, FileEntry, RunContext, RunMode, TwoFaDetails, TwoFaReply } from '@gleaner/contracts';
import {
  isTransientState,
  needsPerson,
  siteTwoFa,
  twoFaState,
  twoFaTypeOf,
  type AccountState,
  type TwoFaType,
} from '@gleaner/contracts/codes';
import { KonnectorError } from '../errors.js';
import { loadOrCreateKey, open, seal } from '../core/local-crypto.js';
import type { KonnectorHost, LogEntry, SaveFileRequest, TwoFaRequest, TwoFaResentReport } from './host.js';
import { safeJoin } from './safe-path.js';

export type CodeRequest = {
  type?: TwoFaType;
  retry: boolean;
  expiresAt: number;
  signal: AbortSignal;
  /** What the site said about the code (where it went, attempts left). */
  details?: TwoFaDetails;
};
/**
 * Asks the person for a code: the terminal in `gleaner run`, a function in tests. It may ask for a
 * new code instead (`{ resend: {} }`, or `{ resend: { method } }` for one of the request's methods).
 */
export type CodeReader = (request: CodeRequest) => Promise<string | { resend: { method?: string } }>;

export type StandaloneHostOptions = {
  /** Holds account.json, the sealed session, files/ and files.json. */
  dataDir: string;
  fields: Record<string, string>;
  mode?: RunMode;
  codeReader?: CodeReader;
  konnector?: string;
  /**
   * The manifest's `twofa`: the kinds of second factor the site may ask for. While the account has
   * never logged in, a background run is told all of them (`RunContext.siteTwoFa`).
   */
  twofa?: TwoFaType[];
  /** The fields the manifest types `password` (`RunContext.secretFields`). */
  secretFields?: string[];
  twoFaTimeoutCapMs?: number;
  onLog?: (entry: LogEntry) => void;
  onStateChange?: (state: AccountState) => void;
};

type AccountFile = {
  state: AccountState;
  data: Record<string, unknown>;
  /** The last states, newest last (HISTORY_LIMIT of them). */
  history: AccountState[];
  /** Every kind of 2FA the account was ever asked for (null: a request that named none); kept whole. */
  twoFaAsked?: Array<TwoFaType | null>;
  /** Whether it ever reached LOGIN_SUCCESS. */
  everLoggedIn?: boolean;
  /** How the last run ended (absent before the first). */
  lastRun?: LastRun;
  /**
   * The error that needs the person (LOGIN_FAILED*, USER_ACTION_NEEDED*), as the stack's accounts
   * have it: set when a run ends with one, cleared when a manual run succeeds.
   */
  needsAction?: string | null;
};

/** What `account.json` keeps of the last run. */
export type LastRun = { mode: RunMode; outcome: 'ok' | 'error'; error: string | null; endedAt: string };

const HISTORY_LIMIT = 50;

/**
 * A host without a stack: the account lives in a local folder and the person is whoever reads the
 * terminal. Used by `gleaner run`, by a bare `node index.js`, and by tests.
 */
export class StandaloneHost implements KonnectorHost {
  readonly #options: StandaloneHostOptions;
  readonly #abort = new AbortController();
  /** Aborted when the konnector reports an approval in the provider app: the question is withdrawn. */
  #approval: AbortController | null = null;
  readonly #key: Buffer;

  constructor(options: StandaloneHostOptions) {
    this.#options = { ...options, dataDir: resolve(options.dataDir) };
    this.#key = loadOrCreateKey(join(this.#options.dataDir, '.key'));
  }

  get cancelled(): AbortSignal {
    return this.#abort.signal;
  }

  /** Cancels the run (Ctrl-C in `gleaner run`): pending waits reject with JOB_CANCELLED. */
  cancel(): void {
    this.#abort.abort('JOB_CANCELLED');
  }

  get #dir() {
    return this.#options.dataDir;
  }

  async #readAccount(): Promise<AccountFile> {
    try {
      return JSON.parse(await readFile(join(this.#dir, 'account.json'), 'utf8')) as AccountFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: null, data: {}, history: [] };
      throw error;
    }
  }

  async #writeAccount(account: AccountFile): Promise<void> {
    await writeAtomic(join(this.#dir, 'account.json'), JSON.stringify(account, null, 2));
  }

  async #setState(state: AccountState): Promise<void> {
    const account = await this.#readAccount();
    account.state = state;
    account.history = [...account.history, state].slice(-HISTORY_LIMIT);
    const asked = twoFaTypeOf(state);
    if (asked !== undefined && !(account.twoFaAsked ?? []).includes(asked)) {
      account.twoFaAsked = [...(account.twoFaAsked ?? []), asked];
    }
    if (state === 'LOGIN_SUCCESS') account.everLoggedIn = true;
    await this.#writeAccount(account);
    this.#options.onStateChange?.(state);
  }

  async start(): Promise<RunContext> {
    await mkdir(join(this.#dir, 'staging'), { recursive: true });
    const account = await this.#readAccount();
    return {
      jobId: randomUUID(),
      accountId: 'local',
      konnector: this.#options.konnector ?? 'local',
      mode: this.#options.mode ?? 'manual',
      fields: this.#options.fields,
      state: account.state,
      stagingDir: join(this.#dir, 'staging'),
      twoFaTimeoutCapMs: this.#options.twoFaTimeoutCapMs ?? 10 * 60_000,
      siteTwoFa: siteTwoFa({
        // An account.json written before these fields existed: its history says what it can.
        asked: account.twoFaAsked ?? account.history.map(twoFaTypeOf).filter((type) => type !== undefined),
        everLoggedIn: account.everLoggedIn ?? account.history.includes('LOGIN_SUCCESS'),
        manifest: this.#options.twofa ?? [],
      }),
      ...(this.#options.secretFields ? { secretFields: this.#options.secretFields } : {}),
    };
  }

  async updateAccountAttributes(attrs: AccountAttributes): Promise<void> {
    if (attrs.state !== undefined) await this.#setState(attrs.state);
  }

  async getAccountData(): Promise<Record<string, unknown>> {
    return (await this.#readAccount()).data;
  }

  async saveAccountData(data: Record<string, unknown>, merge: boolean): Promise<Record<string, unknown>> {
    const account = await this.#readAccount();
    account.data = merge ? { ...account.data, ...data } : data;
    await this.#writeAccount(account);
    return account.data;
  }

  async loadSession(): Promise<string | null> {
    try {
      return open(this.#key, await readFile(join(this.#dir, 'session.sealed'), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async saveSession(session: string | null): Promise<void> {
    const file = join(this.#dir, 'session.sealed');
    if (session === null) await rm(file, { force: true });
    else await writeAtomic(file, seal(this.#key, session));
  }

  async waitForTwoFaCode(request: TwoFaRequest): Promise<TwoFaReply> {
    this.#lastRequest = request;
    return this.#readCode(request);
  }

  /** After a new code was asked: the same question again, with what the site said of the new code. */
  async twoFaResent(report: TwoFaResentReport, wait: { waitMs: number; signal?: AbortSignal }): Promise<TwoFaReply> {
    const last = this.#lastRequest;
    const details = {
      ...last?.details,
      ...(report.destination ? { destination: report.destination } : {}),
      ...(report.attemptsLeft !== undefined ? { attemptsLeft: report.attemptsLeft } : {}),
      ...(report.method ? { method: report.method } : {}),
    };
    const type = report.type ?? last?.type;
    const request: TwoFaRequest = {
      ...(type ? { type } : {}),
      timeoutMs: report.timeoutMs ?? wait.waitMs,
      retry: false,
      details,
      ...(wait.signal ? { signal: wait.signal } : {}),
    };
    this.#lastRequest = request;
    return this.#readCode(request);
  }

  #lastRequest: TwoFaRequest | null = null;

  async #readCode(request: TwoFaRequest): Promise<TwoFaReply> {
    if ((this.#options.mode ?? 'manual') === 'background' || !this.#options.codeReader) {
      throw new KonnectorError('USER_ACTION_NEEDED.TWOFA_EXPIRED');
    }
    await this.#setState(twoFaState(request.type, request.retry));
    const timeoutMs = Math.min(request.timeoutMs, this.#options.twoFaTimeoutCapMs ?? Infinity);
    const expiresAt = Date.now() + timeoutMs;
    this.#approval = new AbortController();
    const signals = [this.#abort.signal, AbortSignal.timeout(timeoutMs), this.#approval.signal];
    if (request.signal) signals.push(request.signal);
    const signal = AbortSignal.any(signals);
    const expired = new Promise<never>((_, reject) => {
      const onAbort = () =>
        reject(new KonnectorError(this.#abort.signal.aborted ? 'JOB_CANCELLED' : 'USER_ACTION_NEEDED.TWOFA_EXPIRED'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    const code = this.#options.codeReader({
      type: request.type,
      retry: request.retry,
      expiresAt,
      signal,
      ...(request.details ? { details: request.details } : {}),
    });
    const answer = await Promise.race([code, expired]);
    return typeof answer === 'string' ? { code: answer.trim() } : { resend: answer.resend };
  }

  /** The approval went through: the question still on the terminal (if any) is withdrawn. */
  async twoFaApproved(): Promise<void> {
    this.#approval?.abort('approved');
    this.#approval = null;
  }

  /**
   * files.json as this host last read or wrote it: a run saving n files reads it once, not n times
   * (re-reading and re-parsing it at each save made a run's cost grow with the square of n).
   */
  #index: FileEntry[] | undefined;

  async #readIndex(): Promise<FileEntry[]> {
    if (this.#index) return this.#index;
    try {
      this.#index = JSON.parse(await readFile(join(this.#dir, 'files.json'), 'utf8')) as FileEntry[];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.#index = [];
    }
    return this.#index;
  }

  async listFiles(): Promise<FileEntry[]> {
    return [...(await this.#readIndex())];
  }

  async saveFile(request: SaveFileRequest): Promise<FileEntry> {
    const staging = join(this.#dir, 'staging');
    const staged = resolve(staging, request.stagedPath);
    if (relative(staging, staged).startsWith('..')) throw new KonnectorError('SAVE_FILE_FAILED');
    const folder = request.folder ?? '';
    const target = safeJoin(join(this.#dir, 'files'), folder, request.name);
    await mkdir(dirname(target), { recursive: true });
    await rename(staged, target);
    const entry: FileEntry = {
      name: request.name,
      folder,
      size: (await stat(target)).size,
      sha256: await sha256File(target),
      attributes: request.attributes ?? {},
      ...(request.bill ? { bill: request.bill } : {}),
      savedAt: new Date().toISOString(),
    };
    const index = [...(await this.#readIndex()).filter((f) => !(f.folder === folder && f.name === request.name)), entry];
    await writeAtomic(join(this.#dir, 'files.json'), JSON.stringify(index, null, 2));
    this.#index = index;
    return entry;
  }

  log(entry: LogEntry): void {
    if (this.#options.onLog) this.#options.onLog(entry);
    else process.stderr.write(`${entry.level.padEnd(5)} ${entry.message}\n`);
  }

  /**
   * Ends the run: no one is waiting any more (2FA and login-pending states are cleared), and, given
   * the outcome, `account.json` says how it ended (`lastRun`) and whether the account needs the
   * person (`needsAction`), as the stack records them.
   */
  async finish(outcome?: { outcome: 'ok' | 'error'; error?: string }): Promise<void> {
    const account = await this.#readAccount();
    if (isTransientState(account.state)) await this.#setState(null);
    if (outcome) {
      const ended = await this.#readAccount();
      const mode = this.#options.mode ?? 'manual';
      const error = outcome.outcome === 'ok' ? null : (outcome.error ?? 'UNKNOWN_ERROR');
      ended.lastRun = { mode, outcome: outcome.outcome, error, endedAt: new Date().toISOString() };
      if (needsPerson(error)) ended.needsAction = error;
      else if (error === null && mode === 'manual') ended.needsAction = null;
      await this.#writeAccount(ended);
    }
    await rm(join(this.#dir, 'staging'), { recursive: true, force: true });
  }
}

async function writeAtomic(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  await rename(tmp, file);
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolvePromise(hash.digest('hex')))
      .on('error', reject);
  });
}
