import { randomBytes } from 'node:crypto';
import type { SiteClock } from './clock.js';
import { csrfToken, randomDigits, randomToken, safeEqual, type Ctx } from './http-kit.js';
import type { Outbox } from './outbox.js';
import { totpCode, totpMatch } from './totp.js';

/** `push`: the site asks the person to approve the sign-in in its app (shown on the outbox page). */
export type TwoFactorMethod = 'none' | 'sms' | 'email' | 'totp' | 'push';

/** A person with an account on a fake site. The values are fake and public by design. */
export interface SiteUser {
  login: string;
  password: string;
  name?: string;
  email?: string;
  phone?: string;
  twoFactor: TwoFactorMethod;
  /** Base32 secret, for `twoFactor: 'totp'`. */
  totpSecret?: string;
  /** Amazon: always ask this user to solve the text captcha. */
  captcha?: boolean;
}

/** A bill, receipt or invoice offered for download. */
export interface SiteDocument {
  id: string;
  /** YYYY-MM-DD */
  date: string;
  amount: number;
  currency: string;
  label: string;
}

export interface SiteSettings {
  /** Session lifetime (Amazon: without "Keep me signed in"), in ms of site clock. */
  sessionLifetimeMs: number;
  /** Amazon: session lifetime with "Keep me signed in". */
  longSessionLifetimeMs: number;
  /** How long a remembered device skips 2FA / device verification. */
  deviceLifetimeMs: number;
  /** How long an SMS or e-mail code stays valid. */
  codeLifetimeMs: number;
  /** Wrong codes in a row before the login is locked. */
  lockoutThreshold: number;
  /** How long a locked login stays locked. */
  lockoutMs: number;
  /** Amazon: ask every user to solve the captcha, not only flagged ones. */
  captcha: boolean;
  /** How long after a code is sent before another may be asked ("Resend"); default 30 s. */
  resendCooldownMs?: number;
}

export const DEFAULT_RESEND_COOLDOWN_MS = 30_000;

/** Makes the next responses fail or slow down (on paths matching `paths`, a regex source). */
export interface FaultSpec {
  status?: number;
  delayMs?: number;
  /** How many matching requests it applies to; omitted = until cleared. */
  count?: number;
  paths?: string;
}

interface Fault {
  spec: FaultSpec;
  regex: RegExp | undefined;
  remaining: number;
}

interface Account {
  user: SiteUser;
  failures: number;
  lockedUntil: number;
  lastTotpCounter: number;
  documents: SiteDocument[];
}

interface Session {
  login: string;
  createdAt: number;
  long: boolean;
}

/** A sign-in in progress, keyed by the visitor cookie. */
export interface Pending {
  login: string;
  stage: string;
  returnTo?: string;
  code?: string;
  codeExpiresAt?: number;
  /** When the current code was sent: a new one may be asked `resendCooldownMs` later. */
  codeSentAt?: number;
  channel?: 'sms' | 'email';
  rememberMe?: boolean;
  captchaWord?: string;
  /** Amazon: the opaque workflowState the forms of this sign-in carry. */
  workflow?: string;
  /** The push notification this sign-in waits on (`twoFactor: 'push'`). */
  approvalId?: string;
  approvalSentAt?: number;
}

export type CodeCheck = 'ok' | 'wrong' | 'expired' | 'locked';

export interface SiteStateOptions {
  site: string;
  clock: SiteClock;
  outbox: Outbox;
  defaultUsers: () => SiteUser[];
  defaultSettings: SiteSettings;
  visitorCookie: string;
  documentsFor: (user: SiteUser) => SiteDocument[];
  /** Builds the next document for `user` (what "a new bill arrived" means on this site). */
  nextDocument: (user: SiteUser, existing: SiteDocument[]) => SiteDocument;
}

/** Accounts, sessions, devices, codes, faults and counters of one fake site. */
export class SiteState {
  readonly site: string;
  readonly clock: SiteClock;
  readonly outbox: Outbox;
  settings: SiteSettings;
  readonly accounts = new Map<string, Account>();
  readonly sessions = new Map<string, Session>();
  readonly devices = new Map<string, Session>();
  readonly pending = new Map<string, Pending>();
  private faults: Fault[] = [];
  private readonly counts = new Map<string, number>();
  private readonly csrfKey = randomBytes(32);

