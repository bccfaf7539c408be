import type {
  Account,
  AnswerOutcome,
  CodeSource,
  ResendOutcome,
  FileInfo,
  Job,
  JobLogLine,
  KeptAccount,
  KonnectorInfo,
  KonnectorProblem,
  RunMode,
  CreateNotificationChannelBody,
  NotificationChannel,
  NotificationTestResult,
  UpdateNotificationChannelBody,
  Trigger,
} from '@gleaner/contracts';
import { answerOutcome } from '../logic/answer-outcome.js';
import {
  installOutcome,
  uninstallOutcome,
  type InstallOutcome,
  type UninstallOutcome,
} from '../logic/konnector-install.js';

/** A non-2xx answer of the API, with its stable `error` code and a sentence for people. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The answer's JSON body, for the callers that read more than the code (problems, counts). */
    readonly body: unknown = undefined,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

const STATUS_MESSAGES: Record<number, string> = {
  400: 'The server did not accept this request.',
  401: 'Your session has ended. Please sign in again.',
  403: 'This action was refused. Reload the page and try again.',
  404: 'This item no longer exists.',
  409: 'Something is already going on for this account.',
  429: 'Too many attempts. Wait a moment and try again.',
  500: 'The server ran into a problem. Try again in a moment.',
  503: 'The server is not available right now.',
};

/** A sentence for a failed request, for the places that show one. */
export function describeError(error: unknown): string {
  if (error instanceof ApiRequestError) return error.message;
  if (error instanceof TypeError) return 'The server cannot be reached. Check that Gleaner is running.';
  return 'Something went wrong.';
}

export interface ClientHooks {
  /** Called on any 401: the session has ended. */
  onSignedOut: () => void;
}

/** The stack's JSON API: cookies for the session, the CSRF token on every change. */
export class ApiClient {
  csrfToken: string | null = null;
  hooks: ClientHooks = { onSignedOut: () => {} };

