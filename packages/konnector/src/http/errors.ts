import type { ErrorCode } from '@gleaner/contracts';
import { KonnectorError } from '../errors.js';

/** Statuses that mean the site is overloaded or down rather than that the konnector asked wrongly. */
const VENDOR_DOWN_STATUSES = new Set([429, 502, 503, 504]);

/** The code a non-2xx status ends a run with: VENDOR_DOWN for overload/outage, UNKNOWN_ERROR otherwise. */
export function codeForStatus(statusCode: number): ErrorCode {
  return VENDOR_DOWN_STATUSES.has(statusCode) ? 'VENDOR_DOWN' : 'UNKNOWN_ERROR';
}

/**
 * The site answered with a status the caller did not accept. `message` is the run's error code;
 * `statusCode` lets a konnector branch (401 → LOGIN_FAILED, say). `url` has secret-looking query
 * values redacted. The full response, when kept, is a non-enumerable `response` so that printing the
 * error never dumps cookies or bodies.
 */
export class HttpError extends KonnectorError {
  readonly statusCode: number;
  readonly url: string;
  readonly method: string;
  declare readonly response: unknown;

  constructor(statusCode: number, method: string, url: string, options: { response?: unknown; cause?: unknown } = {}) {
    super(codeForStatus(statusCode), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.method = method;
    this.url = url;
    Object.defineProperty(this, 'response', { value: options.response, enumerable: false });
  }
}

/** No answer at all: connection refused or reset, DNS failure, or a deadline passed. Always VENDOR_DOWN. */
export class NetworkError extends KonnectorError {
  readonly url: string;
  readonly method: string;
  readonly timedOut: boolean;
  /** The system code (ECONNREFUSED, ECONNRESET…), or 'TIMEOUT'. */
  readonly reason: string;

  constructor(method: string, url: string, reason: string, options: { timedOut?: boolean; cause?: unknown } = {}) {
    super('VENDOR_DOWN', options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NetworkError';
    this.method = method;
    this.url = url;
    this.reason = reason;
    this.timedOut = options.timedOut ?? false;
  }
}

/** A download went past its byte limit; it is aborted and counted as failed, never retried. */
export class FileTooLargeError extends KonnectorError {
  readonly limit: number;
  constructor(limit: number) {
    super('FILE_DOWNLOAD_FAILED');
    this.name = 'FileTooLargeError';
    this.limit = limit;
  }
}