  constructor(readonly options: SiteStateOptions) {
    this.site = options.site;
    this.clock = options.clock;
    this.outbox = options.outbox;
    this.settings = { ...options.defaultSettings };
    this.loadDefaultUsers();
    this.outbox.registerAuthenticators(this.site, () =>
      [...this.accounts.values()]
        .filter((a) => a.user.twoFactor === 'totp' && a.user.totpSecret)
        .map((a) => ({ site: this.site, login: a.user.login, secret: a.user.totpSecret ?? '' })),
    );
  }

  private loadDefaultUsers(): void {
    for (const user of this.options.defaultUsers()) this.putUser(user);
  }

  now(): number {
    return this.clock.now();
  }

  // ---- users -------------------------------------------------------------

  putUser(user: SiteUser): void {
    const previous = this.accounts.get(user.login);
    this.accounts.set(user.login, {
      user: { ...user },
      failures: 0,
      lockedUntil: 0,
      lastTotpCounter: -1,
      documents: previous?.documents ?? this.options.documentsFor(user),
    });
  }

  removeUser(login: string): boolean {
    for (const [token, s] of this.sessions) if (s.login === login) this.sessions.delete(token);
    for (const [token, d] of this.devices) if (d.login === login) this.devices.delete(token);
    return this.accounts.delete(login);
  }

  account(login: string): Account | undefined {
    return this.accounts.get(login);
  }

  /** The account if the password matches (constant-time compare). */
  authenticate(login: string, password: string): Account | undefined {
    const account = this.accounts.get(login);
    if (!account || !safeEqual(account.user.password, password)) return undefined;
    return account;
  }

  addDocument(login: string, partial: Partial<SiteDocument> = {}): SiteDocument {
    const account = this.requireAccount(login);
    const doc = { ...this.options.nextDocument(account.user, account.documents), ...partial };
    if (account.documents.some((d) => d.id === doc.id)) throw new Error(`document ${doc.id} already exists`);
    account.documents.push(doc);
    return doc;
  }

  requireAccount(login: string): Account {
    const account = this.accounts.get(login);
    if (!account) throw new Error(`no user ${login} on ${this.site}`);
    return account;
  }

  // ---- visitors, CSRF ----------------------------------------------------

