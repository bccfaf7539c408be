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

/** Where the demo serves Gleaner's fake Amazon; a real deployment sets the `baseUrl` field. */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080/amazon';

const ORDERS_PATH = '/gp/css/order-history';
/** The cookie with which Amazon remembers a browser that passed Two-Step Verification. */
const DEVICE_COOKIE = 'x-amz-otp-device';
/** A bound on the order history walk, in case a "Next" link ever pointed back. */
const MAX_ORDER_PAGES = 500;

const FORMS = {
  email: 'form#ap_login_form',
  password: 'form#ap_password_form',
  captcha: 'form#auth-captcha-form',
  chooseDevice: 'form#auth-select-device-form',
  code: 'form#auth-mfa-form',
  approval: 'form#auth-approval-form',
} as const;

type CodeDestination = 'sms' | 'email';

/**
 * Logs into Amazon (e-mail, then password with "Keep me signed in", then Two-Step Verification when
 * asked: where to send the code, then the code, with "Don't require OTP on this browser"), keeps the
 * session, and saves the invoice of every order of every page of the order history.
 */
export class AmazonKonnector extends CookieKonnector {
  /** The site's address (the `baseUrl` field), without a trailing slash. */
  get baseUrl(): string {
    return (this.fields.baseUrl?.trim() || DEFAULT_BASE_URL).replace(/\/+$/, '');
  }

  /** The order history needs a login: a redirect to the sign-in page means the session is gone. */
  async testSession(): Promise<boolean> {
    const response = (await this.request({
      url: `${this.baseUrl}${ORDERS_PATH}`,
      resolveWithFullResponse: true,
    })) as FullResponse;
    return !isSigninUrl(response.url);
  }

  override async fetch(fields: Fields): Promise<void> {
    if (await this.testSession()) {
      log('info', 'the saved Amazon session still works: no login needed');
      await this.notifySuccessfulLogin();
    } else {
      await this.logIn(fields);
    }
    const invoices = await this.fetchInvoices();
    log('info', `${invoices.length} orders in the order history`);
    await this.saveBills(invoices, { fileIdAttributes: ['vendorRef'], validateFile: isPdf });
  }

  async logIn(fields: Fields): Promise<void> {
    const email = fields.login?.trim() ?? '';
    const password = fields.password ?? '';
    if (!email || !password) throw new KonnectorError('LOGIN_FAILED');

    await this.deactivateAutoSuccessfulLogin();
    // Amazon signs in in two steps: the e-mail address first, then the password on the next page.
    const { $, response } = await this.signin({
      url: `${this.baseUrl}/ap/signin`,
      formSelector: FORMS.email,
      formData: { email },
      request: this.request,
      validate: (status, $page) => {
        throwIfRefused(status);
        return $page('[data-error="unknown-email"]').length === 0;
      },
    });
    let page: Page = { $, url: response.url };
    if (page.$(FORMS.captcha).length > 0) {
      // An image puzzle in real life: a konnector does not solve it, a person signing in on the site clears it.
      log('error', 'Amazon shows a captcha before the password: sign in once on the website, then run again');
      throw new KonnectorError('USER_ACTION_NEEDED');
    }
    if (page.$(FORMS.password).length === 0) unexpected(page, 'the password form');
    // Once the password is in, Amazon texts or e-mails a code or pushes an approval to the app: in a
    // background run, the SDK stops before posting it unless this browser is remembered (loginIsSilent).
    page = await this.post(page, FORMS.password, { password, rememberMe: 'true' });
    if (page.$('[data-error="bad-credentials"]').length > 0) throw new KonnectorError('LOGIN_FAILED');
    throwIfLocked(page);

    if (page.$(FORMS.chooseDevice).length > 0) page = await this.chooseWhereToSendTheCode(page, fields);
    if (page.$(FORMS.code).length > 0) page = await this.answerTwoFa(page);
    if (page.$(FORMS.approval).length > 0) page = await this.awaitApproval(page);

    if (page.$('#signed-in').length === 0 && !(await this.testSession())) unexpected(page, 'the signed-in page');
    await this.notifySuccessfulLogin();
  }

  /**
   * Amazon's "where should we send the code" page. Pressing "Send OTP" makes Amazon text or e-mail a
   * code: never in a background run, where nobody would read it.
   */
  async chooseWhereToSendTheCode(page: Page, fields: Fields): Promise<Page> {
    const offered = page
      .$(`${FORMS.chooseDevice} input[name="otpDeviceContext"]`)
      .toArray()
      .map((input) => ({ value: page.$(input).attr('value') ?? '', checked: page.$(input).is('[checked]') }))
      .filter(
        (option): option is { value: CodeDestination; checked: boolean } =>
          option.value === 'sms' || option.value === 'email',
      );
    if (offered.length === 0) unexpected(page, 'a place to send the code');
    const wanted = fields.codeDestination?.trim().toLowerCase();
    const preferred = offered.find((option) => option.value === wanted);
    if (wanted && !preferred) log('warn', `Amazon does not offer to send the code by ${wanted} for this account`);
    const choice = (preferred ?? offered.find((option) => option.checked) ?? offered[0])?.value ?? 'sms';

    if (!this.canWaitForTwoFaCode(choice)) {
      log('warn', `Amazon would send a code by ${choice} and nobody is there to type it: a manual run is needed`);
      throw new KonnectorError('USER_ACTION_NEEDED.TWOFA_EXPIRED');
    }
    log('info', `asking Amazon to send the code by ${choice}`);
    return this.post(page, FORMS.chooseDevice, { otpDeviceContext: choice });
  }

