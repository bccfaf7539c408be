// PLACEHOLDER: the signatures are the contract; the implementation is being written.
import type { CookieJar } from 'tough-cookie';

export type RequestOptions = {
  /** A tough-cookie jar, or true for a new one; cookies are kept across requests and redirects. */
  jar?: CookieJar | boolean;
  /** Parse HTML responses into a cheerio `$` (cheerio is loaded on first use only). */
  cheerio?: boolean;
  /** Send/parse JSON. */
  json?: boolean;
  userAgent?: string;
  /** Per-request deadline in ms (default 30 000). */
  timeout?: number;
  headers?: Record<string, string>;
  /** Log each request and response at debug level, with secrets redacted. */
  debug?: boolean;
  /** Resolve with { statusCode, headers, url, body, $ } instead of the body (or $). */
  resolveWithFullResponse?: boolean;
  followRedirects?: boolean;
  maxRedirects?: number;
  /** Throw on non-2xx statuses (default true). */
  simple?: boolean;
  signal?: AbortSignal;
};

export type RequestInput =
  | string
  | {
      url?: string;
      uri?: string;
      method?: string;
      /** application/x-www-form-urlencoded body */
      form?: Record<string, string>;
      /** JSON body */
      json?: unknown;
      body?: string | Uint8Array;
      qs?: Record<string, string | number>;
      headers?: Record<string, string>;
    } & Partial<RequestOptions>;

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

export function requestFactory(_options: RequestOptions = {}): RequestFunction {
  throw new Error('requestFactory: not implemented yet');
}

/** Closes the HTTP agents so that the process can exit. */
export async function closeAllAgents(): Promise<void> {}
