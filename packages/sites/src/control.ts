import type { SiteClock } from './clock.js';
import { HttpError, Router, type Ctx } from './http-kit.js';
import type { ApprovalRequest, OutboxMessage } from './outbox.js';
import type { FaultSpec, SiteDocument, SiteSettings, SiteState, SiteUser, TwoFactorMethod } from './site-state.js';
import { totpRemainingMs } from './totp.js';

/** In-process handle on a running fake site, for tests. Mirrored over HTTP under `/_control`. */
export interface SiteControl {
  readonly site: string;
  readonly clock: SiteClock;
  /** Adds a user, or replaces the one with the same login (its documents are kept). */
  addUser(user: SiteUser): void;
  removeUser(login: string): boolean;
  users(): SiteUser[];
  settings(): SiteSettings;
  configure(patch: Partial<SiteSettings>): SiteSettings;
  /** Session lifetime in ms of site clock (Amazon: the one without "Keep me signed in"). */
  setSessionLifetime(ms: number): void;
  setDeviceLifetime(ms: number): void;
  setLockoutThreshold(n: number): void;
  /** Moves the site clock forward (shared by all sites of one `startSites`). */
  advance(ms: number): void;
  /** Makes matching requests fail with `status` and/or wait `delayMs` first. */
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  /** This site's sent codes, newest first. */
  outbox(login?: string): OutboxMessage[];
  /** The newest code sent by this site (to `login` if given). */
  lastCode(login?: string): string | undefined;
  codesSent(login?: string): number;
  /** This site's push notifications asking to approve a sign-in, newest first. */
  approvals(login?: string): ApprovalRequest[];
  /** The person's answer on their phone (as the outbox page's buttons); false if not pending. */
  answerApproval(id: string, approve: boolean): boolean;
  /** Requests served, by site-relative path (control and outbox routes excluded). */
  requestCounts(): Record<string, number>;
  requestCount(path: string, method?: string): number;
  /** The code the user's authenticator app shows now (site clock). */
  currentTotp(login: string): string;
  documents(login: string): SiteDocument[];
  /** Adds a bill/receipt/order for `login` (the next in sequence unless `partial` says otherwise). */
  addDocument(login: string, partial?: Partial<SiteDocument>): SiteDocument;
  /** Ends every session on the server side (as a site does after a password change). */
  expireSessions(login?: string): void;
  /** Forgets remembered devices, so the next sign-in asks for 2FA again. */
  forgetDevices(login?: string): void;
  reset(): void;
}

export function createControl(state: SiteState): SiteControl {
  /** This site's entries in the shared outbox, for one login if given. */
  const mine = (login?: string) => (login === undefined ? { site: state.site } : { site: state.site, login });
  return {
    site: state.site,
    clock: state.clock,
    addUser: (user) => state.putUser(validateUser(user)),
    removeUser: (login) => state.removeUser(login),
    users: () => [...state.accounts.values()].map((a) => ({ ...a.user })),
    settings: () => ({ ...state.settings }),
    configure(patch) {
      state.settings = { ...state.settings, ...validateSettings(patch) };
      return { ...state.settings };
    },
    setSessionLifetime(ms) {
      state.settings = { ...state.settings, ...validateSettings({ sessionLifetimeMs: ms }) };
    },
    setDeviceLifetime(ms) {
      state.settings = { ...state.settings, ...validateSettings({ deviceLifetimeMs: ms }) };
    },
    setLockoutThreshold(n) {
      state.settings = { ...state.settings, ...validateSettings({ lockoutThreshold: n }) };
    },
    advance: (ms) => state.clock.advance(ms),
    injectFault: (fault) => state.addFault(fault),
    clearFaults: () => state.clearFaults(),
    outbox: (login) => state.outbox.list(mine(login)),
    lastCode: (login) => state.outbox.list(mine(login))[0]?.code,
    codesSent: (login) => state.outbox.list(mine(login)).length,
    approvals: (login) => state.outbox.approvalRequests(mine(login)),
    answerApproval: (id, approve) => state.outbox.answerApproval(id, approve),
    requestCounts: () => state.requestCounts(),
    requestCount: (path, method) => state.requestCount(path, method),
    currentTotp: (login) => state.currentTotp(login),
    documents: (login) => state.requireAccount(login).documents.map((d) => ({ ...d })),
    addDocument: (login, partial) => state.addDocument(login, partial),
    expireSessions(login) {
      for (const [token, s] of state.sessions)
        if (login === undefined || s.login === login) state.sessions.delete(token);
    },
    forgetDevices(login) {
      for (const [token, d] of state.devices) if (login === undefined || d.login === login) state.devices.delete(token);
    },
    reset: () => state.reset(),
  };
}

