import type { Account, AnswerOutcome, FileInfo, Job, JobLogLine, KonnectorInfo, Trigger } from '@gleaner/contracts';
import { answerOutcome } from '../logic/answer-outcome.js';

/** A non-2xx answer of the API, with its stable `error` code and a sentence for people. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
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
    if (!response.ok) throw await toError(response);
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
  deleteAccount(id: string): Promise<void> {
    return this.request('DELETE', `/api/accounts/${enc(id)}`);
  }
  resetSession(id: string): Promise<unknown> {
    return this.request('POST', `/api/accounts/${enc(id)}/reset-session`, {});
  }

  // Jobs
  runNow(accountId: string): Promise<Job> {
    return this.request<unknown>('POST', `/api/accounts/${enc(accountId)}/jobs`, { mode: 'manual' }).then((r) =>
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
  async answerPrompt(promptId: string, code: string): Promise<AnswerOutcome | 'failed'> {
    try {
      await this.request('POST', `/api/prompts/${enc(promptId)}/answer`, { code });
      return 'accepted';
    } catch (error) {
      if (error instanceof ApiRequestError) return answerOutcome(error.status);
      return 'failed';
    }
  }
  cancelPrompt(promptId: string): Promise<unknown> {
    return this.request('POST', `/api/prompts/${enc(promptId)}/cancel`, {});
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

async function toError(response: Response): Promise<ApiRequestError> {
  let code = `HTTP_${response.status}`;
  let message = STATUS_MESSAGES[response.status] ?? `The server answered ${response.status}.`;
  try {
    const body = (await response.json()) as { error?: unknown; message?: unknown };
    if (typeof body.error === 'string') code = body.error;
    // The server's sentence is kept for 4xx answers (they explain what was wrong with the request).
    if (typeof body.message === 'string' && body.message && response.status < 500 && response.status !== 401)
      message = body.message;
  } catch {
    // Not JSON: keep the generic sentence.
  }
  return new ApiRequestError(response.status, code, message);
}

export const api = new ApiClient();
