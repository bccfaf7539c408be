import { esc, maskEmail, maskPhone, Router, stableHash, type Ctx } from './http-kit.js';
import { renderPdf } from './pdf.js';
import {
  createSiteApp,
  serveSite,
  siteParts,
  type RunningSite,
  type SiteApp,
  type StartSiteOptions,
} from './site-app.js';
import { SiteState, type Pending, type SiteDocument, type SiteSettings, type SiteUser } from './site-state.js';

/** Carol's authenticator secret on the test site (public on purpose: it is a fake account). */
export const TEST_SITE_TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** The test site's default users: one per 2FA method. */
export const TEST_SITE_USERS = {
  alice: {
    login: 'alice',
    password: 'alice-password',
    name: 'Alice',
    phone: '+33 6 12 34 56 78',
    email: 'alice@example.test',
    twoFactor: 'sms',
  },
  bob: { login: 'bob', password: 'bob-password', name: 'Bob', email: 'bob@example.test', twoFactor: 'email' },
  carol: {
    login: 'carol',
    password: 'carol-password',
    name: 'Carol',
    email: 'carol@example.test',
    twoFactor: 'totp',
    totpSecret: TEST_SITE_TOTP_SECRET,
  },
  dave: { login: 'dave', password: 'dave-password', name: 'Dave', email: 'dave@example.test', twoFactor: 'none' },
} as const satisfies Record<string, SiteUser>;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export const TEST_SITE_DEFAULT_SETTINGS: SiteSettings = {
  sessionLifetimeMs: 60 * MINUTE,
  longSessionLifetimeMs: 60 * MINUTE,
  deviceLifetimeMs: 30 * DAY,
  codeLifetimeMs: 5 * MINUTE,
  lockoutThreshold: 3,
  lockoutMs: 15 * MINUTE,
  captcha: false,
};

const VENDOR = 'Test Site';
const SESSION_COOKIE = 'session';
const DEVICE_COOKIE = 'device';

function bill(user: SiteUser, n: number): SiteDocument {
  const date = new Date(Date.UTC(2024, n - 1, 15)).toISOString().slice(0, 10);
  const cents = 1000 + (stableHash(`${user.login}:${n}`) % 9000);
  return {
    id: `${user.login}-${String(n).padStart(4, '0')}`,
    date,
    amount: cents / 100,
    currency: 'EUR',
    label: `Monthly plan ${date.slice(0, 7)}`,
  };
}

function layout(ctx: Ctx, page: string, title: string, body: string, extra = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · ${VENDOR}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}.error{color:#b00020;font-weight:600}
label{display:block;margin:.5rem 0}table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd}</style></head>
<body data-page="${page}"${extra}><header><a href="${esc(ctx.url('/'))}">${VENDOR}</a></header><main>
<h1>${esc(title)}</h1>${body}</main></body></html>`;
}

function loginPage(ctx: Ctx, state: SiteState, error?: string): string {
  const returnTo = ctx.query.get('return_to');
  const form = `${error ? `<p class="error" data-error="bad-credentials">${esc(error)}</p>` : ''}
<form id="login-form" method="post" action="${esc(ctx.url('/login'))}">
<input type="hidden" name="_csrf" value="${esc(state.csrfFor(ctx))}">
${returnTo ? `<input type="hidden" name="return_to" value="${esc(returnTo)}">` : ''}
<label>Login <input name="login" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form>`;
  return layout(ctx, 'login', 'Sign in', form);
}

function twoFaPage(ctx: Ctx, state: SiteState, pending: Pending, error?: 'wrong-code' | 'expired-code'): string {
  const user = state.requireAccount(pending.login).user;
  const method = user.twoFactor;
  const where =
    method === 'sms'
      ? `We sent a 6-digit code by SMS to your phone ending in ${esc(maskPhone(user.phone ?? ''))}.`
      : method === 'email'
        ? `We sent a 6-digit code by e-mail to ${esc(maskEmail(user.email ?? ''))}.`
        : 'Enter the 6-digit code from your authenticator app.';
  const message =
    error === 'wrong-code'
      ? '<p class="error" data-error="wrong-code">Wrong code, try again.</p>'
      : error === 'expired-code'
        ? '<p class="error" data-error="expired-code">This code has expired. We sent you a new one.</p>'
        : '';
  const resend =
    method === 'totp'
      ? ''
      : `<form id="resend-form" method="post" action="${esc(ctx.url('/2fa/resend'))}"><input type="hidden" name="_csrf" value="${esc(state.csrfFor(ctx))}"><button type="submit">Send a new code</button></form>`;
  const body = `${message}<p class="twofa-instructions">${where}</p>