  /** The visitor id from the cookie, set now if the browser has none yet. */
  visitor(ctx: Ctx): string {
    const name = this.options.visitorCookie;
    let id = ctx.cookies[name];
    if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) {
      id = randomToken();
      ctx.cookies[name] = id;
      ctx.setCookie(name, id);
    }
    return id;
  }

  existingVisitor(ctx: Ctx): string | undefined {
    return ctx.cookies[this.options.visitorCookie];
  }

  csrfFor(ctx: Ctx): string {
    return csrfToken(this.csrfKey, this.visitor(ctx));
  }

  /** True if `token` is the one this visitor's forms carry; answer 403 otherwise. */
  checkCsrf(ctx: Ctx, token: string | null): boolean {
    const visitor = this.existingVisitor(ctx);
    if (visitor && token && safeEqual(token, csrfToken(this.csrfKey, visitor))) return true;
    ctx.html(
      '<!doctype html><title>Forbidden</title><body data-page="forbidden" data-error="csrf"><h1>403 Forbidden</h1>' +
        '<p>Invalid or missing authenticity token. Reload the page and try again.</p></body>',
      403,
    );
    return false;
  }

  pendingFor(ctx: Ctx): Pending | undefined {
    const visitor = this.existingVisitor(ctx);
    const pending = visitor ? this.pending.get(visitor) : undefined;
    if (pending && !this.accounts.has(pending.login)) return undefined;
    return pending;
  }

  setPending(ctx: Ctx, pending: Pending): void {
    this.pending.set(this.visitor(ctx), pending);
  }

  clearPending(ctx: Ctx): void {
    const visitor = this.existingVisitor(ctx);
    if (visitor) this.pending.delete(visitor);
  }

  // ---- sessions and devices ---------------------------------------------

  createSession(ctx: Ctx, cookie: string, login: string, long = false): void {
    const token = randomToken(24);
    this.sessions.set(token, { login, createdAt: this.now(), long });
    const lifetime = long ? this.settings.longSessionLifetimeMs : this.settings.sessionLifetimeMs;
    ctx.setCookie(cookie, token, { maxAgeMs: lifetime });
  }

  /** The signed-in login, or undefined if the cookie is missing, unknown or expired (site clock). */
  sessionLogin(ctx: Ctx, cookie: string): string | undefined {
    const token = ctx.cookies[cookie];
    const session = token ? this.sessions.get(token) : undefined;
    if (!token || !session) return undefined;
    const lifetime = session.long ? this.settings.longSessionLifetimeMs : this.settings.sessionLifetimeMs;
    if (this.now() >= session.createdAt + lifetime || !this.accounts.has(session.login)) {
      this.sessions.delete(token);
      return undefined;
    }
    return session.login;
  }

  endSession(ctx: Ctx, cookie: string): void {
    const token = ctx.cookies[cookie];
    if (token) this.sessions.delete(token);
    ctx.clearCookie(cookie);
  }

  rememberDevice(ctx: Ctx, cookie: string, login: string): void {
    const token = randomToken(24);
    this.devices.set(token, { login, createdAt: this.now(), long: true });
    ctx.setCookie(cookie, token, { maxAgeMs: this.settings.deviceLifetimeMs });
  }

  /** True if the browser carries a device cookie for `login` that has not expired. */
  knownDevice(ctx: Ctx, cookie: string, login: string): boolean {
    const token = ctx.cookies[cookie];
    const device = token ? this.devices.get(token) : undefined;
    if (!token || !device || device.login !== login) return false;
    if (this.now() >= device.createdAt + this.settings.deviceLifetimeMs) {
      this.devices.delete(token);
      return false;
    }
    return true;
  }

  // ---- codes and lockout --------------------------------------------------

  isLocked(login: string): boolean {
    const account = this.accounts.get(login);
    return !!account && account.lockedUntil > this.now();
  }

  /** Draws a 6-digit code, "sends" it to the outbox and stores it on the pending sign-in. */
  sendCode(pending: Pending, channel: 'sms' | 'email'): void {
    const account = this.requireAccount(pending.login);
    const code = randomDigits(6);
    const to =
      channel === 'sms'
        ? (account.user.phone ?? '+00 0000000000')
        : (account.user.email ?? `${account.user.login}@example.test`);
    const minutes = Math.round(this.settings.codeLifetimeMs / 60_000);
    this.outbox.push({
      to,
      channel,
      code,
      site: this.site,
      login: account.user.login,
      text: `Your ${this.site} verification code is ${code}. It expires in ${minutes} minutes.`,
    });
    pending.code = code;
    pending.channel = channel;
    pending.codeSentAt = this.now();
    pending.codeExpiresAt = this.now() + this.settings.codeLifetimeMs;
  }

  /** Milliseconds before this sign-in may ask for a new code (0: now). */
  resendWaitMs(pending: Pending): number {
    const cooldown = this.settings.resendCooldownMs ?? DEFAULT_RESEND_COOLDOWN_MS;
    return Math.max(0, (pending.codeSentAt ?? 0) + cooldown - this.now());
  }

  /** Sends a new code unless the cooldown is still running; returns whether it sent one. */
  resendCode(pending: Pending, channel: 'sms' | 'email'): boolean {
    if (this.resendWaitMs(pending) > 0) return false;
    this.sendCode(pending, channel);
    return true;
  }

  /** Wrong codes the login still takes before it is locked (what the sites show as "attempts left"). */
  attemptsLeft(login: string): number {
    const account = this.requireAccount(login);
    return Math.max(0, this.settings.lockoutThreshold - account.failures);
  }

  /** "Sends" a push asking the person to approve this sign-in in the site's app. */
  sendPush(pending: Pending): void {
    const account = this.requireAccount(pending.login);
    const request = this.outbox.requestApproval({
      site: this.site,
      login: account.user.login,
      to: `${account.user.name ?? account.user.login}'s phone`,
      text: `Is it you signing in to ${this.site}?`,
    });
    pending.approvalId = request.id;
    pending.approvalSentAt = this.now();
  }

  /** Where the sign-in's push stands; 'expired' once the code lifetime has passed without an answer. */
  pushStatus(pending: Pending): 'pending' | 'approved' | 'denied' | 'expired' {
    const request = pending.approvalId ? this.outbox.approval(pending.approvalId) : undefined;
    if (!request) return 'expired';
    if (request.status === 'pending' && this.now() - (pending.approvalSentAt ?? 0) > this.settings.codeLifetimeMs)
      return 'expired';
    return request.status;
  }

  /** Checks a sent code; a wrong one counts toward the lockout, an expired one does not. */
  checkSentCode(pending: Pending, code: string): CodeCheck {
    if (this.isLocked(pending.login)) return 'locked';
    if (
      pending.code &&
      pending.codeExpiresAt !== undefined &&
      this.now() >= pending.codeExpiresAt &&
      safeEqual(pending.code, code.trim())
    ) {
      return 'expired';
    }
    const ok =
      !!pending.code &&
      pending.codeExpiresAt !== undefined &&
      this.now() < pending.codeExpiresAt &&
      safeEqual(pending.code, code.trim());
    if (ok) pending.code = undefined;
    return this.recordAttempt(pending.login, ok);
  }

  /** Checks an authenticator code (±1 step); a code already used is refused. */
  checkTotp(login: string, code: string): CodeCheck {
    if (this.isLocked(login)) return 'locked';
    const account = this.requireAccount(login);
    const counter = account.user.totpSecret ? totpMatch(account.user.totpSecret, code.trim(), this.now(), 1) : null;
    const ok = counter !== null && counter > account.lastTotpCounter;
    if (ok) account.lastTotpCounter = counter;
    return this.recordAttempt(login, ok);
  }

  private recordAttempt(login: string, ok: boolean): CodeCheck {
    const account = this.requireAccount(login);
    if (ok) {
      account.failures = 0;
      return 'ok';
    }
    account.failures += 1;
    if (account.failures >= this.settings.lockoutThreshold) {
      account.failures = 0;
      account.lockedUntil = this.now() + this.settings.lockoutMs;
      return 'locked';
    }
    return 'wrong';
  }

  currentTotp(login: string): string {
    const secret = this.requireAccount(login).user.totpSecret;
    if (!secret) throw new Error(`${login} on ${this.site} has no authenticator`);
    return totpCode(secret, this.now());
  }

  // ---- faults and counters -----------------------------------------------

  addFault(spec: FaultSpec): void {
    if (spec.status !== undefined && !(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599)) {
      throw new RangeError('fault status must be an HTTP error status (400-599)');
    }
    if (spec.delayMs !== undefined && !(Number.isFinite(spec.delayMs) && spec.delayMs >= 0)) {
      throw new RangeError('fault delayMs must be a non-negative number');
    }
    if (spec.status === undefined && spec.delayMs === undefined)
      throw new RangeError('a fault needs a status or a delayMs');
    const regex = spec.paths === undefined ? undefined : new RegExp(spec.paths);
    this.faults.push({ spec: { ...spec }, regex, remaining: spec.count ?? Number.POSITIVE_INFINITY });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** The faults that apply to this request (each use counts down). */
  takeFaults(sitePath: string, fullPath: string): { status?: number; delayMs: number } {
    let delayMs = 0;
    let status: number | undefined;
    for (const fault of this.faults) {
      if (fault.remaining <= 0) continue;
      if (fault.regex && !fault.regex.test(sitePath) && !fault.regex.test(fullPath)) continue;
      fault.remaining -= 1;
      delayMs += fault.spec.delayMs ?? 0;
      status ??= fault.spec.status;
    }
    this.faults = this.faults.filter((f) => f.remaining > 0);
    return status === undefined ? { delayMs } : { status, delayMs };
  }

  countRequest(method: string, sitePath: string): void {
    const key = `${method} ${sitePath}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Requests served, by site-relative path (control and outbox routes excluded). */
  requestCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, n] of this.counts) {
      const path = key.slice(key.indexOf(' ') + 1);
      out[path] = (out[path] ?? 0) + n;
    }
    return out;
  }

  requestCount(path: string, method?: string): number {
    if (method) return this.counts.get(`${method.toUpperCase()} ${path}`) ?? 0;
    return this.requestCounts()[path] ?? 0;
  }

  // ---- reset -------------------------------------------------------------

  /** Back to the state right after start (the clock too: it may be shared). */
  reset(): void {
    this.settings = { ...this.options.defaultSettings };
    this.accounts.clear();
    this.sessions.clear();
    this.devices.clear();
    this.pending.clear();
    this.faults = [];
    this.counts.clear();
    this.outbox.clear(this.site);
    this.clock.reset();
    this.loadDefaultUsers();
  }
}
