import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { StackEvent } from '@gleaner/contracts';
import { buildApi, type ApiOptions } from '../../src/api/app.js';
import { openSqliteAuthStore, type AuthStore } from '../../src/api/auth-store.js';
import { hashPassword } from '../../src/api/credentials.js';
import { createLogger } from '../../src/logger.js';
import type { Stack } from '../../src/stack.js';

export const ADMIN_PASSWORD = 'admin-canary-Pw-31337';

/** Everything the server wrote to its log, to look for secrets in it. */
export class LogCapture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString('utf8');
    callback();
  }
}

export type TestApi = {
  url: string;
  auth: AuthStore;
  log: LogCapture;
  /** Every response body read through `call`, to look for secrets in them. */
  bodies: string[];
  call(
    path: string,
    init?: RequestInit & { session?: Session | null; json?: unknown },
  ): Promise<{ status: number; body: unknown; headers: Headers }>;
  login(password?: string): Promise<Session>;
  close(): Promise<void>;
};

export type Session = { cookie: string; csrfToken: string };

/** Where a test API keeps its sign-in: a fresh `auth.sqlite` by default, or a PostgreSQL database's. */
export type AuthBackend = () => Promise<AuthStore>;

export const sqliteAuth: AuthBackend = async () => openSqliteAuthStore(mkdtempSync(join(tmpdir(), 'gleaner-api-')));

/**
 * The API over `stack` on 127.0.0.1, port 0, with a fresh auth store (the admin password set) and a
 * captured log. The auth store (and a given login limiter) is closed with it.
 */
export async function startTestApi(
  stack: Stack,
  options: Partial<ApiOptions> = {},
  backend: AuthBackend = sqliteAuth,
): Promise<TestApi> {
  const auth = options.auth ?? (await backend());
  await auth.setPasswordHash(await hashPassword(ADMIN_PASSWORD));
  const log = new LogCapture();
  const app = await buildApi(stack, { logger: createLogger({ level: 'debug', destination: log }), ...options, auth });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const bodies: string[] = [];
  const call: TestApi['call'] = async (path, init = {}) => {
    const { session, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (session) {
      headers.set('cookie', session.cookie);
      headers.set('x-csrf-token', session.csrfToken);
    }
    if (json !== undefined) headers.set('content-type', 'application/json');
    const response = await fetch(`${url}${path}`, {
      ...rest,
      headers,
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
    const text = await response.text();
    bodies.push(text);
    for (const value of response.headers.getSetCookie()) bodies.push(value);
    let body: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
    return { status: response.status, body, headers: response.headers };
  };
  return {
    url,
    auth,
    log,
    bodies,
    call,
    async login(password = ADMIN_PASSWORD) {
      const response = await fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password }),
      });
      if (response.status !== 200) throw new Error(`login: ${response.status}`);
      const cookie = response.headers.getSetCookie()[0]?.split(';')[0];
      const { csrfToken } = (await response.json()) as { csrfToken: string };
      if (!cookie) throw new Error('no cookie');
      return { cookie, csrfToken };
    },
    async close() {
      await app.close();
      await options.loginLimiter?.close();
      await auth.close();
    },
  };
}

export type SseMeta = { sseId: string; sseType: string };

/** A small SSE reader over fetch: collects events, lets a test wait for one. */
export class SseClient {
  readonly events: (StackEvent & SseMeta)[] = [];
  readonly comments: string[] = [];
  #waiters: { test: (e: StackEvent) => boolean; resolve: (e: StackEvent & SseMeta) => void }[] = [];
  #abort = new AbortController();
  #closed: Promise<void> = Promise.resolve();
  status = 0;

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const client = new SseClient();
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: client.#abort.signal,
    });
    client.status = response.status;
    if (!response.body || response.status !== 200) return client;
    client.#closed = client.#read(response.body);
    return client;
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          this.#dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  }

  #dispatch(block: string): void {
    let id = '';
    let type = '';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) type = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) return;
    const event = { ...(JSON.parse(data.join('\n')) as StackEvent), sseId: id, sseType: type };
    this.events.push(event);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.test(event)) return true;
      waiter.resolve(event);
      return false;
    });
  }

  /** The first event (already received or to come) that passes `test`. */
  waitFor<T extends StackEvent>(test: (e: StackEvent) => e is T, timeoutMs?: number): Promise<T & SseMeta>;
  waitFor(test: (e: StackEvent) => boolean, timeoutMs?: number): Promise<StackEvent & SseMeta>;
  waitFor(test: (e: StackEvent) => boolean, timeoutMs = 10_000): Promise<StackEvent & SseMeta> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no such event in time')), timeoutMs);
      this.#waiters.push({
        test,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#closed;
  }
}
