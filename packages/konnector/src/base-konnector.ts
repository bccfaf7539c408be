import type { AccountAttributes, RunContext, TwoFaDetails, TwoFaMethod, TwoFaReply } from '@gleaner/contracts';
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
import type { KonnectorHost, SessionHealthReport } from './host/host.js';
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
  /** Where the site says it sent the code, masked as the site shows it: `'+33 6 •• •• •• 78'`. */
  destination?: string;
  /**
   * When the code stops working, as the site says (a Date, ms since 1970, or an ISO string): the wait
   * ends then instead of after `timeout` (still capped by the host). Give the same one on a retry: a
   * wrong code does not restart the time.
   */
  expiresAt?: Date | number | string;
  /** Wrong codes the site still takes before it locks the account, as the site reports it. */
  attemptsLeft?: number;
  /**
   * Makes the site send a new code (Home's "Send a new code", or the person picking another of
   * `methods`, whose id it is given). It may return what the site says of the new code.
   */
  resend?: (method?: string) => Promise<ResendResult | void>;
  /** Milliseconds before the person may ask for a new code (the site's cooldown); default 30 s. */
  resendCooldown?: number;
  /** The choices the site offers of where to send the code (e.g. SMS or e-mail). */
  methods?: readonly TwoFaMethod[];
  /** The id of the choice the current code was sent by. */
  method?: string;
  /** The site's "trust this device" box: its label (or true for a default one) and whether it starts checked. */
  trustDevice?: boolean | string | { label?: string; checked?: boolean };
};

/** What the site said when it sent a new code (all optional). */
export type ResendResult = {
  type?: TwoFaType;
  destination?: string;
  expiresAt?: Date | number | string;
  attemptsLeft?: number;
  method?: string;
  /** Milliseconds before yet another code may be asked; default the `resendCooldown` given. */
  cooldown?: number;
};

/** The person's answer: the code, the choice its code was sent by, and the "trust this device" box. */
export type TwoFaAnswer = { code: string; method?: string; trustDevice: boolean };