  /**
   * Asks for codes until Amazon takes one; a refused code is asked again as a retry. Home shows what
   * the page says (where the code went, its lifetime, attempts left), offers "Resend OTP" (by SMS or
   * e-mail when the account has both) and "Don't require OTP on this browser".
   */
  async answerTwoFa(first: Page): Promise<Page> {
    let page = first;
    let retry = false;
    for (;;) {
      const type = codeType(page);
      const offered = page.$(RESEND_FORM).length > 0;
      const answer = await this.waitForTwoFaAnswer({
        type,
        retry,
        ...mfaDetails(page),
        trustDevice: { label: rememberLabel(page), checked: true },
        ...(offered
          ? {
              methods: resendMethods(page),
              method: codeChannel(page),
              resendCooldown: resendWait(page, 0),
              resend: async (method?: string) => {
                page = await this.post(page, RESEND_FORM, method ? { otpDeviceContext: method } : {});
                throwIfLocked(page);
                return {
                  ...mfaDetails(page),
                  type: codeType(page),
                  method: codeChannel(page),
                  cooldown: resendWait(page, 30_000),
                };
              },
            }
          : {}),
      });
      log(
        'info',
        answer.trustDevice
          ? 'sending the code with "Don\'t require OTP on this browser"'
          : 'sending the code without remembering this browser (the person unticked the box)',
      );
      page = await this.post(page, FORMS.code, {
        otpCode: answer.code,
        rememberDevice: answer.trustDevice ? 'true' : '',
      });
      throwIfLocked(page);
      if (page.$(FORMS.code).length === 0) return page;
      const error = page.$('[data-error]').attr('data-error');
      log('info', error === 'expired-code' ? 'the code had expired: Amazon sent a new one' : 'Amazon refused the code');
      retry = true;
    }
  }

  /**
   * "Approve the notification sent to your device": Home shows the request while the page's status
   * is polled, as Amazon's own page does; once approved, the sign-in goes on, this browser remembered.
   */
  async awaitApproval(page: Page): Promise<Page> {
    const poll = new URL(
      page.$('#channelDetailsForApprovalNotification').attr('data-approval-status-url') ?? 'approval/poll',
      page.url,
    ).href;
    await this.waitForTwoFaCode({
      type: 'app',
      approved: async () => {
        const { status } = (await this.request({ url: poll, json: true })) as { status?: string };
        if (status === 'denied') {
          log('error', 'the sign-in was denied in the Amazon app');
          throw new KonnectorError('USER_ACTION_NEEDED.TWOFA_DENIED');
        }
        if (status === 'expired') throw new KonnectorError('USER_ACTION_NEEDED.TWOFA_EXPIRED');
        return status === 'approved';
      },
    });
    // This browser is remembered now: a later background run may log in without asking anyone.
    return this.post(page, FORMS.approval, { rememberDevice: 'true' });
  }

  /**
   * Amazon asks no second factor on a browser it remembers ("Don't require OTP on this browser"):
   * then a background run may post the password, whatever Amazon asked before.
   */
  override async loginIsSilent(): Promise<boolean> {
    const cookies = await this.jar.getCookies(`${this.baseUrl}/ap/signin`);
    return cookies.some((cookie) => cookie.key === DEVICE_COOKIE);
  }

  /** Submits a form of `page` as a browser would (its hidden fields kept), with `values` on top. */
  async post(page: Page, selector: string, values: Record<string, string>): Promise<Page> {
    return pageOf((await submitForm(page, selector, values, { request: this.request })).response);
  }

  /** Every order of every page of the order history, as bills. */
  async fetchInvoices(): Promise<BillToSave[]> {
    const bills: BillToSave[] = [];
    const seen = new Set<string>();
    let next: string | undefined = `${this.baseUrl}${ORDERS_PATH}`;
    for (let pages = 0; next && pages < MAX_ORDER_PAGES; pages++) {
      const response = (await this.request({ url: next, resolveWithFullResponse: true })) as FullResponse;
      if (isSigninUrl(response.url)) {
        log('error', 'Amazon sent the order history back to the sign-in page after the login');
        throw new KonnectorError('UNKNOWN_ERROR');
      }
      const { $ } = pageOf(response);
      seen.add(response.url);
      for (const card of $('#ordersContainer .order[data-order-id]').toArray()) {
        const $card = $(card);
        const id = $card.attr('data-order-id') ?? '';
        const date = $card.attr('data-date') ?? '';
        const amount = Number($card.attr('data-total'));
        const href = $card.find('a.invoice-link').attr('href');
        if (!id || !href || !/^\d{4}-\d{2}-\d{2}$/.test(date) || !Number.isFinite(amount)) {
          log('warn', `skipped an order Amazon did not fill in (order ${id || 'without id'})`);
          continue;
        }
        bills.push({
          vendor: 'Amazon',
          vendorRef: id,
          date,
          amount,
          currency: $card.attr('data-currency') ?? 'EUR',
          filename: `${date}_amazon_${id}.pdf`,
          fileurl: new URL(href, response.url).href,
        });
      }
      const href = $('.a-pagination .a-last a[href]').attr('href');
      next = href ? new URL(href, response.url).href : undefined;
      if (next && seen.has(next)) next = undefined;
    }
    return bills;
  }
}

