import { Cookie, type CookieJar } from 'tough-cookie';
import { BaseKonnector, type FetchFunction, type Fields } from './base-konnector.js';
import { log } from './core/log.js';
import { deserializeCookieJar, newCookieJar } from './http/cookie-jar.js';
import { redactor } from './core/redact.js';
import type { BillToSave, FileToSave, SaveFilesOptions, SaveFilesResult } from './save-files.js';
import { requestFactory, type RequestFunction, type RequestOptions } from './request.js';

/**
 * A konnector that keeps the website's session between runs: the cookie jar is restored at `init`,
 * saved after login and at the end, and sealed by the host. Subclasses must say, with
 * `testSession()`, whether the restored session still works, and skip login and 2FA when it does.
 */
export abstract class CookieKonnector extends BaseKonnector {
  jar: CookieJar = newCookieJar();
  /** A request function that uses this konnector's jar. */
  request: RequestFunction;
  readonly #requestOptions: RequestOptions;

  constructor(fetch?: FetchFunction, requestOptions: RequestOptions = {}) {
    super(fetch);
    if (typeof (this as { testSession?: unknown }).testSession !== 'function') {
      throw new Error(
        'CookieKonnector needs a testSession() method that resolves to true when the restored session still works',
      );
    }
    // HTML answers come parsed into cheerio's `$`: what a scraping konnector wants most of the time.
    this.#requestOptions = { cheerio: true, ...requestOptions };
    this.request = this.requestFactory();
  }

  /** True when the restored session is still logged in (a redirect to the login page means no). */
  abstract testSession(): Promise<boolean>;

  /** A request function bound to this konnector's cookie jar. */
  requestFactory(options: RequestOptions = {}): RequestFunction {
    return requestFactory({ ...this.#requestOptions, ...options, jar: this.jar });
  }

  override async init(fields: Fields): Promise<void> {
    await super.init(fields);
    await this.initSession();
  }

  /** Restores the saved jar, or starts empty when the account asks for RESET_SESSION. */
  async initSession(): Promise<void> {
    if (this.initialState === 'RESET_SESSION') {
      log('info', 'the account asked for a new session: the saved one is dropped');
      await this.resetSession();
      await this.updateAccountAttributes({ state: null });
      return;
    }
    const saved = await this.host.loadSession();
    if (!saved) return;
    try {
      this.#useJar(await deserializeCookieJar(saved));
      log('info', 'session restored');
    } catch {
      log('warn', 'the saved session could not be read: starting a new one');
      this.#useJar(newCookieJar());
    }
  }

  /**
   * Seals the current jar into the account, and tells the host when it lapses: the latest expiry of
   * its lasting cookies (unless the konnector declared the session's end with `sessionExpiresAt`).
   */
  async saveSession(): Promise<void> {
    const serialized = await this.jar.serialize();
    for (const cookie of serialized.cookies) redactor.add(typeof cookie.value === 'string' ? cookie.value : null);
    await this.host.saveSession(JSON.stringify(serialized));
    if (this.sessionExpiryDeclared) return;
    const latest = latestExpiry(serialized.cookies);
    if (latest !== null) await this.reportSessionHealth({ sessionExpiresAt: latest, source: 'cookies' });
  }

  /** Forgets the session: a new empty jar, and nothing saved on the account. */
  async resetSession(): Promise<void> {
    this.#useJar(newCookieJar());
    await this.host.saveSession(null);
  }

  override async notifySuccessfulLogin(): Promise<void> {
    await super.notifySuccessfulLogin();
    await this.saveSession();
  }

  /** Downloads go through this konnector's session unless another request function is given. */
  override saveFiles(entries: FileToSave[], options: SaveFilesOptions = {}): Promise<SaveFilesResult> {
    return super.saveFiles(entries, { request: this.request, ...options });
  }

  override saveBills(entries: BillToSave[], options: SaveFilesOptions = {}): Promise<SaveFilesResult> {
    return super.saveBills(entries, { request: this.request, ...options });
  }

  override async end(): Promise<void> {
    await this.saveSession();
    await super.end();
  }

  #useJar(jar: CookieJar): void {
    this.jar = jar;
    for (const cookie of jar.serializeSync()?.cookies ?? []) {
      redactor.add(typeof cookie.value === 'string' ? cookie.value : null);
    }
    this.request = this.requestFactory();
  }
}

/**
 * The latest expiry among cookies that outlive the browser (session cookies have none), whether the
 * site gave `Expires` or `Max-Age` (tough-cookie's own reckoning), or null.
 */
function latestExpiry(cookies: ReadonlyArray<unknown>): string | null {
  let latest: number | null = null;
  for (const serialized of cookies) {
    const cookie = Cookie.fromJSON(serialized);
    const at = cookie?.expiryTime();
    if (at === undefined || !Number.isFinite(at)) continue;
    if (latest === null || at > latest) latest = at;
  }
  return latest === null ? null : new Date(latest).toISOString();
}
