// PLACEHOLDER: the signatures are the contract; the implementation is being written.
import type { CheerioAPI } from 'cheerio';
import type { FullResponse, RequestFunction } from './request.js';

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

export async function signin(_options: SigninOptions): Promise<{ $: CheerioAPI; response: FullResponse }> {
  throw new Error('signin: not implemented yet');
}
