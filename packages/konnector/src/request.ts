import type { CookieJar } from 'tough-cookie';
import { isErrorCode } from '@gleaner/contracts/codes';
import { debugEnabled, enableDebug, log } from './core/log.js';
import { redactor } from './core/redact.js';
import { KonnectorError } from './errors.js';
import { newCookieJar } from './http/cookie-jar.js';
import { parseHtml, preloadHtml, type HtmlParser } from './http/html.js';
import { closeAllPools, ConnectionPool, discard, dump, readAll, type WireResponse } from './http/transport.js';
import { FileTooLargeError, HttpError, NetworkError } from './http/errors.js';
import { KeyedLimiter } from './http/limiter.js';
import { describeForm, describeJson, safeUrl } from './http/redact.js';

export { HttpError, NetworkError, FileTooLargeError } from './http/errors.js';

export type RequestOptions = {
  /** A tough-cookie jar, or true for a new one; cookies are kept across requests and redirects. */
  jar?: CookieJar | boolean;
  /** Parse HTML responses into a cheerio `$` (cheerio is loaded on first use only). */
  cheerio?: boolean;
  /** The parser behind `$`: htmlparser2 (default, fast) or parse5 (the browser's tree); see `HtmlParser`. */
  htmlParser?: HtmlParser;
  /** Send/parse JSON. */
  json?: boolean;
  userAgent?: string;
  /** Per-request deadline in ms (default 30 000), counted from when the request may start. */
  timeout?: number;
  headers?: Record<string, string>;
  /** Log each request and response at debug level, with secrets redacted. */
  debug?: boolean;
  /** Resolve with { statusCode, headers, url, body, $ } instead of the body (or $). */
  resolveWithFullResponse?: boolean;
  /** Follow 3xx answers (default true); when false, a 3xx answer is returned and never thrown. */
  followRedirects?: boolean;
  /** Default 10. */
  maxRedirects?: number;
  /** Throw on non-2xx statuses (default true). */
  simple?: boolean;
  signal?: AbortSignal;
  /** Relative URLs are resolved against it. */
  baseUrl?: string;
  /** Requests in flight per origin for this factory and its `.defaults()` (default 4); set at the factory only. */
  maxConcurrency?: number;
  /** null: the body is a Buffer; a charset name: decode with it; default: text by the response's charset, Buffer for binary types. */
  encoding?: string | null;
};

export type RequestInput =
  | string
  | ({
      url?: string;
      uri?: string;
      /** Default GET, or POST when a `form` or `body` is given. */
      method?: string;
      /** application/x-www-form-urlencoded body */
      form?: Record<string, string | number | boolean>;
      /** true: send `body` as JSON (when an object) and parse the answer; an object: that JSON body. */
      json?: unknown;
      body?: string | Uint8Array | Record<string, unknown> | unknown[];
      qs?: Record<string, string | number | boolean | undefined>;
      headers?: Record<string, string>;
    } & Partial<Omit<RequestOptions, 'json' | 'headers'>>);

export type FullResponse = {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** The final URL after redirects. */
  url: string;
  body: unknown;
  $?: import('cheerio').CheerioAPI;
};

export interface RequestFunction {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (input: RequestInput): Promise<any>;
  jar: CookieJar | undefined;
  defaults(options: RequestOptions): RequestFunction;
}

/** A browser-like default: many sites refuse or degrade unknown agents. */
export const DEFAULT_USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_CONCURRENCY = 4;
const DEFAULT_MAX_REDIRECTS = 10;

/** What a factory and all its `.defaults()` share: one jar, one connection pool, one politeness limit. */
type Session = {
  jar: CookieJar | undefined;
  limiter: KeyedLimiter;
  maxConcurrency: number;
  pool: ConnectionPool | undefined;
};

const INTERNAL = Symbol.for('gleaner.request');
type Internal = { session: Session; options: RequestOptions };

/**
 * An HTTP client for konnectors: cookies (a tough-cookie jar) kept across requests and redirects,
 * cheerio/JSON parsing, stable error codes, redacted debug lines, and at most `maxConcurrency`
 * requests in flight per site.
 *
 * @example
 * const request = requestFactory({ jar: true, cheerio: true })
 * const $ = await request('https://example.com/bills')
 */
export function requestFactory(options: RequestOptions = {}): RequestFunction {
  const maxConcurrency = options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
  const session: Session = {
    jar: options.jar === true ? newCookieJar() : options.jar || undefined,
    limiter: new KeyedLimiter(maxConcurrency),
    maxConcurrency,
    pool: undefined,
  };
  return bind(session, options);
}

