import type { AccountAttributes, RunContext } from '@gleaner/contracts';
import {
  TWOFA_TYPES,
  isTwoFaType,
  toErrorCode,
  type AccountState,
  type ErrorCode,
  type TwoFaType,
} from '@gleaner/contracts/codes';
import { KonnectorError } from './errors.js';
import { setCredentialGate } from './core/credential-gate.js';
import { log, setLogSink } from './core/log.js';
import { redactor } from './core/redact.js';
import type { KonnectorHost } from './host/host.js';
import type { SaveFilesOptions, SaveFilesResult, FileToSave, BillToSave } from './save-files.js';
import type { SigninOptions } from './signin.js';

export type Fields = Record<string, string>;
export type FetchFunction = (this: BaseKonnector, fields: Fields) => Promise<void>;
export type RunResult = { ok: true } | { ok: false; error: ErrorCode };

export type WaitForTwoFaCodeOptions = {
  type?: TwoFaType;
  /** Milliseconds; default 3 minutes, capped by the host. */
  timeout?: number;
  /** The last code was refused by the site: the person is told so and asked again. */
  retry?: boolean;
  /**
   * Type 'app' only (approve in the provider's app, no code typed): asks the site whether the
   * sign-in was approved; polled every `interval` ms (default 2 000) until it says yes, the person
   * cancels, or the time runs out.
   */
  approved?: () => Promise<boolean>;
  interval?: number;
};

export const DEFAULT_TWOFA_TIMEOUT_MS = 3 * 60_000;

/** What the run waits for, in words, for its log (the terminal shows it): not the type's name. */
const AWAITED_CODE: Record<Exclude<TwoFaType, 'app'>, string> = {
  sms: 'the code sent by SMS',
  email: 'the code sent by e-mail',
  app_code: 'the code from your authenticator app',
};

/**
 * Field names whose values are secrets, besides the fields the manifest types `password`
 * (`RunContext.secretFields`): scrubbed from every log line of the run, and (4 characters or more)
 * the credentials that a background run does not post to a site that asks for a code.
 */
const SECRET_FIELD = /pass|pwd|secret|token|otp|key|pin|code|cookie/i;

/**
 * The base of every konnector: `run()` asks the host for the account, then calls
 * `init → fetch(fields) → end`; any failure ends the run with a stable error code.
 *
 * @example
 * new BaseKonnector(async function (fields) {
 *   await this.deactivateAutoSuccessfulLogin()
 *   // …log in, maybe `await this.waitForTwoFaCode({ type: 'sms' })`…
 *   await this.notifySuccessfulLogin()
 * }).run()
 */
export class BaseKonnector {
  fields: Fields = {};
  #host: KonnectorHost | undefined;
  #context: RunContext | undefined;
  /** The values of the account's secret fields: what `#guardCredentials` looks for in a form. */
  readonly #credentials = new Set<string>();
  readonly #fetch: FetchFunction | undefined;

  constructor(fetch?: FetchFunction) {
    this.#fetch = fetch;
  }