<form id="twofa-form" data-twofa-method="${method}" method="post" action="${esc(ctx.url('/2fa'))}">
<input type="hidden" name="_csrf" value="${esc(state.csrfFor(ctx))}">
<label>Code <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required></label>
<label><input type="checkbox" name="remember" value="on"> Remember this device</label>
<button type="submit">Verify</button></form>${resend}`;
  return layout(ctx, 'twofa', 'Two-factor authentication', body, ` data-twofa-method="${method}"`);
}

function lockedPage(ctx: Ctx): string {
  return layout(
    ctx,
    'locked',
    'Account locked',
    `<p class="error" data-error="locked">Too many attempts. Try again later.</p><p><a href="${esc(ctx.url('/login'))}">Back to sign in</a></p>`,
  );
}

/** Builds the small generic 2FA site (not started); see `startTestSite`. */
export function createTestSite(opts: StartSiteOptions = {}): SiteApp {
  const { clock, outbox } = siteParts(opts);
  const state = new SiteState({
    site: 'test',
    clock,
    outbox,
    defaultUsers: () => Object.values(TEST_SITE_USERS).map((u) => ({ ...u })),
    defaultSettings: TEST_SITE_DEFAULT_SETTINGS,
    visitorCookie: 'sid',
    documentsFor: (user) => [1, 2, 3, 4, 5].map((n) => bill(user, n)),
    nextDocument: (user, existing) => bill(user, existing.length + 1),
  });
  const r = new Router();

  const signedIn = (ctx: Ctx): string | undefined => state.sessionLogin(ctx, SESSION_COOKIE);
  const requireLogin = (ctx: Ctx): string | undefined => {
    const login = signedIn(ctx);
    if (!login) ctx.redirect(`/login?return_to=${encodeURIComponent(ctx.fullPath)}`);
    return login;
  };
  const finishLogin = (ctx: Ctx, login: string, returnTo: string | undefined): void => {
    state.clearPending(ctx);
    state.createSession(ctx, SESSION_COOKIE, login);
    ctx.redirectRaw(ctx.safeReturnTo(returnTo, '/account'), 303);
  };

  r.get('/', (ctx) => ctx.redirect(signedIn(ctx) ? '/account' : '/login'));

  r.get('/login', (ctx) => ctx.html(loginPage(ctx, state)));

  r.post('/login', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('_csrf'))) return;
    const login = form.get('login') ?? '';
    const account = state.authenticate(login, form.get('password') ?? '');
    if (!account) {
      ctx.html(loginPage(ctx, state, 'Invalid login or password.'));
      return;
    }
    if (state.isLocked(login)) {
      ctx.html(lockedPage(ctx));
      return;
    }
    const returnTo = form.get('return_to') ?? undefined;
    const method = account.user.twoFactor;
    if (method === 'none' || state.knownDevice(ctx, DEVICE_COOKIE, login)) {
      finishLogin(ctx, login, returnTo);
      return;
    }
    const pending: Pending = { login, stage: 'twofa', ...(returnTo ? { returnTo } : {}) };
    if (method === 'sms' || method === 'email') state.sendCode(pending, method);
    state.setPending(ctx, pending);
    ctx.redirect('/2fa', 303);
  });

  r.get('/2fa', (ctx) => {
    const pending = state.pendingFor(ctx);
    if (!pending) {
      ctx.redirect('/login');
      return;
    }
    ctx.html(state.isLocked(pending.login) ? lockedPage(ctx) : twoFaPage(ctx, state, pending));
  });

  r.post('/2fa', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('_csrf'))) return;
    const pending = state.pendingFor(ctx);
    if (!pending) {
      ctx.redirect('/login', 303);
      return;
    }
    const code = form.get('code') ?? '';
    const user = state.requireAccount(pending.login).user;
    const result =
      user.twoFactor === 'totp' ? state.checkTotp(pending.login, code) : state.checkSentCode(pending, code);
    if (result === 'locked') {
      ctx.html(lockedPage(ctx));
      return;
    }
    if (result === 'expired') {
      state.sendCode(pending, pending.channel ?? 'sms');
      ctx.html(twoFaPage(ctx, state, pending, 'expired-code'));
      return;
    }
    if (result === 'wrong') {
      ctx.html(twoFaPage(ctx, state, pending, 'wrong-code'));
      return;
    }
    if (form.get('remember')) state.rememberDevice(ctx, DEVICE_COOKIE, pending.login);
    finishLogin(ctx, pending.login, pending.returnTo);
  });

  r.post('/2fa/resend', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('_csrf'))) return;
    const pending = state.pendingFor(ctx);
    const method = pending ? state.requireAccount(pending.login).user.twoFactor : 'none';
    if (!pending || (method !== 'sms' && method !== 'email')) {
      ctx.redirect('/login', 303);
      return;
    }
    state.sendCode(pending, method);
    ctx.redirect('/2fa', 303);
  });

  r.get('/account', (ctx) => {
    const login = requireLogin(ctx);
    if (!login) return;
    const user = state.requireAccount(login).user;
    if (ctx.wantsJson()) {
      ctx.sendJson({ login: user.login, name: user.name ?? user.login, email: user.email ?? null });
      return;
    }
    ctx.html(
      layout(
        ctx,
        'account',
        'Your account',
        `<p id="account" data-login="${esc(user.login)}">Signed in as <b>${esc(user.name ?? user.login)}</b>.</p>