const METHODS: TwoFactorMethod[] = ['none', 'sms', 'email', 'totp'];

function validateUser(input: unknown): SiteUser {
  if (!input || typeof input !== 'object') throw new HttpError(400, 'user must be an object');
  const u = input as Record<string, unknown>;
  const str = (k: string, required: boolean): string | undefined => {
    const v = u[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || !v) throw new HttpError(400, `user.${k} must be a non-empty string`);
    return v;
  };
  const twoFactor = (u.twoFactor ?? 'none') as TwoFactorMethod;
  if (!METHODS.includes(twoFactor)) throw new HttpError(400, `user.twoFactor must be one of ${METHODS.join(', ')}`);
  const user: SiteUser = { login: str('login', true) ?? '', password: str('password', true) ?? '', twoFactor };
  for (const k of ['name', 'email', 'phone', 'totpSecret'] as const) {
    const v = str(k, false);
    if (v !== undefined) user[k] = v;
  }
  if (twoFactor === 'totp' && !user.totpSecret) throw new HttpError(400, 'a totp user needs totpSecret (base32)');
  if (user.totpSecret && !/^[A-Z2-7]+=*$/i.test(user.totpSecret)) throw new HttpError(400, 'totpSecret must be base32');
  if (u.captcha !== undefined) user.captcha = u.captcha === true;
  return user;
}

function validateDocument(input: Record<string, unknown>): Partial<SiteDocument> {
  const out: Partial<SiteDocument> = {};
  for (const key of ['id', 'date', 'currency', 'label'] as const) {
    const v = input[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !v) throw new HttpError(400, `${key} must be a non-empty string`);
    out[key] = v;
  }
  if (out.id !== undefined && !/^[A-Za-z0-9_-]+$/.test(out.id))
    throw new HttpError(400, 'id may hold only letters, digits, _ and -');
  if (out.date !== undefined && !/^\d{4}-\d\d-\d\d$/.test(out.date))
    throw new HttpError(400, 'date must be YYYY-MM-DD');
  if (input.amount !== undefined) {
    if (typeof input.amount !== 'number' || !Number.isFinite(input.amount))
      throw new HttpError(400, 'amount must be a number');
    out.amount = input.amount;
  }
  return out;
}

const DURATION_KEYS = [
  'sessionLifetimeMs',
  'longSessionLifetimeMs',
  'deviceLifetimeMs',
  'codeLifetimeMs',
  'lockoutMs',
  'resendCooldownMs',
] as const;

