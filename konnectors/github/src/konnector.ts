import {
  CookieKonnector,
  KonnectorError,
  log,
  type BillToSave,
  type Fields,
  type FullResponse,
  type Page,
  type TwoFaType,
  submitForm,
} from '@gleaner/konnector';

/** Where the demo serves Gleaner's fake GitHub; a real deployment sets the `baseUrl` field. */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080/github';

/** The cookie with which GitHub remembers a verified device (no e-mail code while it lives). */
const DEVICE_COOKIE = '_device_id';
const BILLING_PATH = '/settings/billing/payment_history';

type TwoFaStep = {
  /** GitHub redirects to this path when it wants this kind of code. */
  path: string;
  type: TwoFaType;
  form: string;
  codeField: string;
};

/** GitHub shows its second step at a URL of its own, and the URL says which kind of code it wants. */
const TWOFA_STEPS: TwoFaStep[] = [
  { path: '/sessions/two-factor/app', type: 'app_code', form: 'form#two-factor-form', codeField: 'app_otp' },
  { path: '/sessions/verified-device', type: 'email', form: 'form#device-verification-form', codeField: 'otp' },
];

/**
 * Logs into GitHub (password, then an authenticator code or a device-verification code sent by
 * e-mail), keeps the session and the verified-device cookie, and saves the payment receipts.
 */
export class GithubKonnector extends CookieKonnector {
  /** The site's address (the `baseUrl` field), without a trailing slash. */
  get baseUrl(): string {
    return (this.fields.baseUrl?.trim() || DEFAULT_BASE_URL).replace(/\/+$/, '');
  }

  /** The billing history needs a login: a redirect to `/login` means the session is gone. */
  async testSession(): Promise<boolean> {
    const response = (await this.request({
      url: `${this.baseUrl}${BILLING_PATH}`,
      resolveWithFullResponse: true,
    })) as FullResponse;
    return !isLoginUrl(response.url);
  }

  override async fetch(fields: Fields): Promise<void> {
    if (await this.testSession()) {
      log('info', 'the saved GitHub session still works: no login needed');
      await this.notifySuccessfulLogin();
    } else {
      await this.logIn(fields);
    }
    const receipts = await this.fetchReceipts();
    log('info', `${receipts.length} receipts in the billing history`);
    await this.saveBills(receipts, { fileIdAttributes: ['vendorRef'], validateFile: isPdf });
  }

  async logIn(fields: Fields): Promise<void> {
    const login = fields.login?.trim() ?? '';
    const password = fields.password ?? '';
    if (!login || !password) throw new KonnectorError('LOGIN_FAILED');

    // In a background run, the SDK's signin stops before the password is posted when GitHub would
    // ask for a code (see loginIsSilent).
    await this.deactivateAutoSuccessfulLogin();
    const { $, response } = await this.signin({
      url: `${this.baseUrl}/login`,
      formSelector: 'form#login',
      formData: { login, password },
      request: this.request,
      validate: (status, $page) => {
        throwIfRefused(status);
        return $page('[data-error="bad-credentials"]').length === 0;
      },
    });
    let page: Page = { $, url: response.url };
    throwIfLocked(page);

    const step = TWOFA_STEPS.find((candidate) => new URL(page.url).pathname.endsWith(candidate.path));
    if (step) {
      log(
        'info',
        `GitHub asks for ${step.type === 'email' ? 'a device verification code sent by e-mail' : 'an authenticator code'}`,
      );
      page = await this.answerTwoFa(page, step);
    }

    if (page.$('meta[name="user-login"]').length === 0 && !(await this.testSession())) {
      log('error', `GitHub did not sign in: unexpected page ${new URL(page.url).pathname}`);
      throw new KonnectorError('UNKNOWN_ERROR');
    }
    await this.notifySuccessfulLogin();
  }

  /**
   * GitHub asks nothing when the account's only second factor is device verification by e-mail and
   * this device is still verified: then a background run may post the password. An authenticator
   * code is asked at every sign-in, and an unknown device gets an e-mail as soon as the password is in.
   */
  override async loginIsSilent(): Promise<boolean> {
    return this.context.siteTwoFa.every((kind) => kind === 'email') && (await this.hasDeviceCookie());
  }

  /** True when the jar holds an unexpired verified-device cookie for the site. */
  async hasDeviceCookie(): Promise<boolean> {
    const cookies = await this.jar.getCookies(`${this.baseUrl}/session`);
    return cookies.some((cookie) => cookie.key === DEVICE_COOKIE);
  }