function bind(session: Session, options: RequestOptions): RequestFunction {
  if (options.debug) enableDebug();
  const fn = ((input: RequestInput) => perform(session, options, input)) as RequestFunction;
  fn.jar = session.jar;
  fn.defaults = (more: RequestOptions) => {
    if (more.jar !== undefined && more.jar !== true && more.jar !== session.jar) {
      throw new TypeError('request.defaults(): the jar is shared with the parent; create a new requestFactory for another jar');
    }
    const { jar: _jar, ...rest } = more;
    return bind(session, { ...options, ...rest, headers: { ...options.headers, ...more.headers } });
  };
  Object.defineProperty(fn, INTERNAL, { value: { session, options } satisfies Internal });
  return fn;
}

/** Closes the kept-alive connections so that the process can exit. */
export async function closeAllAgents(): Promise<void> {
  await closeAllPools();
}

/** The session's pool; a new one after closeAllAgents(), for a session used again. */
function poolFor(session: Session): ConnectionPool {
  if (!session.pool?.open) session.pool = new ConnectionPool(session.maxConcurrency);
  return session.pool;
}

type Prepared = {
  url: string;
  origin: string;
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  /** The body for a debug line, secrets redacted; built only when debug lines are on. */
  description: () => string;
  options: RequestOptions & { json: boolean };
};

function prepare(base: RequestOptions, input: RequestInput): Prepared {
  const request = typeof input === 'string' ? { url: input } : input;
  const { url: rawUrl, uri, method: rawMethod, form, json: jsonInput, body: rawBody, qs, headers: inputHeaders, ...rest } =
    request;
  const options = { ...base, ...rest, json: false };
  const target = rawUrl ?? uri;
  if (!target) throw new TypeError('request: a url is required');
  const url = new URL(target, options.baseUrl);
  for (const [name, value] of Object.entries(qs ?? {})) if (value !== undefined) url.searchParams.append(name, String(value));

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...base.headers, ...inputHeaders })) headers[name.toLowerCase()] = value;
  headers['user-agent'] ??= options.userAgent ?? DEFAULT_USER_AGENT;

  let json = base.json === true;
  let jsonBody: unknown;
  if (jsonInput === true) json = true;
  else if (jsonInput === false) json = false;
  else if (jsonInput !== undefined) {
    json = true;
    jsonBody = jsonInput;
  }
  options.json = json;

  let body: string | Uint8Array | undefined;
  let description = () => '';
  if (form) {
    body = new URLSearchParams(Object.entries(form).map(([k, v]): [string, string] => [k, String(v)])).toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    description = () => ` form {${describeForm(form)}}`;
  } else if (jsonBody !== undefined || (rawBody !== undefined && typeof rawBody === 'object' && !(rawBody instanceof Uint8Array))) {
    const value = jsonBody ?? rawBody;
    body = JSON.stringify(value);
    headers['content-type'] ??= 'application/json';
    description = () => ` json ${describeJson(value)}`;
  } else if (rawBody !== undefined) {
    const raw = rawBody;
    body = raw;
    description = () => ` body (${typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength} B)`;
  }
  if (json) headers['accept'] ??= 'application/json';
  else if (options.cheerio) headers['accept'] ??= 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

  const method = (rawMethod ?? (body !== undefined ? 'POST' : 'GET')).toUpperCase();
  return { url: url.href, origin: url.origin, method, headers, body, description, options };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

type Hop = {
  response: WireResponse;
  url: string;
  method: string;
  release: () => void;
};

/**
 * Sends the request and follows redirects, each hop with the jar's cookies and within the origin's
 * concurrency limit. Resolves with the last hop, whose body is unread and whose slot is still held.
 */