function validateSettings(input: unknown): Partial<SiteSettings> {
  if (!input || typeof input !== 'object') throw new HttpError(400, 'settings must be an object');
  const s = input as Record<string, unknown>;
  const out: Partial<SiteSettings> = {};
  for (const key of DURATION_KEYS) {
    const v = s[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new HttpError(400, `${key} must be a non-negative number`);
    out[key] = v;
  }
  if (s.lockoutThreshold !== undefined) {
    const v = s.lockoutThreshold;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw new HttpError(400, 'lockoutThreshold must be an integer >= 1');
    out.lockoutThreshold = v;
  }
  if (s.captcha !== undefined) {
    if (typeof s.captcha !== 'boolean') throw new HttpError(400, 'captcha must be a boolean');
    out.captcha = s.captcha;
  }
  return out;
}

function optionalLogin(ctx: Ctx): string | undefined {
  return ctx.query.get('login') ?? undefined;
}

async function body(ctx: Ctx): Promise<Record<string, unknown>> {
  const parsed = await ctx.json();
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new HttpError(400, 'body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** Wraps a control call so a bad request answers 400 with the reason, not 500. */
function guarded(fn: (ctx: Ctx) => void | Promise<void>): (ctx: Ctx) => Promise<void> {
  return async (ctx) => {
    try {
      await fn(ctx);
    } catch (err) {
      if (err instanceof HttpError) ctx.sendJson({ error: err.message }, err.status);
      else ctx.sendJson({ error: err instanceof Error ? err.message : 'failed' }, 400);
    }
  };
}

/** The JSON control API, on paths starting with `/_control` (relative to the site). */
export function controlRouter(control: SiteControl): Router {
  const r = new Router();
  const ok = (ctx: Ctx): void => ctx.sendJson({ ok: true });
  r.get(
    '/_control/state',
    guarded((ctx) =>
      ctx.sendJson({
        site: control.site,
        now: control.clock.now(),
        settings: control.settings(),
        users: control.users(),
      }),
    ),
  );
  r.post(
    '/_control/users',
    guarded(async (ctx) => {
      control.addUser((await body(ctx)) as unknown as SiteUser);
      ok(ctx);
    }),
  );
  r.delete(
    '/_control/users/:login',
    guarded((ctx) => ctx.sendJson({ removed: control.removeUser(ctx.params.login ?? '') })),
  );
  r.post(
    '/_control/settings',
    guarded(async (ctx) => ctx.sendJson(control.configure(await body(ctx)))),
  );
  r.post(
    '/_control/clock/advance',
    guarded(async (ctx) => {
      const { ms } = await body(ctx);
      if (typeof ms !== 'number') throw new HttpError(400, 'ms must be a number');
      control.advance(ms);
      ctx.sendJson({ now: control.clock.now() });
    }),
  );
  r.post(
    '/_control/clock/reset',
    guarded((ctx) => {
      control.clock.reset();
      ctx.sendJson({ now: control.clock.now() });
    }),
  );
  r.get(
    '/_control/clock',
    guarded((ctx) => ctx.sendJson({ now: control.clock.now() })),
  );
  r.post(
    '/_control/faults',
    guarded(async (ctx) => {
      control.injectFault(await body(ctx));
      ok(ctx);
    }),
  );
  r.delete(
    '/_control/faults',
    guarded((ctx) => {
      control.clearFaults();
      ok(ctx);
    }),
  );
  r.get(
    '/_control/outbox',
    guarded((ctx) => ctx.sendJson(control.outbox(optionalLogin(ctx)))),
  );
  r.get(
    '/_control/codes-sent',
    guarded((ctx) => {
      const login = optionalLogin(ctx);
      ctx.sendJson({ count: control.codesSent(login), lastCode: control.lastCode(login) ?? null });
    }),
  );
  r.get(
    '/_control/requests',
    guarded((ctx) => ctx.sendJson(control.requestCounts())),
  );
  r.get(
    '/_control/totp/:login',
    guarded((ctx) =>
      ctx.sendJson({
        code: control.currentTotp(ctx.params.login ?? ''),
        remainingMs: totpRemainingMs(control.clock.now()),
      }),
    ),
  );
  r.get(
    '/_control/documents/:login',
    guarded((ctx) => ctx.sendJson(control.documents(ctx.params.login ?? ''))),
  );
  r.post(
    '/_control/documents/:login',
    guarded(async (ctx) =>
      ctx.sendJson(control.addDocument(ctx.params.login ?? '', validateDocument(await body(ctx))), 201),
    ),
  );
  r.post(
    '/_control/sessions/expire',
    guarded((ctx) => {
      control.expireSessions(optionalLogin(ctx));
      ok(ctx);
    }),
  );
  r.post(
    '/_control/devices/forget',
    guarded((ctx) => {
      control.forgetDevices(optionalLogin(ctx));
      ok(ctx);
    }),
  );
  r.post(
    '/_control/reset',
    guarded((ctx) => {
      control.reset();
      ok(ctx);
    }),
  );
  return r;
}