  /** Asks for codes until GitHub takes one; a refused code is asked again as a retry. */
  async answerTwoFa(first: Page, step: TwoFaStep): Promise<Page> {
    let page = first;
    let retry = false;
    for (;;) {
      if (page.$(step.form).length === 0) {
        log('error', `GitHub's ${step.type} page has no ${step.form}`);
        throw new KonnectorError('UNKNOWN_ERROR');
      }
      const code = await this.waitForTwoFaCode({
        type: step.type,
        retry,
        ...codeDetails(page),
        ...(page.$(RESEND_FORM).length > 0
          ? {
              resendCooldown: secondsAttr(page, `${RESEND_FORM}`, 'data-resend-wait-seconds', 0) * 1000,
              // "Re-send the authentication code": a new e-mail, and its lifetime starts again.
              resend: async () => {
                page = pageOf((await submitForm(page, RESEND_FORM, {}, { request: this.request })).response);
                throwIfLocked(page);
                return {
                  ...codeDetails(page),
                  cooldown: secondsAttr(page, RESEND_FORM, 'data-resend-wait-seconds', 30) * 1000,
                };
              },
            }
          : {}),
      });
      page = pageOf(
        (await submitForm(page, step.form, { [step.codeField]: code }, { request: this.request })).response,
      );
      throwIfLocked(page);
      if (page.$(step.form).length === 0) return page;
      const error = page.$('[data-error]').attr('data-error');
      log('info', error === 'expired-code' ? 'the code had expired: GitHub sent a new one' : 'GitHub refused the code');
      retry = true;
    }
  }

  /** The receipts listed on the billing history page, as bills. */
  async fetchReceipts(): Promise<BillToSave[]> {
    const response = (await this.request({
      url: `${this.baseUrl}${BILLING_PATH}`,
      resolveWithFullResponse: true,
    })) as FullResponse;
    if (isLoginUrl(response.url)) {
      log('error', 'GitHub sent the billing page back to the login page right after the login');
      throw new KonnectorError('UNKNOWN_ERROR');
    }
    const { $ } = pageOf(response);
    const bills: BillToSave[] = [];
    for (const row of $('tr.payment-history-row').toArray()) {
      const $row = $(row);
      const id = $row.attr('data-receipt-id') ?? '';
      const date = $row.attr('data-date') ?? $row.find('time').attr('datetime') ?? '';
      const amount = Number($row.attr('data-amount'));
      const href = $row.find('a.receipt-link').attr('href');
      if (!id || !href || !/^\d{4}-\d{2}-\d{2}/.test(date) || !Number.isFinite(amount)) {
        log('warn', `skipped a billing row GitHub did not fill in (receipt ${id || 'without id'})`);
        continue;
      }
      bills.push({
        vendor: 'GitHub',
        vendorRef: id,
        date: date.slice(0, 10),
        amount,
        currency: $row.attr('data-currency') ?? 'USD',
        filename: `${date.slice(0, 10)}_github_${id}.pdf`,
        fileurl: new URL(href, response.url).href,
      });
    }
    return bills;
  }
}

const RESEND_FORM = 'form#device-verification-resend';

/** What GitHub's code page says: where the e-mail went, how long the code lives, wrong codes left before the lockout. */
function codeDetails(page: Page): { destination?: string; expiresAt?: number; attemptsLeft?: number } {
  const note = page.$('[data-attempts-left]').first();
  const destination = note.attr('data-destination');
  const attemptsLeft = Number.parseInt(note.attr('data-attempts-left') ?? '', 10);
  const expiresIn = Number.parseInt(note.attr('data-code-expires-in') ?? '', 10);
  return {
    ...(destination ? { destination } : {}),
    ...(Number.isInteger(attemptsLeft) && attemptsLeft >= 0 ? { attemptsLeft } : {}),
    ...(Number.isInteger(expiresIn) && expiresIn > 0 ? { expiresAt: Date.now() + expiresIn * 1000 } : {}),
  };
}

function secondsAttr(page: Page, selector: string, name: string, fallback: number): number {
  const value = Number.parseInt(page.$(selector).attr(name) ?? '', 10);
  return Number.isInteger(value) && value >= 0 ? value : fallback;
}

function isLoginUrl(url: string): boolean {
  return /\/login\/?$/.test(new URL(url).pathname);
}

function pageOf(response: FullResponse): Page {
  if (!response.$) {
    log('error', `GitHub answered ${new URL(response.url).pathname} with something that is not a page`);
    throw new KonnectorError('UNKNOWN_ERROR');
  }
  return { $: response.$, url: response.url };
}

/** `signin` hands every status to `validate`: an overloaded site is VENDOR_DOWN, not a wrong password. */
function throwIfRefused(status: number): void {
  if (status < 400) return;
  log('error', `GitHub answered the login form with ${status}`);
  throw new KonnectorError([429, 502, 503, 504].includes(status) ? 'VENDOR_DOWN' : 'UNKNOWN_ERROR');
}

function throwIfLocked(page: Page): void {
  if (page.$('[data-error="locked"]').length > 0) {
    log('error', 'GitHub locked the sign-in after too many attempts');
    throw new KonnectorError('LOGIN_FAILED.TOO_MANY_ATTEMPTS');
  }
}

function isPdf(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 5)).toString('latin1') === '%PDF-';
}
