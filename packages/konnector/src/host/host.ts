import type {
  AccountAttributes,
  BillMetadata,
  FileEntry,
  HostParams,
  RunContext,
  TwoFaDetails,
  TwoFaReply,
  TwoFaType,
} from '@gleaner/contracts';

export type TwoFaRequest = {
  type?: TwoFaType;
  timeoutMs: number;
  retry: boolean;
  /** What the site says about the code (where it went, attempts left, choices, resend): shown to the person. */
  details?: TwoFaDetails;
  signal?: AbortSignal;
};

/** What the konnector tells its host after asking the site for a new code. */
export type TwoFaResentReport = HostParams<'twoFaResent'>;

export type SaveFileRequest = {
  /** A file inside `RunContext.stagingDir`; the host moves it into the account's files. */
  stagedPath: string;
  name: string;
  folder?: string;
  attributes?: Record<string, string>;
  bill?: BillMetadata;
};

export type SessionHealthReport = {
  sessionExpiresAt?: string | null;
  deviceExpiresAt?: string | null;
  source: 'cookies' | 'declared';
};

export type LogEntry = { level: 'debug' | 'info' | 'warn' | 'error'; message: string };

/**
 * Everything a konnector needs from the world outside the website: its account, its session, a
 * person to ask for a code, and a place for files. The stack serves it over IPC; `gleaner run` and
 * a bare `node index.js` use the standalone host (a local folder and the terminal).
 */
export interface KonnectorHost {
  start(): Promise<RunContext>;
  updateAccountAttributes(attrs: AccountAttributes): Promise<void>;
  getAccountData(): Promise<Record<string, unknown>>;
  saveAccountData(data: Record<string, unknown>, merge: boolean): Promise<Record<string, unknown>>;
  /** The serialized cookie jar saved by the last run, or null. */
  loadSession(): Promise<string | null>;
  saveSession(session: string | null): Promise<void>;
  /**
   * Resolves with the code the person typed (and their choices), or asks for a new code when the
   * person pressed "Send a new code"; rejects with USER_ACTION_NEEDED.TWOFA_EXPIRED.
   */
  waitForTwoFaCode(request: TwoFaRequest): Promise<TwoFaReply>;
  /** After a `resend` reply: what the site did; resolves with the next reply on the same wait. */
  twoFaResent(report: TwoFaResentReport, wait: { waitMs: number; signal?: AbortSignal }): Promise<TwoFaReply>;
  /** When the site's session and remembered device lapse (optional: a host may not keep it). */
  reportSessionHealth?(health: SessionHealthReport): Promise<void>;
  /** The konnector saw the person approve in the provider's app: the prompt it waits on is answered. */
  twoFaApproved(): Promise<void>;
  listFiles(): Promise<FileEntry[]>;
  saveFile(request: SaveFileRequest): Promise<FileEntry>;
  log(entry: LogEntry): void;
  finish(outcome: { outcome: 'ok' | 'error'; error?: string }): Promise<void>;
  /** Aborted when the host cancels the run (time limit, cancel, shutdown). */
  readonly cancelled: AbortSignal;
}
