import { esc, maskEmail, Router, stableHash, type Ctx } from './http-kit.js';
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

/** octocat's authenticator secret on the GitHub-like site (fake account, public on purpose). */
export const GITHUB_OCTOCAT_TOTP_SECRET = 'MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U';

/** The GitHub-like site's default users: one with an authenticator app, one with device verification by e-mail. */
export const GITHUB_USERS = {
  octocat: {
    login: 'octocat',
    password: 'octocat-password',
    name: 'The Octocat',
    email: 'octocat@example.test',
    twoFactor: 'totp',
    totpSecret: GITHUB_OCTOCAT_TOTP_SECRET,
  },
  monalisa: {
    login: 'monalisa',
    password: 'monalisa-password',
    name: 'Mona Lisa',
    email: 'monalisa@example.test',
    twoFactor: 'none',
  },
} as const satisfies Record<string, SiteUser>;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export const GITHUB_DEFAULT_SETTINGS: SiteSettings = {
  sessionLifetimeMs: 14 * DAY,
  longSessionLifetimeMs: 14 * DAY,
  deviceLifetimeMs: 365 * DAY,
  codeLifetimeMs: 15 * MINUTE,
  lockoutThreshold: 5,
  lockoutMs: 60 * MINUTE,
  captcha: false,
};

const SESSION_COOKIE = 'user_session';
const DEVICE_COOKIE = '_device_id';
const LOGGED_IN_COOKIE = 'logged_in';

function receipt(user: SiteUser, n: number): SiteDocument {
  const date = new Date(Date.UTC(2024, n - 1, 5)).toISOString().slice(0, 10);
  const copilot = stableHash(`${user.login}:${n}`) % 3 === 0;
  return {
    id: String(40_000_000 + (stableHash(user.login) % 100_000) * 100 + n),
    date,
    amount: copilot ? 14 : 4,
    currency: 'USD',
    label: copilot ? 'GitHub Pro + Copilot' : 'GitHub Pro',
  };
}

