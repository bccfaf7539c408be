import { CookieKonnector, KonnectorError, type CheerioAPI, type Fields, type TwoFaType } from '@gleaner/konnector';

/** How the site names its methods, and how Gleaner names them. */
const TWOFA_TYPES: Record<string, TwoFaType> = { sms: 'sms', email: 'email', totp: 'app_code' };

export class TestSiteKonnector extends CookieKonnector {
  /**
   * The site's address is a field, so that tests can point the konnector at a local fake; the
   * fallback is the manifest's default (the test site under `gleaner sites`).
   */
  get baseUrl(): string {
    return this.fields.baseUrl ?? 'http://127.0.0.1:8080/test';
  }

  /** A session works when the account page does not send us back to the login page. */
  async testSession(): Promise<boolean> {
    const response = await this.request({ url: `${this.baseUrl}/account`, resolveWithFullResponse: true });
    return !new URL(response.url).pathname.endsWith('/login');
  }

  override async fetch(fields: Fields): Promise<void> {
    if (!(await this.testSession())) await this.logIn(fields);

    const $: CheerioAPI = await this.request(`${this.baseUrl}/bills`);
    const bills = $('tr.bill')
      .toArray()
      .map((row) => {
        const id = $(row).attr('data-id') ?? '';
        return {
          vendorRef: id,
          filename: `${id}.pdf`,
          fileurl: new URL($(row).find('a.bill-pdf').attr('href') ?? '', this.baseUrl).href,
          amount: Number($(row).attr('data-amount')),
          currency: $(row).attr('data-currency') ?? 'EUR',
          date: $(row).attr('data-date') ?? '',
          vendor: 'Test Site',
        };
      });
    await this.saveBills(bills, { fileIdAttributes: ['vendorRef'] });
  }

  async logIn(fields: Fields): Promise<void> {
    // In a background run, signin stops before it posts the password when this account's site has
    // asked for a code (or may: the manifest's `twofa`), since nobody would read a new one. A login
    // that asks nothing of a person (a TOTP secret the konnector holds) says so with loginIsSilent().
    await this.deactivateAutoSuccessfulLogin();
    let { $ }: { $: CheerioAPI } = await this.signin({
      url: `${this.baseUrl}/login`,
      formSelector: '#login-form',
      formData: { login: fields.login ?? '', password: fields.password ?? '' },
      request: this.request,
      validate: (_status, $page) => $page('[data-error="bad-credentials"]').length === 0,
    });

    // Detection is site specific: here the 2FA page is recognised by its form.
    const method = $('#twofa-form').attr('data-twofa-method');
    if (method) {
      const type = TWOFA_TYPES[method];
      let retry = false;
      while ($('#twofa-form').length) {
        const code = await this.waitForTwoFaCode({ type, retry });
        $ = await this.request({
          url: `${this.baseUrl}/2fa`,
          method: 'POST',
          form: { _csrf: String($('#twofa-form input[name=_csrf]').val()), code },
        });
        if ($('[data-error="locked"]').length) throw new KonnectorError('LOGIN_FAILED.TOO_MANY_ATTEMPTS');
        retry = true;
      }
    }
    await this.notifySuccessfulLogin();
  }
}