  /** The host serving this run; available from `init()` on. */
  get host(): KonnectorHost {
    if (!this.#host) throw new Error('the konnector is not running: call run() first');
    return this.#host;
  }

  get context(): RunContext {
    if (!this.#context) throw new Error('the konnector is not running: call run() first');
    return this.#context;
  }

  /** The account's state when the run started (RESET_SESSION, LOGIN_SUCCESS, …). */
  get initialState(): AccountState {
    return this.context.state;
  }

  /**
   * Runs the konnector to its end. With no host given, it uses its parent's (stack or `gleaner run`)
   * or a standalone one, and sets a non-zero exit code on failure.
   */
  async run(options: { host?: KonnectorHost } = {}): Promise<RunResult> {
    let host: KonnectorHost;
    try {
      host = options.host ?? (await (await import('./host/default-host.js')).defaultHost());
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exitCode = 1;
      return { ok: false, error: 'UNKNOWN_ERROR' };
    }
    this.#host = host;
    setLogSink((entry) => host.log(entry));
    let result: RunResult;
    try {
      this.#context = await host.start();
      this.fields = this.#context.fields;
      const typedSecret = new Set(this.#context.secretFields ?? []);
      for (const [name, value] of Object.entries(this.fields)) {
        if (!typedSecret.has(name) && !SECRET_FIELD.test(name)) continue;
        redactor.add(value);
        if (value.length >= 4) this.#credentials.add(value);
      }
      setCredentialGate((values, what) => this.#guardCredentials(values, what));
      await this.init(this.fields);
      await this.main(this.fields);
      await this.end();
      result = { ok: true };
    } catch (error) {
      const code = toErrorCode(error);
      if (!(error instanceof KonnectorError))
        log('error', `unexpected error: ${String((error as Error)?.stack ?? error)}`);
      log('error', `run failed: ${code}`);
      result = { ok: false, error: code };
    }
    try {
      await host.finish(result.ok ? { outcome: 'ok' } : { outcome: 'error', error: result.error });
    } catch (error) {
      process.stderr.write(`could not report the end of the run: ${redactor.scrub(String(error))}\n`);
    }
    setLogSink(null);
    setCredentialGate(null);
    if (!options.host) {
      if (!result.ok) process.exitCode = 1;
      await (await import('./request.js')).closeAllAgents();
    }
    return result;
  }

  /** Called before `fetch`; CookieKonnector restores the session here. */
  async init(_fields: Fields): Promise<void> {}

  /** Calls `fetch`; kept apart so that subclasses can wrap it. */
  async main(fields: Fields): Promise<void> {
    await this.fetch(fields);
  }

  /** The konnector's work: override it, or pass it to the constructor. */
  async fetch(fields: Fields): Promise<void> {
    if (!this.#fetch) throw new Error('fetch() is not implemented: override it or pass it to the constructor');
    await this.#fetch.call(this, fields);
  }

  /** Called after a successful `fetch`; CookieKonnector saves the session here. */
  async end(): Promise<void> {}

  /** True when a person is there to type a code: ask before making a site send one. */
  canWaitForTwoFaCode(): boolean {
    return this.context.mode === 'manual';
  }

  /**
   * True when logging in asks nothing of a person even though the site has asked for a second
   * factor before (`context.siteTwoFa`): the konnector computes the code from a stored TOTP secret,
   * say, or the site remembers this device. Only then may a background run post the credentials to
   * such a site. Default false; override it (it may be async).
   *
   * @example
   * override loginIsSilent() { return Boolean(this.fields.totpSecret) }
   */
  loginIsSilent(): boolean | Promise<boolean> {
    return false;
  }

  /**
   * The background rule, asked by `submitForm` (and so `signin`) before a form leaves: nobody can
   * answer a code, the site asks for one, and the form carries the credentials: stop before the
   * site sends anything, unless the konnector says its login is silent.
   */
  async #guardCredentials(values: Record<string, string>, what: string): Promise<void> {
    if (this.canWaitForTwoFaCode()) return;
    const kinds = this.context.siteTwoFa;
    if (kinds.length === 0) return;
    if (!Object.values(values).some((value) => this.#credentials.has(value))) return;
    if (await this.loginIsSilent()) {
      log('info', `${what} carries the credentials; the konnector says this login asks nothing of a person`);
      return;
    }
    log(
      'warn',
      `${what} would send the credentials, and this site asks for a second factor (${kinds.join(', ')}) that nobody can give in a background run: a manual run is needed`,
    );
    throw new KonnectorError('USER_ACTION_NEEDED.TWOFA_EXPIRED');
  }

  /**
   * Asks the person for a 2FA code and waits for it (pushed by the host, never polled).
   * In a background run it throws USER_ACTION_NEEDED.TWOFA_EXPIRED at once.
   */
  async waitForTwoFaCode(options: WaitForTwoFaCodeOptions = {}): Promise<string> {
    const { type, timeout = DEFAULT_TWOFA_TIMEOUT_MS, retry = false } = options;
    if (type !== undefined && !isTwoFaType(type)) {
      throw new TypeError(
        `waitForTwoFaCode: unknown type ${JSON.stringify(type)}; use one of ${TWOFA_TYPES.join(', ')}`,
      );
    }
    if (!this.canWaitForTwoFaCode()) {
      log('warn', 'a code is needed but this is a background run: nobody is there to type it');
      throw new KonnectorError('USER_ACTION_NEEDED.TWOFA_EXPIRED');
    }
    const timeoutMs = Math.max(1, Math.min(timeout, this.context.twoFaTimeoutCapMs));
    if (type === 'app') return this.#waitForApproval(options, timeoutMs);
    log(
      'info',
      `waiting for ${type ? AWAITED_CODE[type] : 'a 2FA code'}${retry ? ' (the last one was refused)' : ''}, up to ${Math.round(timeoutMs / 1000)} s`,
    );
    const code = await this.host.waitForTwoFaCode({
      ...(type ? { type } : {}),
      timeoutMs,
      retry,
      signal: this.host.cancelled,
    });
    redactor.add(code);
    log('info', 'code received');
    return code;
  }

  /**
   * Type 'app': the person is asked (Home shows the request, with a cancel button) while the site is
   * polled; resolves '' once `approved()` says yes, and the host closes the prompt as answered.
   */
  async #waitForApproval(options: WaitForTwoFaCodeOptions, timeoutMs: number): Promise<string> {
    const { approved, interval = 2_000, retry = false } = options;
    if (!approved) {
      throw new TypeError(
        "waitForTwoFaCode({ type: 'app' }) needs `approved`: a check of the site that says when the sign-in was approved",
      );
    }
    log(
      'info',
      `waiting for an approval in the provider's app${retry ? ' (retry)' : ''}, up to ${Math.round(timeoutMs / 1000)} s`,
    );
    const withdraw = new AbortController();
    const deadline = Date.now() + timeoutMs;
    // The person's side: settles when they cancel, when the prompt expires, or (in a terminal) when
    // they say they approved.
    let personDone = false;
    const person = this.host
      .waitForTwoFaCode({
        type: 'app',
        timeoutMs,
        retry,
        signal: AbortSignal.any([this.host.cancelled, withdraw.signal]),
      })
      .then(
        () => {
          personDone = true;
        },
        (error: unknown) => {
          personDone = true;
          if (!withdraw.signal.aborted) throw error;
        },
      );
    person.catch(() => undefined);
    try {
      for (;;) {
        if (await approved()) break;
        if (Date.now() >= deadline) throw new KonnectorError('USER_ACTION_NEEDED.TWOFA_EXPIRED');
        const pause = new Promise<void>((resolve) =>
          setTimeout(resolve, Math.min(interval, Math.max(0, deadline - Date.now()))),
        );
        // Cancelled or expired on the person's side: `person` throws. Said "approved" in a terminal:
        // the site is checked at the next turn, and polled on until the deadline.
        await (personDone ? pause : Promise.race([pause, person]));
        if (personDone) await person;
      }
    } catch (error) {
      withdraw.abort('done');
      throw error;
    }
    withdraw.abort('approved');
    await this.host.twoFaApproved();
    log('info', 'approved in the app');
    return '';
  }

  /** Tells Home not to assume success after 8 seconds: this konnector will say when it is logged in. */
  async deactivateAutoSuccessfulLogin(): Promise<void> {
    await this.updateAccountAttributes({ state: 'HANDLE_LOGIN_SUCCESS' });
  }

  /** Tells Home the login succeeded: the person may leave while the run goes on. */
  async notifySuccessfulLogin(): Promise<void> {
    await this.updateAccountAttributes({ state: 'LOGIN_SUCCESS' });
  }

  async updateAccountAttributes(attrs: AccountAttributes): Promise<void> {
    await this.host.updateAccountAttributes(attrs);
  }

  /** The konnector's own data kept on the account between runs (not the credentials). */
  getAccountData(): Promise<Record<string, unknown>> {
    return this.host.getAccountData();
  }

  saveAccountData(data: Record<string, unknown>, options: { merge?: boolean } = {}): Promise<Record<string, unknown>> {
    return this.host.saveAccountData(data, options.merge ?? true);
  }

  /** Ends the run now with this error code. */
  terminate(code: ErrorCode): never {
    throw new KonnectorError(code);
  }

  /** Downloads and saves files, skipping those already saved; see `saveFiles`. */
  async saveFiles(entries: FileToSave[], options: SaveFilesOptions = {}): Promise<SaveFilesResult> {
    const { saveFiles } = await import('./save-files.js');
    return saveFiles(this.host, this.context, entries, options);
  }

  /** Like saveFiles, each file being a bill with amount, date and vendor. */
  async saveBills(entries: BillToSave[], options: SaveFilesOptions = {}): Promise<SaveFilesResult> {
    const { saveBills } = await import('./save-files.js');
    return saveBills(this.host, this.context, entries, options);
  }

  /** Fills and posts a login form; see `signin`. */
  async signin(options: SigninOptions): ReturnType<typeof import('./signin.js').signin> {
    const { signin } = await import('./signin.js');
    return signin(options);
  }
}
