import type { CheerioAPI } from 'cheerio';
import { checkCredentials } from './core/credential-gate.js';
import { log } from './core/log.js';
import { KonnectorError } from './errors.js';
import { codeForStatus, HttpError } from './http/errors.js';
import { parseHtml } from './http/html.js';
import { safeUrl } from './http/redact.js';
import type { FullResponse, RequestFunction } from './request.js';

/** A parsed page and where it came from (after redirects): what forms are submitted from. */
export type Page = { $: CheerioAPI; url: string };

/** Thrown when a page has no form matching the selector: the site changed, or the URL is wrong. */
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
 * What a browser would send for the first form matching `selector`: hidden inputs (CSRF tokens),
 * text values, checked boxes and radios, selected options, textareas; not buttons, files or
 * disabled fields. Null when no form matches.
 */
export function formValues($: CheerioAPI, selector: string): Record<string, string> | null {
  const form = $(selector).first();
  if (form.length === 0 || !form.is('form')) return null;
  const fields: Record<string, string> = {};
  form.find('input, select, textarea').each((_, element) => {
    const field = $(element);
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
  return fields;
}

/**
 * Submits the form `selector` of `page` as a browser would: its own values (see `formValues`) with
 * `values` on top, to its action, with its method (GET when it names none, as in a browser). Resolves to the page that
 * answered (a `$` even when the answer is not HTML) and the full response; 4xx answers are returned,
 * 429 and 502–504 throw HttpError (VENDOR_DOWN).
 *
 * @example
 * const next = await submitForm(page, 'form#otp', { code }, { request: this.request })
 */
export async function submitForm(
  page: Page,
  selector: string,
  values: Record<string, string>,
  options: { request: RequestFunction },
): Promise<Page & { response: FullResponse }> {
  const own = formValues(page.$, selector);
  if (!own) {
    log('error', `no form matches ${JSON.stringify(selector)} on ${safeUrl(page.url)}`);
    throw new FormNotFoundError(selector, safeUrl(page.url));
  }
  const form = page.$(selector).first();
  const fields = { ...own, ...values };
  // In a background run, the credentials are not sent to a site that would ask for a code.
  await checkCredentials(fields, `the form ${selector}`);
  const action = new URL(form.attr('action') || page.url, page.url).href;
  // A form without a method is a GET, as in a browser.
  const method = (form.attr('method') || 'GET').toUpperCase();
  const request = options.request.defaults({
    cheerio: true,
    json: false,
    resolveWithFullResponse: true,
    simple: false,
  });
  const response = (await (method === 'GET'
    ? request({ url: action, method: 'GET', qs: fields })
    : request({ url: action, method, form: fields }))) as FullResponse;
  // A site that is down or throttling did not judge what was posted: VENDOR_DOWN, whatever the form
  // was (never LOGIN_FAILED, which would pause the account's scheduled runs). Other statuses are the
  // caller's to read.
  if (codeForStatus(response.statusCode) === 'VENDOR_DOWN') {
    log('warn', `the site answered ${response.statusCode} to the form ${selector}`);
    throw new HttpError(response.statusCode, method, safeUrl(action));
  }
  const $ = response.$ ?? (await parseHtml(typeof response.body === 'string' ? response.body : ''));
  return { $, url: response.url, response: { ...response, $ } };
}