async function send(
  session: Session,
  prepared: Prepared,
  signal: AbortSignal,
  waitSignal: AbortSignal | undefined,
  onSlot: () => void,
): Promise<Hop> {
  const { options } = prepared;
  const follow = options.followRedirects ?? true;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let { url, method, body } = prepared;
  const headers = { ...prepared.headers };
  const firstOrigin = prepared.origin;
  let origin = firstOrigin;
  const pool = poolFor(session);

  for (let hop = 0; ; hop++) {
    const release = await session.limiter.acquire(origin, waitSignal);
    onSlot();
    let response: WireResponse;
    const started = performance.now();
    try {
      const sent: Record<string, string> = { ...headers };
      if (session.jar) {
        const jar = session.jar;
        // A jar on a synchronous store (tough-cookie's own, the default) is read without a promise hop per request.
        const cookies = jar.store.synchronous ? jar.getCookieStringSync(url) : await jar.getCookieString(url);
        if (cookies) sent['cookie'] = sent['cookie'] ? `${sent['cookie']}; ${cookies}` : cookies;
      }
      if (debugEnabled()) log('debug', `→ ${method} ${safeUrl(url)}${hop === 0 ? prepared.description() : ''}`);
      const attempt = () => pool.send(url, { method, headers: sent, body, signal });
      try {
        response = await attempt();
      } catch (error) {
        // A kept-alive connection the site closed while idle fails at once on reuse; a request that
        // cannot change anything is sent once more, on a fresh connection.
        if (!IDEMPOTENT.has(method) || signal.aborted || !STALE_SOCKET_CODES.has(errorCode(error) ?? '')) throw error;
        if (debugEnabled()) log('debug', `↻ ${method} ${safeUrl(url)}: the connection was closed, sent again`);
        response = await attempt();
      }
      await storeCookies(session.jar, url, response.headers['set-cookie']);
    } catch (error) {
      release();
      throw error;
    }
    const location = response.headers['location'];
    if (follow && REDIRECTS.has(response.statusCode) && typeof location === 'string') {
      await dump(response.body);
      release();
      const nextUrl = new URL(location, url);
      const next = nextUrl.href;
      if (debugEnabled()) log('debug', `← ${response.statusCode} ${method} ${safeUrl(url)} ${elapsed(started)} → ${safeUrl(next)}`);
      if (hop >= maxRedirects) {
        log('warn', `more than ${maxRedirects} redirects from ${safeUrl(prepared.url)}`);
        throw new HttpError(response.statusCode, method, safeUrl(url));
      }
      if (response.statusCode <= 303 && method !== 'HEAD') {
        method = 'GET';
        body = undefined;
        delete headers['content-type'];
        delete headers['content-length'];
      }
      origin = nextUrl.origin;
      if (origin !== firstOrigin) {
        // Credentials the caller gave for one site never go to another.
        delete headers['authorization'];
        delete headers['cookie'];
      }
      url = next;
      continue;
    }
    return { response, url, method, release };
  }
}

async function storeCookies(jar: CookieJar | undefined, url: string, header: string | string[] | undefined): Promise<void> {
  if (!header) return;
  const lines = Array.isArray(header) ? header : [header];
  for (const line of lines) {
    const cookie = !jar ? undefined : jar.store.synchronous ? jar.setCookieSync(line, url, { ignoreError: true }) : await jar.setCookie(line, url, { ignoreError: true });
    // Session cookies are credentials: keep their values out of every log line.
    const value = cookie?.value ?? line.split(';')[0]?.split('=').slice(1).join('=');
    redactor.add(value);
  }
}

function elapsed(started: number): string {
  return `${Math.round(performance.now() - started)} ms`;
}

/** A deadline that starts when the request gets its first slot, combined with the caller's signal. */
function deadline(timeoutMs: number, callerSignal: AbortSignal | undefined) {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const signal = callerSignal ? AbortSignal.any([callerSignal, controller.signal]) : controller.signal;
  return {
    signal,
    get timedOut() {
      return timedOut;
    },
    start() {
      if (timer || timedOut) return;
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error('request timed out'));
      }, timeoutMs);
    },
    clear() {
      clearTimeout(timer);
    },
  };
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);
/** A streamed body that stalls longer than its timeout is destroyed with this code. */
const BODY_TIMEOUT = 'ERR_BODY_TIMEOUT';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  BODY_TIMEOUT,
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', BODY_TIMEOUT]);