function layout(ctx: Ctx, page: string, title: string, body: string, login?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · GitHub (fake)</title>
${login ? `<meta name="user-login" content="${esc(login)}">` : ''}
<style>body{font-family:-apple-system,system-ui,sans-serif;background:#f6f8fa;margin:0}header{background:#24292f;color:#fff;padding:1rem}
header a{color:#fff;text-decoration:none;font-weight:600}main{max-width:40rem;margin:2rem auto;background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:1rem 2rem}
.flash-error{background:#ffebe9;border:1px solid #ff818266;padding:.75rem;border-radius:6px}label{display:block;margin:.6rem 0}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem;border-bottom:1px solid #d0d7de;text-align:left}</style></head>
<body data-page="${page}"><header><a href="${esc(ctx.url('/'))}">GitHub (fake, for tests)</a></header><main>
<h1>${esc(title)}</h1>${body}</main></body></html>`;
}

function flash(error: string | undefined, marker: string): string {
  return error
    ? `<div class="flash flash-full flash-error" data-error="${marker}" role="alert">${esc(error)}</div>`
    : '';
}

/** Builds the GitHub-like site (not started); see `startGithubSite`. */
export function createGithubSite(opts: StartSiteOptions = {}): SiteApp {
  const { clock, outbox } = siteParts(opts);
  const state = new SiteState({
    site: 'github',
    clock,
    outbox,
    defaultUsers: () => Object.values(GITHUB_USERS).map((u) => ({ ...u })),
    defaultSettings: GITHUB_DEFAULT_SETTINGS,
    visitorCookie: '_gh_sess',
    documentsFor: (user) => Array.from({ length: 12 }, (_, i) => receipt(user, i + 1)),
    nextDocument: (user, existing) => receipt(user, existing.length + 1),
  });
  const r = new Router();
  const token = (ctx: Ctx): string =>
    `<input type="hidden" name="authenticity_token" value="${esc(state.csrfFor(ctx))}">`;

  const loginPage = (ctx: Ctx, error?: string, returnTo?: string | null): string =>
    layout(
      ctx,
      'login',
      'Sign in to GitHub',
      `${flash(error, 'bad-credentials')}
<form id="login" action="${esc(ctx.url('/session'))}" accept-charset="UTF-8" method="post">${token(ctx)}
${returnTo ? `<input type="hidden" name="return_to" value="${esc(returnTo)}">` : ''}
<label for="login_field">Username or email address</label><input type="text" name="login" id="login_field" autocomplete="username" autofocus>
<label for="password">Password</label><input type="password" name="password" id="password" autocomplete="current-password">
<input type="submit" name="commit" value="Sign in"></form>`,
    );

  const lockedPage = (ctx: Ctx): string =>
    layout(
      ctx,
      'locked',
      'Too many attempts',
      `<div class="flash flash-full flash-error" data-error="locked" role="alert">Too many attempts. Try again later.</div>
<p><a href="${esc(ctx.url('/login'))}">Back to sign in</a></p>`,
    );

  const appPage = (ctx: Ctx, login: string, error?: string): string =>
    layout(
      ctx,
      'two-factor-app',
      'Two-factor authentication',
      `${flash(error, 'wrong-code')}
<form id="two-factor-form" action="${esc(ctx.url('/sessions/two-factor'))}" accept-charset="UTF-8" method="post">${token(ctx)}
<label for="app_totp">Authentication code</label>
<input type="text" name="app_otp" id="app_totp" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6">
<p class="note" data-attempts-left="${state.attemptsLeft(login)}">Open your two-factor authenticator (TOTP) app or browser extension to view your authentication code.
You have ${state.attemptsLeft(login)} attempts left before sign-in is locked.</p>
<button type="submit">Verify</button></form>`,
    );

  const devicePage = (ctx: Ctx, pending: Pending, error?: string): string => {
    const email = state.requireAccount(pending.login).user.email ?? '';
    const expiresIn = Math.max(0, Math.floor(((pending.codeExpiresAt ?? 0) - state.now()) / 1000));
    const resendIn = Math.ceil(state.resendWaitMs(pending) / 1000);
    const attemptsLeft = state.attemptsLeft(pending.login);
    return layout(
      ctx,
      'verified-device',
      'Device verification',
      `${flash(error, error?.includes('expired') ? 'expired-code' : error?.includes('new code in') ? 'resend-too-soon' : 'wrong-code')}
<p class="device-verification-note" data-destination="${esc(maskEmail(email))}" data-code-expires-in="${expiresIn}" data-attempts-left="${attemptsLeft}">We just sent your authentication code via email to ${esc(maskEmail(email))}.
The code will expire in ${Math.round(state.settings.codeLifetimeMs / MINUTE)} minutes. You have ${attemptsLeft} attempts left.</p>
<form id="device-verification-form" action="${esc(ctx.url('/sessions/verified-device'))}" accept-charset="UTF-8" method="post">${token(ctx)}
<label for="otp">Device Verification Code</label>
<input type="text" name="otp" id="otp" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6">
<button type="submit">Verify</button></form>
<form id="device-verification-resend" action="${esc(ctx.url('/sessions/verified-device/resend'))}" method="post" data-resend-wait-seconds="${resendIn}">${token(ctx)}<button type="submit">Re-send the authentication code</button></form>
<p class="resend-wait">${resendIn > 0 ? `You can ask for a new code in ${resendIn} seconds.` : 'You can ask for a new code now.'}</p>`,
    );
  };

  const signedIn = (ctx: Ctx): string | undefined => state.sessionLogin(ctx, SESSION_COOKIE);
  const requireLogin = (ctx: Ctx): string | undefined => {
    const login = signedIn(ctx);
    if (!login) {
      ctx.setCookie(LOGGED_IN_COOKIE, 'no', { httpOnly: false });
      ctx.redirect(`/login?return_to=${encodeURIComponent(ctx.fullPath)}`);
    }
    return login;
  };
  const finishLogin = (ctx: Ctx, login: string, returnTo: string | undefined): void => {
    state.clearPending(ctx);
    state.createSession(ctx, SESSION_COOKIE, login);
    ctx.setCookie(LOGGED_IN_COOKIE, 'yes', { httpOnly: false, maxAgeMs: state.settings.sessionLifetimeMs });
    ctx.redirectRaw(ctx.safeReturnTo(returnTo, '/'), 302);
  };

  r.get('/', (ctx) => {
    const login = requireLogin(ctx);
    if (!login) return;
    const user = state.requireAccount(login).user;
    ctx.html(
      layout(
        ctx,
        'dashboard',
        'Dashboard',
        `<p class="signed-in">Signed in as <strong class="css-truncate-target">${esc(user.login)}</strong></p>
<p><a href="${esc(ctx.url('/settings/billing/payment_history'))}">Payment history</a></p>
<form id="logout-form" action="${esc(ctx.url('/logout'))}" method="post">${token(ctx)}<button type="submit">Sign out</button></form>`,
        user.login,
      ),
    );
  });

  r.get('/login', (ctx) => {
    if (signedIn(ctx)) {
      ctx.redirectRaw(ctx.safeReturnTo(ctx.query.get('return_to'), '/'));
      return;
    }
    ctx.html(loginPage(ctx, undefined, ctx.query.get('return_to')));
  });

  r.post('/session', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('authenticity_token'))) return;
    const login = form.get('login') ?? '';
    const returnTo = form.get('return_to') ?? undefined;
    const account = state.authenticate(login, form.get('password') ?? '');
    if (!account) {
      ctx.html(loginPage(ctx, 'Incorrect username or password.', returnTo));
      return;
    }
    if (state.isLocked(login)) {
      ctx.html(lockedPage(ctx));
      return;
    }
    const pending: Pending = { login, stage: 'app', ...(returnTo ? { returnTo } : {}) };
    if (account.user.twoFactor === 'totp') {
      state.setPending(ctx, pending);
      ctx.redirect('/sessions/two-factor/app');
      return;
    }
    if (state.knownDevice(ctx, DEVICE_COOKIE, login)) {
      finishLogin(ctx, login, returnTo);
      return;
    }
    pending.stage = 'device';
    state.sendCode(pending, 'email');
    state.setPending(ctx, pending);
    ctx.redirect('/sessions/verified-device');
  });

  r.get('/sessions/two-factor/app', (ctx) => {
    const pending = state.pendingFor(ctx);
    if (!pending || pending.stage !== 'app') {
      ctx.redirect('/login');
      return;
    }
    ctx.html(state.isLocked(pending.login) ? lockedPage(ctx) : appPage(ctx, pending.login));
  });

  r.post('/sessions/two-factor', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('authenticity_token'))) return;
    const pending = state.pendingFor(ctx);
    if (!pending || pending.stage !== 'app') {
      ctx.redirect('/login');
      return;
    }
    const result = state.checkTotp(pending.login, form.get('app_otp') ?? '');
    if (result === 'locked') ctx.html(lockedPage(ctx));
    else if (result !== 'ok') ctx.html(appPage(ctx, pending.login, 'Two-factor authentication failed.'));
    else {
      state.rememberDevice(ctx, DEVICE_COOKIE, pending.login);
      finishLogin(ctx, pending.login, pending.returnTo);
    }
  });

  r.get('/sessions/verified-device', (ctx) => {
    const pending = state.pendingFor(ctx);
    if (!pending || pending.stage !== 'device') {
      ctx.redirect('/login');
      return;
    }
    ctx.html(state.isLocked(pending.login) ? lockedPage(ctx) : devicePage(ctx, pending));
  });

  r.post('/sessions/verified-device', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('authenticity_token'))) return;
    const pending = state.pendingFor(ctx);
    if (!pending || pending.stage !== 'device') {
      ctx.redirect('/login');
      return;
    }
    const result = state.checkSentCode(pending, form.get('otp') ?? '');
    if (result === 'locked') ctx.html(lockedPage(ctx));
    else if (result === 'expired') {
      state.sendCode(pending, 'email');
      ctx.html(devicePage(ctx, pending, 'That code has expired. We sent you a new one.'));
    } else if (result === 'wrong') ctx.html(devicePage(ctx, pending, 'Incorrect verification code provided.'));
    else {
      state.rememberDevice(ctx, DEVICE_COOKIE, pending.login);
      finishLogin(ctx, pending.login, pending.returnTo);
    }
  });

  r.post('/sessions/verified-device/resend', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('authenticity_token'))) return;
    const pending = state.pendingFor(ctx);
    if (!pending || pending.stage !== 'device') {
      ctx.redirect('/login');
      return;
    }
    if (!state.resendCode(pending, 'email')) {
      const wait = Math.ceil(state.resendWaitMs(pending) / 1000);
      ctx.html(devicePage(ctx, pending, `You can ask for a new code in ${wait} seconds.`), 429);
      return;
    }
    ctx.redirect('/sessions/verified-device');
  });

  r.get('/settings/billing/payment_history', (ctx) => {
    const login = requireLogin(ctx);
    if (!login) return;
    const docs = [...state.requireAccount(login).documents].sort((a, b) => b.date.localeCompare(a.date));
    const rows = docs
      .map(
        (d) =>
          `<tr class="payment-history-row" data-receipt-id="${esc(d.id)}" data-date="${d.date}" data-amount="${d.amount.toFixed(2)}" data-currency="USD">` +
          `<td class="date"><time datetime="${d.date}">${d.date}</time></td><td class="id">${esc(d.id)}</td><td class="label">${esc(d.label)}</td>` +
          `<td class="amount">$${d.amount.toFixed(2)}</td><td><a class="receipt-link" href="${esc(ctx.url(`/account/receipts/${encodeURIComponent(d.id)}.pdf`))}">Download receipt</a></td></tr>`,
      )
      .join('\n');
    ctx.html(
      layout(
        ctx,
        'payment-history',
        'Payment history',
        `<table id="payment-history" class="payment-history"><thead><tr><th>Date</th><th>ID</th><th>For</th><th>Amount</th><th>Receipt</th></tr></thead>
<tbody>\n${rows}\n</tbody></table>`,
        login,
      ),
    );
  });

  r.get('/account/receipts/:id.pdf', (ctx) => {
    const login = requireLogin(ctx);
    if (!login) return;
    const account = state.requireAccount(login);
    const doc = account.documents.find((d) => d.id === ctx.params.id);
    if (!doc) {
      ctx.html(layout(ctx, 'not-found', 'Receipt not found', '<p>No such receipt.</p>'), 404);
      return;
    }
    ctx.pdf(
      renderPdf({
        title: `GitHub receipt #${doc.id}`,
        lines: [
          'Vendor: GitHub, Inc. (fake)',
          `Account: ${account.user.login}`,
          `Date: ${doc.date}`,
          `For: ${doc.label}`,
          `Amount: $${doc.amount.toFixed(2)} USD`,
        ],
      }),
      `github-receipt-${doc.id}.pdf`,
    );
  });

  r.post('/logout', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('authenticity_token'))) return;
    state.endSession(ctx, SESSION_COOKIE);
    ctx.setCookie(LOGGED_IN_COOKIE, 'no', { httpOnly: false });
    ctx.redirect('/login');
  });

  return createSiteApp(state, r);
}

/** Starts the GitHub-like site on 127.0.0.1 (a free port unless `port` is given). */
export function startGithubSite(opts: StartSiteOptions = {}): Promise<RunningSite> {
  return serveSite(createGithubSite(opts), opts);
}