export const DEFAULT_RESEND_COOLDOWN_MS = 30_000;
const DEFAULT_TRUST_LABEL = 'Trust this device';

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

  /**
   * True when a code can be waited for: a person is there (a manual run), or, given the `type` of
   * code, one of the account's code sources gives it with nobody there (`context.silentTwoFa`). Ask
   * before making a site send one.
   */
  canWaitForTwoFaCode(type?: TwoFaType): boolean {
    return this.context.mode === 'manual' || (type !== undefined && (this.context.silentTwoFa ?? []).includes(type));
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
   * site sends anything, unless the konnector says its login is silent. The same, in any mode, when
   * the host says the account's budget of codes is spent.
   */
  async #guardCredentials(values: Record<string, string>, what: string): Promise<void> {
    const kinds = this.context.siteTwoFa;
    if (kinds.length === 0) return;
    if (!Object.values(values).some((value) => this.#credentials.has(value))) return;
    const silent = this.context.silentTwoFa ?? [];
    const sourcesAnswer = kinds.every((kind) => silent.includes(kind));
    if (this.canWaitForTwoFaCode() || sourcesAnswer) {
      // The account's budget of codes is spent: even a person (or a code source) there must not make
      // the site send one more.
      const refused = this.context.codeBudgetRefused;
      if (refused === undefined || (await this.loginIsSilent())) {
        if (!this.canWaitForTwoFaCode())
          log('info', `${what} carries the credentials; the account's code sources answer ${kinds.join(', ')} with nobody there`);
        return;
      }
      log('warn', `${what} would send the credentials, and the site would send a code: ${refused}`);
      throw new KonnectorError('TWOFA_BUDGET_EXCEEDED');
    }
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
    return (await this.waitForTwoFaAnswer(options)).code;
  }

  /**
   * The same wait as `waitForTwoFaCode`, resolving with the person's choices too: the method the
   * code was sent by (after a pick among `methods`) and the "trust this device" box.
   *
   * @example
   * const { code, trustDevice } = await this.waitForTwoFaAnswer({ type: 'sms', trustDevice: 'Remember this browser' })
   */
  async waitForTwoFaAnswer(options: WaitForTwoFaCodeOptions = {}): Promise<TwoFaAnswer> {
    const { type, retry = false } = options;
    if (type !== undefined && !isTwoFaType(type)) {
      throw new TypeError(
        `waitForTwoFaCode: unknown type ${JSON.stringify(type)}; use one of ${TWOFA_TYPES.join(', ')}`,
      );
    }
    const details = twoFaDetails(options);
    // A code source (a stored authenticator secret, the mailbox, forwarded SMS) answers with nobody there.
    if (!this.canWaitForTwoFaCode(type)) {
      log('warn', 'a code is needed but this is a background run: nobody is there to type it');
      throw new KonnectorError('USER_ACTION_NEEDED.TWOFA_EXPIRED');
    }
    let timeoutMs = this.#timeoutMs(options.expiresAt, options.timeout);
    if (type === 'app') return { code: await this.#waitForApproval(options, timeoutMs), trustDevice: false };
    log(
      'info',
      `waiting for ${type ? AWAITED_CODE[type] : 'a 2FA code'}${retry ? ' (the last one was refused)' : ''}, up to ${Math.round(timeoutMs / 1000)} s`,
    );
    const signal = this.host.cancelled;
    let method = options.method;
    let reply: TwoFaReply = await this.host.waitForTwoFaCode({
      ...(type ? { type } : {}),
      timeoutMs,
      retry,
      details,
      signal,
    });
    while ('resend' in reply) {
      const resent = await this.#resend(options, reply.resend.method, timeoutMs);
      if (resent.ok) {
        method = resent.method ?? method;
        if (resent.timeoutMs !== undefined) timeoutMs = resent.timeoutMs;
      }
      reply = await this.host.twoFaResent(resent, { waitMs: timeoutMs, signal });
    }
    redactor.add(reply.code);
    log('info', 'code received');
    const chosen = reply.method ?? method;
    return {
      code: reply.code,
      ...(chosen !== undefined ? { method: chosen } : {}),
      trustDevice: reply.trustDevice ?? details.trustDevice?.checked ?? false,
    };
  }

  /** How long a wait may last: until the code's own `expiresAt` when given, else `timeout`; capped by the host. */
  #timeoutMs(expiresAt: WaitForTwoFaCodeOptions['expiresAt'], timeout = DEFAULT_TWOFA_TIMEOUT_MS): number {
    let wanted = timeout;
    if (expiresAt !== undefined) {
      const at =
        expiresAt instanceof Date
          ? expiresAt.getTime()
          : typeof expiresAt === 'number'
            ? expiresAt
            : Date.parse(expiresAt);
      if (!Number.isFinite(at))
        throw new TypeError(`waitForTwoFaCode: expiresAt ${JSON.stringify(expiresAt)} is not a date`);
      wanted = at - Date.now();
      if (wanted <= 0) {
        log('warn', 'the site says the code has already expired: ask it for a new one before waiting');
        throw new KonnectorError('USER_ACTION_NEEDED.TWOFA_EXPIRED');
      }
    }
    return Math.max(1, Math.min(Math.round(wanted), this.context.twoFaTimeoutCapMs));
  }

  /** The person asked for a new code: asks the site (through the konnector's `resend`) and says what it did. */
  async #resend(
    options: WaitForTwoFaCodeOptions,
    method: string | undefined,
    timeoutMs: number,
  ): Promise<Parameters<KonnectorHost['twoFaResent']>[0]> {
    if (!options.resend) return { ok: false };
    let result: ResendResult;
    try {
      result = (await options.resend(method)) ?? {};
    } catch (error) {
      // What needs the person (the site locked the account) ends the run; anything else (the site
      // said "too soon", a network error) leaves the old code standing.
      if (error instanceof KonnectorError && /^(LOGIN_FAILED|USER_ACTION_NEEDED)/.test(toErrorCode(error))) throw error;
      log('warn', `the site did not send a new code: ${redactor.scrub(String((error as Error)?.message ?? error))}`);
      return { ok: false };
    }
    const picked = method === undefined ? undefined : options.methods?.find((m) => m.id === method);
    const type = result.type ?? picked?.type;
    log('info', `asked the site for a new code${method ? ` (${method})` : ''}`);
    return {
      ok: true,
      ...(type ? { type } : {}),
      timeoutMs: result.expiresAt === undefined ? timeoutMs : this.#timeoutMs(result.expiresAt),
      ...(result.destination ? { destination: result.destination } : {}),
      ...(result.attemptsLeft !== undefined ? { attemptsLeft: result.attemptsLeft } : {}),
      ...((result.method ?? method) ? { method: result.method ?? method } : {}),
      cooldownMs: Math.round(result.cooldown ?? options.resendCooldown ?? DEFAULT_RESEND_COOLDOWN_MS),
    };
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
        details: twoFaDetails(options),
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

  /** Set by `sessionExpiresAt`: the konnector's word wins over the cookies' expiries. */
  protected sessionExpiryDeclared = false;

  /**
   * Declares when the site's session ends (the site said so, or a token's lifetime): Home shows it
   * ("no code needed until 12 March") and the person is warned before. Wins over the cookies' expiries.
   *
   * @example
   * await this.sessionExpiresAt(new Date(Date.now() + token.expires_in * 1000))
   */
  async sessionExpiresAt(date: Date | string | null): Promise<void> {
    this.sessionExpiryDeclared = true;
    await this.reportSessionHealth({ sessionExpiresAt: isoOrNull(date), source: 'declared' });
  }

  /** Declares until when the site remembers this device (no code asked before then). */
  async deviceTrustExpiresAt(date: Date | string | null): Promise<void> {
    await this.reportSessionHealth({ deviceExpiresAt: isoOrNull(date), source: 'declared' });
  }

  /**
   * Tells the host; never fails the run: a host older than this SDK does not know the method (its
   * refusal is logged), and the run's data matter more than the date.
   */
  protected async reportSessionHealth(health: SessionHealthReport): Promise<void> {
    try {
      await this.host.reportSessionHealth?.(health);
    } catch (error) {
      log('debug', `the host did not take the session's end: ${(error as Error).message}`);
    }
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

/** The options that describe the code, checked, in the host protocol's shape. */
function twoFaDetails(options: WaitForTwoFaCodeOptions): TwoFaDetails {
  const { destination, attemptsLeft, methods, method, trustDevice, resend, resendCooldown } = options;
  if (attemptsLeft !== undefined && !(Number.isInteger(attemptsLeft) && attemptsLeft >= 0))
    throw new TypeError(
      `waitForTwoFaCode: attemptsLeft must be a whole number, 0 or more (got ${String(attemptsLeft)})`,
    );
  if (resend !== undefined && typeof resend !== 'function')
    throw new TypeError('waitForTwoFaCode: resend must be a function that asks the site for a new code');
  if (method !== undefined && methods && !methods.some((m) => m.id === method))
    throw new TypeError(`waitForTwoFaCode: method ${JSON.stringify(method)} is not one of methods`);
  const trust =
    trustDevice === undefined || trustDevice === false
      ? undefined
      : trustDevice === true
        ? { label: DEFAULT_TRUST_LABEL, checked: true }
        : typeof trustDevice === 'string'
          ? { label: trustDevice, checked: true }
          : { label: trustDevice.label ?? DEFAULT_TRUST_LABEL, checked: trustDevice.checked ?? true };
  return {
    ...(destination ? { destination: destination.slice(0, 120) } : {}),
    ...(attemptsLeft !== undefined ? { attemptsLeft } : {}),
    ...(methods && methods.length > 0 ? { methods: [...methods] } : {}),
    ...(method !== undefined ? { method } : {}),
    ...(trust ? { trustDevice: trust } : {}),
    ...(resend
      ? { resend: { cooldownMs: Math.max(0, Math.round(resendCooldown ?? DEFAULT_RESEND_COOLDOWN_MS)) } }
      : {}),
  };
}

function isoOrNull(date: Date | string | null): string | null {
  if (date === null) return null;
  const at = typeof date === 'string' ? new Date(date) : date;
  if (Number.isNaN(at.getTime())) throw new TypeError(`not a date: ${String(date)}`);
  return at.toISOString();
}