/** The code page says where the code went; so does its text, should the attribute go. */
function codeType(page: Page): TwoFaType {
  const instructions = page.$('#auth-mfa-instructions');
  const channel = instructions.attr('data-otp-channel');
  if (channel === 'totp') return 'app_code';
  if (channel === 'sms' || channel === 'email') return channel;
  const text = instructions.text();
  if (/authenticator app/i.test(text)) return 'app_code';
  if (/phone|text/i.test(text)) return 'sms';
  if (/e-?mail/i.test(text)) return 'email';
  unexpected(page, 'where the code was sent');
}

const RESEND_FORM = 'form#auth-resend-code-form';

/** What the code page says of its code: where it went (masked), its lifetime, wrong codes left before the lockout. */
function mfaDetails(page: Page): { destination?: string; expiresAt?: number; attemptsLeft?: number } {
  const instructions = page.$('#auth-mfa-instructions');
  const destination = instructions.attr('data-otp-destination');
  const attemptsLeft = Number.parseInt(instructions.attr('data-attempts-left') ?? '', 10);
  const expiresIn = Number.parseInt(instructions.attr('data-code-expires-in') ?? '', 10);
  return {
    ...(destination ? { destination } : {}),
    ...(Number.isInteger(attemptsLeft) && attemptsLeft >= 0 ? { attemptsLeft } : {}),
    ...(Number.isInteger(expiresIn) && expiresIn > 0 ? { expiresAt: Date.now() + expiresIn * 1000 } : {}),
  };
}

/** The channel the current code went by ('sms', 'email'); undefined for an authenticator code. */
function codeChannel(page: Page): string | undefined {
  const channel = page.$('#auth-mfa-instructions').attr('data-otp-channel');
  return channel === 'sms' || channel === 'email' ? channel : undefined;
}

/** The resend form's choices of where the new code goes (none when the account has one place only). */
function resendMethods(page: Page): Array<{ id: string; label: string; type: 'sms' | 'email' }> {
  return page
    .$(`${RESEND_FORM} input[name="otpDeviceContext"]`)
    .toArray()
    .map((input) => {
      const id = page.$(input).attr('value') ?? '';
      const label = page.$(input).parent('label').text().trim() || id;
      return { id, label, type: id === 'email' ? ('email' as const) : ('sms' as const) };
    })
    .filter((method) => method.id === 'sms' || method.id === 'email');
}

function resendWait(page: Page, fallbackMs: number): number {
  const seconds = Number.parseInt(page.$(RESEND_FORM).attr('data-resend-wait-seconds') ?? '', 10);
  return Number.isInteger(seconds) && seconds >= 0 ? seconds * 1000 : fallbackMs;
}

function rememberLabel(page: Page): string {
  return page.$('#auth-mfa-remember-device').parent('label').text().trim() || "Don't require OTP on this browser";
}

function isSigninUrl(url: string): boolean {
  return /\/ap\/signin\/?$/.test(new URL(url).pathname);
}

function pageOf(response: FullResponse): Page {
  if (!response.$) {
    log('error', `Amazon answered ${new URL(response.url).pathname} with something that is not a page`);
    throw new KonnectorError('UNKNOWN_ERROR');
  }
  return { $: response.$, url: response.url };
}

function unexpected(page: Page, expected: string): never {
  const title = page.$('title').text().trim();
  log('error', `Amazon showed an unexpected page (${new URL(page.url).pathname}, "${title}") instead of ${expected}`);
  throw new KonnectorError('UNKNOWN_ERROR');
}

/** `signin` hands every status to `validate`: an overloaded site is VENDOR_DOWN, not a wrong login. */
function throwIfRefused(status: number): void {
  if (status < 400) return;
  log('error', `Amazon answered the sign-in form with ${status}`);
  throw new KonnectorError([429, 502, 503, 504].includes(status) ? 'VENDOR_DOWN' : 'UNKNOWN_ERROR');
}

function throwIfLocked(page: Page): void {
  if (page.$('[data-error="locked"]').length > 0) {
    log('error', 'Amazon locked the sign-in after too many attempts');
    throw new KonnectorError('LOGIN_FAILED.TOO_MANY_ATTEMPTS');
  }
}

function isPdf(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 5)).toString('latin1') === '%PDF-';
}