/** Maps what Node's http client throws to a stable code; the message never carries the URL's query or the body. */
function classify(error: unknown, method: string, url: string, timedOut: boolean, callerSignal?: AbortSignal): Error {
  if (error instanceof KonnectorError) return error;
  if (timedOut) return new NetworkError(method, safeUrl(url), 'TIMEOUT', { timedOut: true, cause: error });
  if (callerSignal?.aborted) {
    const reason: unknown = callerSignal.reason;
    if (reason instanceof Error && reason.name === 'TimeoutError') {
      return new NetworkError(method, safeUrl(url), 'TIMEOUT', { timedOut: true, cause: reason });
    }
    if (reason instanceof Error) return reason;
    if (isErrorCode(reason)) return new KonnectorError(reason);
    return new Error(`request aborted: ${String(reason)}`);
  }
  const code = errorCode(error);
  if (code && NETWORK_CODES.has(code)) {
    return new NetworkError(method, safeUrl(url), code, { timedOut: TIMEOUT_CODES.has(code), cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function contentType(headers: FullResponse['headers']): string {
  const value = headers['content-type'];
  return (Array.isArray(value) ? value[0] : value)?.toLowerCase() ?? '';
}

const TEXTUAL = /^text\/|json|xml|javascript|x-www-form-urlencoded|^$/;

/** One decoder per charset: a TextDecoder used without `stream` keeps no state between calls. */
const decoders = new Map<string, InstanceType<typeof TextDecoder>>();

function decode(bytes: Buffer, type: string, encoding: string | undefined): string {
  const charset = (encoding ?? /charset=["']?([\w-]+)/.exec(type)?.[1] ?? 'utf-8').toLowerCase();
  try {
    let decoder = decoders.get(charset);
    if (!decoder) {
      decoder = new TextDecoder(charset);
      decoders.set(charset, decoder);
    }
    return decoder.decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

async function perform(session: Session, base: RequestOptions, input: RequestInput): Promise<unknown> {
  const prepared = prepare(base, input);
  const { options } = prepared;
  const timer = deadline(options.timeout ?? DEFAULT_TIMEOUT_MS, options.signal);
  const started = performance.now();
  let hop: Hop | undefined;
  let bytes: Buffer;
  if (options.cheerio) preloadHtml(options.htmlParser);
  try {
    hop = await send(session, prepared, timer.signal, options.signal, () => timer.start());
    bytes = await readAll(hop.response.body);
  } catch (error) {
    throw classify(error, hop?.method ?? prepared.method, hop?.url ?? prepared.url, timer.timedOut, options.signal);
  } finally {
    timer.clear();
    hop?.release();
  }
  const { response, url, method } = hop;
  const { statusCode, headers } = response;
  if (debugEnabled()) log('debug', `← ${statusCode} ${method} ${safeUrl(url)} ${elapsed(started)} ${bytes.byteLength} B`);

  const type = contentType(headers);
  const textual = options.encoding !== null && (options.encoding !== undefined || TEXTUAL.test(type));
  let body: unknown = textual ? decode(bytes, type, options.encoding ?? undefined) : bytes;
  const full: FullResponse = { statusCode, headers, url, body };

  const ok = (statusCode >= 200 && statusCode < 300) || (statusCode >= 300 && statusCode < 400 && options.followRedirects === false);
  if (!ok && options.simple !== false) {
    if (debugEnabled()) log('debug', `${method} ${safeUrl(url)} answered ${statusCode}`);
    throw new HttpError(statusCode, method, safeUrl(url), { response: full });
  }

  if (typeof body === 'string') {
    if (options.json && (type.includes('json') || !/html|xml/.test(type))) {
      const text = body.trim();
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON after all (an error page, say): the caller gets the text.
        }
      }
      full.body = body;
    } else if (options.cheerio && (type === '' || /html|xml/.test(type))) {
      full.$ = await parseHtml(body, options.htmlParser);
    }
  }
  if (options.resolveWithFullResponse) return full;
  return full.$ ?? full.body;
}

/** A response whose body is read chunk by chunk; the concurrency slot is held until it is consumed. */
export type ResponseStream = {
  statusCode: number;
  headers: FullResponse['headers'];
  /** The final URL after redirects. */
  url: string;
  /** From content-length, when the site sent one. */
  contentLength: number | undefined;
  /** Single use; throws FileTooLargeError past `maxBytes`, NetworkError when the site stalls or drops. */
  body: AsyncIterable<Uint8Array>;
  /** Drops the body without reading it (and frees the slot); safe to call after reading too. */
  cancel(): Promise<void>;
};

export type StreamOptions = {
  signal?: AbortSignal;
  /** Bytes; past it the download is aborted with FileTooLargeError. */
  maxBytes?: number;
  /** ms until the answer starts, and the longest pause between chunks (default: the request's timeout). */
  timeout?: number;
};

/**
 * Downloads with the session of `request` (its jar, redirects and per-site limit) without buffering
 * the body: non-2xx answers throw HttpError, bodies past `maxBytes` throw FileTooLargeError.
 *
 * @example
 * const res = await requestStream(request, bill.url, { maxBytes: 50 << 20, signal })
 * await pipeline(res.body, createWriteStream(path))
 */
export async function requestStream(
  request: RequestFunction,
  input: RequestInput,
  streamOptions: StreamOptions = {},
): Promise<ResponseStream> {
  const internal = (request as unknown as Record<symbol, Internal | undefined>)[INTERNAL];
  if (!internal) return bufferedStream(request, input, streamOptions);
  const { session } = internal;
  const prepared = prepare(internal.options, input);
  const timeoutMs = streamOptions.timeout ?? prepared.options.timeout ?? DEFAULT_TIMEOUT_MS;
  const callerSignal = anySignal(streamOptions.signal, prepared.options.signal);
  const timer = deadline(timeoutMs, callerSignal);
  const started = performance.now();
  let hop: Hop | undefined;
  try {
    hop = await send(session, prepared, timer.signal, callerSignal, () => timer.start());
  } catch (error) {
    timer.clear();
    throw classify(error, prepared.method, prepared.url, timer.timedOut, callerSignal);
  }
  // The deadline covered the wait for the answer; from now on a stall timer covers the body (see chunks).
  timer.clear();
  const { response, url, method, release } = hop;
  const { statusCode, headers } = response;
  const lengthHeader = headers['content-length'];
  const contentLength = typeof lengthHeader === 'string' && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  if (debugEnabled()) log('debug', `← ${statusCode} ${method} ${safeUrl(url)} ${elapsed(started)} (streaming${contentLength === undefined ? '' : `, ${contentLength} B`})`);

  const drop = async () => {
    await dump(response.body, 64 * 1024);
    release();
  };
  if (statusCode < 200 || statusCode >= 300) {
    await drop();
    throw new HttpError(statusCode, method, safeUrl(url), { response: { statusCode, headers, url, body: undefined } });
  }
  const maxBytes = streamOptions.maxBytes;
  if (maxBytes !== undefined && contentLength !== undefined && contentLength > maxBytes) {
    discard(response.body);
    release();
    throw new FileTooLargeError(maxBytes);
  }

  let used = false;
  const cancel = async () => {
    if (!used) {
      used = true;
      await drop();
    }
  };
  async function* chunks(): AsyncGenerator<Uint8Array> {
    if (used) throw new Error('requestStream: the body can be read once');
    used = true;
    let received = 0;
    // A site that stops sending mid-body: no chunk for `timeoutMs` ends the download.
    const stall = setTimeout(() => {
      response.body.destroy(Object.assign(new Error(`no data for ${timeoutMs} ms`), { code: BODY_TIMEOUT }));
    }, timeoutMs);
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        stall.refresh();
        received += chunk.byteLength;
        if (maxBytes !== undefined && received > maxBytes) throw new FileTooLargeError(maxBytes);
        // The last byte is in: the slot goes to the next request while the caller writes this chunk.
        if (received === contentLength) release();
        yield chunk;
      }
      if (debugEnabled()) log('debug', `← ${method} ${safeUrl(url)} body done, ${received} B in ${elapsed(started)}`);
    } catch (error) {
      throw classify(error, method, url, false, callerSignal);
    } finally {
      clearTimeout(stall);
      discard(response.body);
      release();
    }
  }
  return {
    statusCode,
    headers,
    url,
    contentLength,
    body: {
      [Symbol.asyncIterator]() {
        const iterator = chunks();
        let started = false;
        return {
          next: () => {
            started = true;
            return iterator.next();
          },
          // A consumer that gives up before reading (a pipeline whose file could not be opened) frees the slot too.
          return: async (value?: unknown) => {
            if (!started) await cancel();
            return iterator.return(value);
          },
          [Symbol.asyncIterator]() {
            return this;
          },
        };
      },
    },
    cancel,
  };
}

/** For a request function not made by requestFactory: the whole body is fetched, then yielded. */
async function bufferedStream(request: RequestFunction, input: RequestInput, options: StreamOptions): Promise<ResponseStream> {
  const base = typeof input === 'string' ? { url: input } : input;
  const response = (await request({
    ...base,
    encoding: null,
    resolveWithFullResponse: true,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeout ? { timeout: options.timeout } : {}),
  })) as FullResponse;
  const bytes = response.body instanceof Uint8Array ? response.body : Buffer.from(String(response.body ?? ''));
  if (options.maxBytes !== undefined && bytes.byteLength > options.maxBytes) throw new FileTooLargeError(options.maxBytes);
  return {
    statusCode: response.statusCode,
    headers: response.headers,
    url: response.url,
    contentLength: bytes.byteLength,
    body: (async function* () {
      yield bytes;
    })(),
    cancel: async () => undefined,
  };
}

function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => !!s);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}

