import type { CheerioAPI } from 'cheerio';
import { log } from './core/log.js';
import { KonnectorError } from './errors.js';
import { safeUrl } from './http/redact.js';
import { codeForStatus, HttpError } from './http/errors.js';
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

/** Thrown when the login page has no form matching the selector: the site changed, or the URL is wrong. */
export class FormNotFoundError extends KonnectorError {
  readonly selector: string;
  readonly url: string;
  constructor(selector: string, url: string) {
    super('UNKNOWN_ERROR');
    this.name = 'FormNotFoundError';
    this.selector = selector;
    this.url = url;
  }
}

/**
 * Fills and posts a login form: GETs `url`, keeps the form's own inputs (hidden CSRF tokens),
 * overlays `formData`, posts to the form's action and parses the answer; `validate` false → LOGIN_FAILED.
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
export async function signin(options: SigninOptions): Promise<{ $: CheerioAPI; response: FullResponse }> {
  const { url, formSelector, formData, validate } = options;
  const base = options.request ?? requestFactory({ jar: true });
  // Whatever the caller's request was set up for, signin needs pages, full responses and no throw on 4xx.
  const request = base.defaults({ cheerio: true, json: false, resolveWithFullResponse: true, simple: false });

  const page = (await request(url)) as FullResponse;
  if (page.statusCode >= 400) {
    log('warn', `signin: the login page answered ${page.statusCode}`);
    throw new HttpError(page.statusCode, 'GET', safeUrl(page.url));
  }
  const $page = page.$;
  const form = $page?.(formSelector).first();
  if (!$page || !form || form.length === 0 || !form.is('form')) {
    log('error', `signin: no form matches ${JSON.stringify(formSelector)} on ${safeUrl(page.url)}`);
    throw new FormNotFoundError(formSelector, safeUrl(page.url));
  }

  const fields: Record<string, string> = {};
  form.find('input, select, textarea').each((_, element) => {
    const field = $page(element);
    const name = field.attr('name');
    if (!name || field.is('[disabled]')) return;
    const type = (field.attr('type') ?? '').toLowerCase();
    if (type === 'submit' || type === 'button' || type === 'image' || type === 'reset' || type === 'file') return;
    if ((type === 'checkbox' || type === 'radio') && !field.is('[checked]')) return;
    if (field.is('select')) {
      const selected = field.find('option[selected]').first();
      const option = selected.length ? selected : field.find('option').first();
      fields[name] = option.attr('value') ?? option.text();
      return;
    }
    if (field.is('textarea')) {
      fields[name] = field.text();
      return;
    }
    fields[name] = field.attr('value') ?? (type === 'checkbox' || type === 'radio' ? 'on' : '');
  });
  const pageFields = Object.keys(fields);
  Object.assign(fields, typeof formData === 'function' ? formData($page) : formData);

  const action = new URL(form.attr('action') || page.url, page.url).href;
  const method = (form.attr('method') || 'POST').toUpperCase();
  log('debug', `signin: ${method} ${safeUrl(action)} (form ${formSelector}; fields from the page: ${pageFields.join(', ') || 'none'})`);

  const response = (await (method === 'GET'
    ? request({ url: action, method: 'GET', qs: fields })
    : request({ url: action, method, form: fields }))) as FullResponse;

  // A site that is down or throttling did not judge the credentials: that is VENDOR_DOWN, never
  // LOGIN_FAILED (which would pause the account's scheduled runs until a person acts).
  if (codeForStatus(response.statusCode) === 'VENDOR_DOWN') {
    log('warn', `signin: the site answered ${response.statusCode} to the login`);
    throw new HttpError(response.statusCode, method, safeUrl(action));
  }
  // An answer that is not HTML (JSON, empty) still gets a `$`, so that validate always has one.
  const $ = response.$ ?? (await parseHtml(typeof response.body === 'string' ? response.body : ''));
  const ok = validate ? await validate(response.statusCode, $, { ...response, $ }) : response.statusCode < 400;
  if (!ok) {
    log('warn', `signin: the site did not accept the login (status ${response.statusCode})`);
    throw new KonnectorError('LOGIN_FAILED');
  }
  return { $, response: { ...response, $ } };
}
