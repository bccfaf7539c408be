import type { CheerioAPI } from 'cheerio';
import { log } from './core/log.js';
import { KonnectorError } from './errors.js';
import { submitForm, type Page } from './form.js';
import { safeUrl } from './http/redact.js';
import { HttpError } from './http/errors.js';
import { parseHtml } from './http/html.js';
import { requestFactory, type FullResponse, type RequestFunction } from './request.js';

export type SigninOptions = {
  /** The page that holds the login form. */
  url: string;
  /** CSS selector of the form, e.g. 'form#login'. */
  formSelector: string;
  /** Values to set; hidden inputs (CSRF tokens) of the form are kept. */
  formData: Record<string, string> | (($: CheerioAPI) => Record<string, string>);
  /** Says whether the answer means logged in; false ends the run with LOGIN_FAILED. */
  validate?: (statusCode: number, $: CheerioAPI, response: FullResponse) => boolean | Promise<boolean>;
  /** The request function to use (one with the konnector's jar); a new one with a jar by default. */
  request?: RequestFunction;
};

export { FormNotFoundError } from './form.js';

/**
 * Fills and posts a login form: GETs `url`, keeps the form's own inputs (hidden CSRF tokens),
 * overlays `formData`, posts to the form's action and parses the answer; `validate` false → LOGIN_FAILED.
 * The result is a `Page` (`$` and the `url` it came from): the next form (a 2FA code) is
 * `submitForm(result, '#otp', { code }, { request })`.
 *
 * @example
 * await signin({
 *   url: 'https://example.com/login',
 *   formSelector: 'form#login',
 *   formData: { login, password },
 *   validate: (status, $) => $('a[href="/logout"]').length > 0,
 *   request: this.request,
 * })
 */
export async function signin(options: SigninOptions): Promise<Page & { response: FullResponse }> {
  const { url, formSelector, formData, validate } = options;
  const base = options.request ?? requestFactory({ jar: true });
  // Whatever the caller's request was set up for, signin needs pages, full responses and no throw on 4xx.
  const request = base.defaults({ cheerio: true, json: false, resolveWithFullResponse: true, simple: false });

  const page = (await request(url)) as FullResponse;
  if (page.statusCode >= 400) {
    log('warn', `signin: the login page answered ${page.statusCode}`);
    throw new HttpError(page.statusCode, 'GET', safeUrl(page.url));
  }
  const $page = page.$ ?? (await parseHtml(''));
  const values = typeof formData === 'function' ? formData($page) : formData;
  const { $, response } = await submitForm({ $: $page, url: page.url }, formSelector, values, { request });

  // (A site down or throttling has thrown VENDOR_DOWN in submitForm: never LOGIN_FAILED.)
  // An answer that is not HTML (JSON, empty) still has a `$`, so that validate always has one.
  const ok = validate ? await validate(response.statusCode, $, response) : response.statusCode < 400;
  if (!ok) {
    log('warn', `signin: the site did not accept the login (status ${response.statusCode})`);
    throw new KonnectorError('LOGIN_FAILED');
  }
  return { $, url: response.url, response: { ...response, $ } };
}