  constructor(private readonly base = '') {}

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    opts: { allow401?: boolean } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.csrfToken) headers['x-csrf-token'] = this.csrfToken;
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (response.status === 401 && !opts.allow401) this.hooks.onSignedOut();
    if (!response.ok) throw errorFrom(response.status, await readJson(response));
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  // Auth
  session(): Promise<{ authenticated: boolean; csrfToken?: string }> {
    return this.request('GET', '/api/auth/session', undefined, { allow401: true });
  }
  async login(password: string): Promise<void> {
    const { csrfToken } = await this.request<{ csrfToken: string }>(
      'POST',
      '/api/auth/login',
      { password },
      { allow401: true },
    );
    this.csrfToken = csrfToken;
  }
  async logout(): Promise<void> {
    await this.request('POST', '/api/auth/logout', {}, { allow401: true });
    this.csrfToken = null;
  }

  // Catalogue and accounts
  konnectors(): Promise<KonnectorInfo[]> {
    return this.request<unknown>('GET', '/api/konnectors').then((r) => unwrap<KonnectorInfo>(r, 'konnectors'));
  }
  /** Konnectors the stack found but refused, or installed ones hidden by a development folder of the same slug. */
  konnectorProblems(): Promise<KonnectorProblem[]> {
    return this.request<unknown>('GET', '/api/konnector-problems').then((r) => unwrap<KonnectorProblem>(r, 'problems'));
  }
  /**
   * Installs a konnector package (the .tgz that `gleaner pack` wrote). The outcome says whether it was
   * installed, refused (with the problems) or needs `force` (a downgrade, the same version again).
   * Sent with XMLHttpRequest, the one browser API that reports upload progress.
   */
  async installKonnector(
    file: Blob,
    { force = false, onProgress }: { force?: boolean; onProgress?: (loaded: number, total: number) => void } = {},
  ): Promise<InstallOutcome> {
    const { status, body } = await this.upload(`/api/konnectors${force ? '?force=1' : ''}`, file, onProgress);
    if (status === 401) this.hooks.onSignedOut();
    const outcome = installOutcome(status, body);
    if (!outcome) throw errorFrom(status, body);
    return outcome;
  }
  /** Removes an installed konnector; `in-use` (with the count) when accounts still use it and `force` is off. */
  async uninstallKonnector(slug: string, { force = false }: { force?: boolean } = {}): Promise<UninstallOutcome> {
    try {
      await this.request('DELETE', `/api/konnectors/${enc(slug)}${force ? '?force=1' : ''}`);
      return { kind: 'removed' };
    } catch (error) {
      const outcome = error instanceof ApiRequestError ? uninstallOutcome(error.status, error.body) : null;
      if (outcome) return outcome;
      throw error;
    }
  }
  accounts(): Promise<Account[]> {
    return this.request<unknown>('GET', '/api/accounts').then((r) => unwrap<Account>(r, 'accounts'));
  }
  account(id: string): Promise<Account> {
    return this.request('GET', `/api/accounts/${enc(id)}`);
  }
  createAccount(body: {
    konnector: string;
    label?: string;
    fields: Record<string, string>;
    connect?: boolean;
  }): Promise<Account> {
    return this.request<unknown>('POST', '/api/accounts', body).then((r) => pick<Account>(r, 'account'));
  }
  updateAccount(id: string, body: { label?: string; fields?: Record<string, string> }): Promise<Account> {
    return this.request('PATCH', `/api/accounts/${enc(id)}`, body);
  }
  /** Deletes an account; its documents are kept (listed by `keptFiles`) unless `keepFiles` is false. */
  deleteAccount(id: string, { keepFiles = true }: { keepFiles?: boolean } = {}): Promise<void> {
    return this.request('DELETE', `/api/accounts/${enc(id)}?files=${keepFiles ? 'keep' : 'delete'}`);
  }
  keptFiles(): Promise<KeptAccount[]> {
    return this.request<unknown>('GET', '/api/kept-files').then((r) => unwrap<KeptAccount>(r, 'kept'));
  }
  forgetKeptFiles(accountId: string): Promise<void> {
    return this.request('DELETE', `/api/kept-files/${enc(accountId)}`);
  }
  resetSession(id: string): Promise<unknown> {
    return this.request('POST', `/api/accounts/${enc(id)}/reset-session`, {});
  }

  /** Plans a manual run at `at` before the session lapses; null cancels it. */
  planRenewal(id: string, at: string | null): Promise<{ at: string | null }> {
    return this.request('PUT', `/api/accounts/${enc(id)}/renewal`, { at });
  }

  // Notification channels (the admin's)
  notificationChannels(): Promise<NotificationChannel[]> {
    return this.request('GET', '/api/notification-channels');
  }
  createNotificationChannel(body: CreateNotificationChannelBody): Promise<NotificationChannel> {
    return this.request('POST', '/api/notification-channels', body);
  }
  updateNotificationChannel(id: string, body: UpdateNotificationChannelBody): Promise<NotificationChannel> {
    return this.request('PATCH', `/api/notification-channels/${enc(id)}`, body);
  }
  deleteNotificationChannel(id: string): Promise<void> {
    return this.request('DELETE', `/api/notification-channels/${enc(id)}`);
  }
  testNotificationChannel(id: string): Promise<NotificationTestResult> {
    return this.request('POST', `/api/notification-channels/${enc(id)}/test`, {});
  }

  // Jobs
  runNow(accountId: string): Promise<Job> {
    return this.startJob(accountId, 'manual');
  }
  /** Starts a run: `manual` may ask the person for a code, `background` runs as the scheduled run does. */
  startJob(accountId: string, mode: RunMode): Promise<Job> {
    return this.request<unknown>('POST', `/api/accounts/${enc(accountId)}/jobs`, { mode }).then((r) =>
      pick<Job>(r, 'job'),
    );
  }
  jobs(accountId: string): Promise<Job[]> {
    return this.request<unknown>('GET', `/api/accounts/${enc(accountId)}/jobs`).then((r) => unwrap<Job>(r, 'jobs'));
  }
  job(id: string): Promise<Job> {
    return this.request('GET', `/api/jobs/${enc(id)}`);
  }
  logs(jobId: string): Promise<JobLogLine[]> {
    return this.request<unknown>('GET', `/api/jobs/${enc(jobId)}/logs`).then((r) =>
      unwrap<JobLogLine>(r, 'lines', 'logs'),
    );
  }
  cancelJob(jobId: string): Promise<unknown> {
    return this.request('POST', `/api/jobs/${enc(jobId)}/cancel`, {});
  }

  // Schedule and files
  // Code sources (docs/code-sources.md): secrets go in, never come back (but a webhook's, once).
  codeSources(accountId: string): Promise<CodeSource[]> {
    return this.request('GET', `/api/accounts/${enc(accountId)}/code-sources`);
  }
  setAuthenticator(
    accountId: string,
    secret: string,
  ): Promise<{ source: CodeSource; code: string; validForMs: number }> {
    return this.request('PUT', `/api/accounts/${enc(accountId)}/code-sources/app_code`, { secret });
  }
  setMailbox(
    accountId: string,
    body: { host: string; port: number; tls: boolean; user: string; password: string; folder: string },
  ): Promise<{ source: CodeSource; lastMatchAt: string | null }> {
    return this.request('PUT', `/api/accounts/${enc(accountId)}/code-sources/email`, body);
  }
  makeSmsWebhook(accountId: string): Promise<{ source: CodeSource; secret: string }> {
    return this.request('PUT', `/api/accounts/${enc(accountId)}/code-sources/sms`, {});
  }
  testCodeSource(
    accountId: string,
    kind: CodeSource['kind'],
  ): Promise<{ ok: boolean; message: string; code?: string }> {
    return this.request('POST', `/api/accounts/${enc(accountId)}/code-sources/${kind}/test`, {});
  }
  removeCodeSource(accountId: string, kind: CodeSource['kind']): Promise<void> {
    return this.request('DELETE', `/api/accounts/${enc(accountId)}/code-sources/${kind}`);
  }

  trigger(accountId: string): Promise<Trigger> {
    return this.request('GET', `/api/accounts/${enc(accountId)}/trigger`);
  }
  setTrigger(accountId: string, body: { frequency: Trigger['frequency']; time?: string }): Promise<Trigger> {
    return this.request('PUT', `/api/accounts/${enc(accountId)}/trigger`, body);
  }
  files(accountId: string): Promise<FileInfo[]> {
    return this.request<unknown>('GET', `/api/accounts/${enc(accountId)}/files`).then((r) =>
      unwrap<FileInfo>(r, 'files'),
    );
  }
  fileUrl(fileId: string): string {
    return `${this.base}/api/files/${enc(fileId)}/content`;
  }

  // 2FA
  /** Sends a code; the outcome comes from the HTTP status (202, 409, 410, 422, 429). */
  /** Posts a code (and the "trust this device" box); the outcome, with the stack's sentence when it says what is wrong. */
  async answerPrompt(
    promptId: string,
    code: string,
    trustDevice?: boolean,
  ): Promise<{ outcome: AnswerOutcome | 'failed'; message?: string }> {
    try {
      await this.request('POST', `/api/prompts/${enc(promptId)}/answer`, {
        code,
        ...(trustDevice === undefined ? {} : { trustDevice }),
      });
      return { outcome: 'accepted' };
    } catch (error) {
      if (!(error instanceof ApiRequestError)) return { outcome: 'failed' };
      const message = (error.body as { message?: unknown } | undefined)?.message;
      return { outcome: answerOutcome(error.status), ...(typeof message === 'string' ? { message } : {}) };
    }
  }
  cancelPrompt(promptId: string): Promise<unknown> {
    return this.request('POST', `/api/prompts/${enc(promptId)}/cancel`, {});
  }
  /** "Send a new code" (by `method`, one of the prompt's choices): the outcome and when the next may be asked. */
  async resendPrompt(
    promptId: string,
    method?: string,
  ): Promise<{ outcome: ResendOutcome | 'failed'; availableAt: string | null; message?: string }> {
    try {
      const body = await this.request<{ availableAt: string | null }>(
        'POST',
        `/api/prompts/${enc(promptId)}/resend`,
        method === undefined ? {} : { method },
      );
      return { outcome: 'sent', availableAt: body.availableAt };
    } catch (error) {
      if (!(error instanceof ApiRequestError)) return { outcome: 'failed', availableAt: null };
      const body = (error.body ?? {}) as { outcome?: ResendOutcome; availableAt?: string | null; message?: string };
      return {
        outcome: body.outcome ?? 'failed',
        availableAt: body.availableAt ?? null,
        ...(typeof body.message === 'string' ? { message: body.message } : {}),
      };
    }
  }

  private upload(
    path: string,
    file: Blob,
    onProgress?: (loaded: number, total: number) => void,
  ): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${this.base}${path}`);
      xhr.setRequestHeader('accept', 'application/json');
      xhr.setRequestHeader('content-type', 'application/gzip');
      if (this.csrfToken) xhr.setRequestHeader('x-csrf-token', this.csrfToken);
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress?.(event.loaded, event.total);
      };
      xhr.onload = () => {
        let body: unknown;
        try {
          body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: xhr.status, body });
      };
      // A TypeError, as fetch throws, so that describeError says the server cannot be reached.
      xhr.onerror = () => reject(new TypeError('network error'));
      xhr.onabort = () => reject(new TypeError('upload aborted'));
      xhr.send(file);
    });
  }
}

function enc(value: string): string {
  return encodeURIComponent(value);
}

/** Lists come bare or wrapped (`{ accounts: [...] }`); Home accepts both. */
function unwrap<T>(body: unknown, ...keys: string[]): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object') {
    for (const key of [...keys, 'items', 'data']) {
      const value = (body as Record<string, unknown>)[key];
      if (Array.isArray(value)) return value as T[];
    }
  }
  return [];
}

function pick<T>(body: unknown, key: string): T {
  if (body && typeof body === 'object' && key in body && typeof (body as Record<string, unknown>)[key] === 'object') {
    return (body as Record<string, T>)[key] as T;
  }
  return body as T;
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return undefined; // Not JSON: the generic sentence is kept.
  }
}

function errorFrom(status: number, body: unknown): ApiRequestError {
  let code = `HTTP_${status}`;
  let message = STATUS_MESSAGES[status] ?? `The server answered ${status}.`;
  if (body && typeof body === 'object') {
    const { error, message: sentence } = body as { error?: unknown; message?: unknown };
    if (typeof error === 'string') code = error;
    // The server's sentence is kept for 4xx answers (they explain what was wrong with the request).
    if (typeof sentence === 'string' && sentence && status < 500 && status !== 401) message = sentence;
  }
  return new ApiRequestError(status, code, message, body);
}

export const api = new ApiClient();