<p><a href="${esc(ctx.url('/bills'))}">Your bills</a></p>
<form method="post" action="${esc(ctx.url('/logout'))}"><input type="hidden" name="_csrf" value="${esc(state.csrfFor(ctx))}"><button>Sign out</button></form>`,
      ),
    );
  });

  r.get('/bills', (ctx) => {
    const login = requireLogin(ctx);
    if (!login) return;
    const docs = [...state.requireAccount(login).documents].sort((a, b) => b.date.localeCompare(a.date));
    if (ctx.wantsJson()) {
      ctx.sendJson(docs.map((d) => ({ ...d, url: ctx.url(`/bills/${d.id}.pdf`) })));
      return;
    }
    const rows = docs
      .map(
        (d) =>
          `<tr class="bill" data-id="${esc(d.id)}" data-date="${d.date}" data-amount="${d.amount.toFixed(2)}" data-currency="${d.currency}">` +
          `<td class="id">${esc(d.id)}</td><td class="date">${d.date}</td><td class="amount">${d.amount.toFixed(2)} ${d.currency}</td>` +
          `<td><a class="bill-pdf" href="${esc(ctx.url(`/bills/${encodeURIComponent(d.id)}.pdf`))}">PDF</a></td></tr>`,
      )
      .join('\n');
    ctx.html(
      layout(
        ctx,
        'bills',
        'Your bills',
        `<table id="bills"><thead><tr><th>Bill</th><th>Date</th><th>Amount</th><th></th></tr></thead><tbody>\n${rows}\n</tbody></table>`,
      ),
    );
  });

  r.get('/bills/:id.pdf', (ctx) => {
    const login = requireLogin(ctx);
    if (!login) return;
    const account = state.requireAccount(login);
    const doc = account.documents.find((d) => d.id === ctx.params.id);
    if (!doc) {
      ctx.html(layout(ctx, 'not-found', 'Bill not found', '<p>No such bill.</p>'), 404);
      return;
    }
    const pdf = renderPdf({
      title: `${VENDOR} - Bill ${doc.id}`,
      lines: [
        `Vendor: ${VENDOR}`,
        `Customer: ${account.user.name ?? login}`,
        `Date: ${doc.date}`,
        `Amount: ${doc.amount.toFixed(2)} ${doc.currency}`,
        doc.label,
      ],
    });
    ctx.pdf(pdf, `${doc.id}.pdf`);
  });

  r.post('/logout', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('_csrf'))) return;
    state.endSession(ctx, SESSION_COOKIE);
    ctx.redirect('/login', 303);
  });

  return createSiteApp(state, r);
}

/** Starts the small generic 2FA site on 127.0.0.1 (a free port unless `port` is given). */
export function startTestSite(opts: StartSiteOptions = {}): Promise<RunningSite> {
  return serveSite(createTestSite(opts), opts);
}
