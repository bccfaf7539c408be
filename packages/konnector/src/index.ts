export { BaseKonnector, DEFAULT_TWOFA_TIMEOUT_MS } from './base-konnector.js';
export type {
  Fields,
  FetchFunction,
  RunResult,
  WaitForTwoFaCodeOptions,
  ResendResult,
  TwoFaAnswer,
} from './base-konnector.js';
export { CookieKonnector } from './cookie-konnector.js';
export { errors, KonnectorError } from './errors.js';
export { log, enableDebug } from './core/log.js';
export { requestFactory, requestStream, HttpError, NetworkError, FileTooLargeError } from './request.js';
export type {
  RequestFunction,
  RequestOptions,
  RequestInput,
  FullResponse,
  ResponseStream,
  StreamOptions,
} from './request.js';
export type { HtmlParser } from './http/html.js';
export type { SigninOptions } from './signin.js';
export type { FileToSave, BillToSave, SaveFilesOptions, SaveFilesResult } from './save-files.js';
export type { KonnectorHost, TwoFaRequest, TwoFaResentReport, SaveFileRequest, LogEntry } from './host/host.js';

export { submitForm, formValues, FormNotFoundError, type Page } from './form.js';

/** Fills and posts a login form with a fresh cookie jar; see `SigninOptions`. */
export async function signin(options: import('./signin.js').SigninOptions) {
  return (await import('./signin.js')).signin(options);
}
export type {
  TwoFaType,
  TwoFaMethod,
  ErrorCode,
  AccountState,
  BillMetadata,
  FileEntry,
  RunContext,
} from '@gleaner/contracts';
export type { CheerioAPI } from 'cheerio';
