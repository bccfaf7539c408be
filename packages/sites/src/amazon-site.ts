import { randomInt } from 'node:crypto';
import {
  esc,
  maskEmail,
  maskPhone,
  maskPhoneNumber,
  randomToken,
  Router,
  safeEqual,
  stableHash,
  type Ctx,
} from './http-kit.js';
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

/** carol's authenticator secret on the Amazon-like site (fake account, public on purpose). */
export const AMAZON_CAROL_TOTP_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** The Amazon-like site's default users (the login is the e-mail address). */
export const AMAZON_USERS = {
  alice: {
    login: 'alice@example.test',
    password: 'alice-amazon-password',
    name: 'Alice',
    email: 'alice@example.test',
    phone: '+33 6 12 34 56 78',
    twoFactor: 'sms',
  },
  bob: {
    login: 'bob@example.test',
    password: 'bob-amazon-password',
    name: 'Bob',
    email: 'bob@example.test',
    phone: '+33 7 98 76 54 32',
    twoFactor: 'email',
  },
  carol: {
    login: 'carol@example.test',
    password: 'carol-amazon-password',
    name: 'Carol',
    email: 'carol@example.test',
    twoFactor: 'totp',
    totpSecret: AMAZON_CAROL_TOTP_SECRET,
  },
  dave: {
    login: 'dave@example.test',
    password: 'dave-amazon-password',
    name: 'Dave',
    email: 'dave@example.test',
    twoFactor: 'none',
  },
  frank: {
    login: 'frank@example.test',
    password: 'frank-amazon-password',
    name: 'Frank',
    email: 'frank@example.test',
    twoFactor: 'push',
  },
  erin: {
    login: 'erin@example.test',
    password: 'erin-amazon-password',
    name: 'Erin',
    email: 'erin@example.test',
    twoFactor: 'none',
    captcha: true,
  },
} as const satisfies Record<string, SiteUser>;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export const AMAZON_DEFAULT_SETTINGS: SiteSettings = {
  sessionLifetimeMs: 60 * MINUTE,
  longSessionLifetimeMs: 90 * DAY,
  deviceLifetimeMs: 365 * DAY,
  codeLifetimeMs: 10 * MINUTE,
  lockoutThreshold: 5,
  lockoutMs: 60 * MINUTE,
  captcha: false,
};

export const AMAZON_ORDERS_PER_PAGE = 10;

const SESSION_COOKIE = 'at-main';
const DEVICE_COOKIE = 'x-amz-otp-device';
const ITEMS = [
  'USB-C cable',
  'Paperback novel',
  'Coffee beans 1 kg',
  'Desk lamp',
  'Headphones',
  'Notebook set',
  'Phone case',
  'Board game',
];
const CAPTCHA_LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';

function order(user: SiteUser, n: number): SiteDocument {
  const h = stableHash(`${user.login}:${n}`);
  const date = new Date(Date.UTC(2023, 0, 3) + n * 14 * DAY).toISOString().slice(0, 10);
  const mid = String(h % 10_000_000).padStart(7, '0');
  const last = String((stableHash(`${n}:${user.login}`) % 9_000_000) + 1_000_000);
  return {
    id: `405-${mid}-${last}`,
    date,
    amount: (500 + (h % 19_500)) / 100,
    currency: 'EUR',
    label: ITEMS[h % ITEMS.length] ?? 'Item',
  };
}

function captchaWord(): string {
  let word = '';
  for (let i = 0; i < 6; i++) word += CAPTCHA_LETTERS[randomInt(CAPTCHA_LETTERS.length)] ?? 'X';
  return word;
}

function layout(ctx: Ctx, page: string, title: string, body: string, greeting = 'Hello, sign in'): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Amazon (fake)</title>
<style>body{font-family:Arial,sans-serif;margin:0}header{background:#131921;color:#fff;padding:.8rem 1rem;display:flex;justify-content:space-between}
header a{color:#fff;text-decoration:none}main{max-width:44rem;margin:1.5rem auto;padding:0 1rem}.a-box{border:1px solid #ddd;border-radius:8px;padding:1rem 1.5rem}
#auth-error-message-box{border:1px solid #c40000;color:#c40000;padding:.7rem;border-radius:6px;margin-bottom:1rem}label{display:block;margin:.5rem 0}
.order{border:1px solid #ddd;border-radius:6px;padding:.6rem;margin:.5rem 0}.captcha-word{font-family:monospace;font-size:1.6em;letter-spacing:.3em}</style></head>
<body data-page="${page}"><header><a href="${esc(ctx.url('/'))}">amazon (fake, for tests)</a>
<span id="nav-link-accountList-nav-line-1">${esc(greeting)}</span></header><main><div class="a-box"><h1>${esc(title)}</h1>${body}</div></main></body></html>`;
}

function errorBox(message: string | undefined, marker: string): string {
  return message
    ? `<div id="auth-error-message-box" class="a-alert-error" data-error="${marker}" role="alert"><h4>There was a problem</h4><p>${esc(message)}</p></div>`
    : '';
}

/** Builds the Amazon-like site (not started); see `startAmazonSite`. */
export function createAmazonSite(opts: StartSiteOptions = {}): SiteApp {
  const { clock, outbox } = siteParts(opts);
  const state = new SiteState({
    site: 'amazon',
    clock,
    outbox,
    defaultUsers: () => Object.values(AMAZON_USERS).map((u) => ({ ...u })),
    defaultSettings: AMAZON_DEFAULT_SETTINGS,
    visitorCookie: 'session-id',
    documentsFor: (user) => Array.from({ length: 25 }, (_, i) => order(user, i + 1)),
    nextDocument: (user, existing) => order(user, existing.length + 1),
  });
  const r = new Router();
  // The real site carries its sign-in progress in hidden fields; here they also serve as the CSRF token.
  const hidden = (ctx: Ctx, pending?: Pending): string =>
    `<input type="hidden" name="appActionToken" value="${esc(state.csrfFor(ctx))}">` +
    `<input type="hidden" name="workflowState" value="${esc(pending?.workflow ?? '')}">`;
  type Flow = Pending;

  const emailPage = (ctx: Ctx, error?: string, email = '', returnTo = ctx.query.get('return_to')): string => {
    return layout(
      ctx,
      'signin-email',
      'Sign in',
      `${errorBox(error, 'unknown-email')}
<form name="signIn" id="ap_login_form" method="post" action="${esc(ctx.url('/ap/signin'))}" novalidate>${hidden(ctx)}
${returnTo ? `<input type="hidden" name="return_to" value="${esc(returnTo)}">` : ''}
<label for="ap_email">Email or mobile phone number</label><input type="email" id="ap_email" name="email" value="${esc(email)}" autocomplete="username">
<input type="submit" id="continue" value="Continue"></form>`,
    );
  };

  const passwordPage = (ctx: Ctx, flow: Flow, error?: string): string =>
    layout(
      ctx,
      'signin-password',
      'Sign in',
      `${errorBox(error, 'bad-credentials')}
<p class="a-row"><span id="auth-email-claim">${esc(flow.login)}</span></p>
<form name="signIn" id="ap_password_form" method="post" action="${esc(ctx.url('/ap/signin'))}" novalidate>${hidden(ctx, flow)}
<input type="hidden" name="email" value="${esc(flow.login)}">
<label for="ap_password">Password</label><input type="password" id="ap_password" name="password" autocomplete="current-password">
<label><input type="checkbox" name="rememberMe" value="true" id="auth-remember-me"> Keep me signed in</label>
<input type="submit" id="signInSubmit" value="Sign in"></form>`,
    );

  const captchaPage = (ctx: Ctx, flow: Flow, error?: string): string =>
    layout(
      ctx,
      'captcha',
      'Solve this puzzle to protect your account',
      `${errorBox(error, 'wrong-captcha')}
<form id="auth-captcha-form" method="post" action="${esc(ctx.url('/ap/signin'))}">${hidden(ctx, flow)}
<p>Type the word shown: <span id="auth-captcha-word" class="captcha-word">${esc(flow.captchaWord ?? '')}</span></p>
<label for="auth-captcha-guess">Type characters</label><input type="text" id="auth-captcha-guess" name="guess" autocomplete="off">
<input type="submit" value="Continue"></form>`,
    );

  const choosePage = (ctx: Ctx, flow: Flow): string => {
    const user = state.requireAccount(flow.login).user;
    const option = (value: 'sms' | 'email', label: string): string =>
      `<label><input type="radio" name="otpDeviceContext" value="${value}"${user.twoFactor === value ? ' checked' : ''}> ${esc(label)}</label>`;
    const options = [
      user.phone ? option('sms', `Text me at ${maskPhone(user.phone)}`) : '',
      user.email ? option('email', `Email me at ${maskEmail(user.email)}`) : '',
    ].join('\n');
    return layout(
      ctx,
      'otp-choose',
      'Two-Step Verification',
      `<p>For added security, please choose where to receive your One Time Password (OTP).</p>
<form id="auth-select-device-form" method="post" action="${esc(ctx.url('/ap/cvf/request'))}">${hidden(ctx, flow)}
${options}
<input type="submit" id="auth-send-code" value="Send OTP"></form>`,
    );
  };

  const mfaPage = (ctx: Ctx, flow: Flow, error?: string): string => {
    const user = state.requireAccount(flow.login).user;
    const channel = user.twoFactor === 'totp' ? 'totp' : (flow.channel ?? 'sms');
    const destination =
      channel === 'sms' ? maskPhoneNumber(user.phone ?? '') : channel === 'email' ? maskEmail(user.email ?? '') : '';
    const where =
      channel === 'totp'
        ? 'Enter the code from your authenticator app (the One Time Password it shows for this account).'
        : channel === 'sms'
          ? `A text with a One Time Password (OTP) has been sent to your phone number ending in ${esc(maskPhone(user.phone ?? '').slice(-2))}.`
          : `A One Time Password (OTP) has been sent to your email ${esc(maskEmail(user.email ?? ''))}.`;
    const attemptsLeft = state.attemptsLeft(flow.login);
    const expiresIn =
      channel === 'totp' ? null : Math.max(0, Math.floor(((flow.codeExpiresAt ?? 0) - state.now()) / 1000));
    const resendIn = Math.ceil(state.resendWaitMs(flow) / 1000);
    // Where else the code may go: both choices when the account has a phone and an e-mail address.
    const choices = [
      user.phone ? { value: 'sms', label: `Text me at ${maskPhoneNumber(user.phone)}` } : null,
      user.email ? { value: 'email', label: `Email me at ${maskEmail(user.email)}` } : null,
    ].filter((c): c is { value: string; label: string } => c !== null);
    const resend =
      channel === 'totp'
        ? ''
        : `<form id="auth-resend-code-form" method="post" action="${esc(ctx.url('/ap/mfa/resend'))}" data-resend-wait-seconds="${resendIn}">${hidden(ctx, flow)}
${choices.length > 1 ? choices.map((c) => `<label><input type="radio" name="otpDeviceContext" value="${c.value}"${c.value === channel ? ' checked' : ''}> ${esc(c.label)}</label>`).join('\n') : ''}
<input type="submit" value="Resend OTP"></form>
<p id="auth-resend-wait">${resendIn > 0 ? `You can ask for a new OTP in ${resendIn} seconds.` : 'You can ask for a new OTP now.'}</p>`;
    return layout(
      ctx,
      'mfa',
      'Two-Step Verification',
      `${errorBox(error, error?.includes('expired') ? 'expired-code' : error?.includes('new OTP in') ? 'resend-too-soon' : 'wrong-code')}
<p id="auth-mfa-instructions" data-otp-channel="${channel}"${destination ? ` data-otp-destination="${esc(destination)}"` : ''}${expiresIn === null ? '' : ` data-code-expires-in="${expiresIn}"`} data-attempts-left="${attemptsLeft}">${where}</p>
<p id="auth-mfa-details">${expiresIn === null ? '' : `The OTP expires in ${Math.round(expiresIn / 60)} minutes. `}You have ${attemptsLeft} attempts left before your account is locked.</p>
<form id="auth-mfa-form" method="post" action="${esc(ctx.url('/ap/mfa'))}">${hidden(ctx, flow)}
<label for="auth-mfa-otpcode">Enter OTP</label><input type="tel" id="auth-mfa-otpcode" name="otpCode" autocomplete="one-time-code" maxlength="6">
<label><input type="checkbox" id="auth-mfa-remember-device" name="rememberDevice" value="true"> Don't require OTP on this browser</label>
<input type="submit" id="auth-signin-button" value="Sign in"></form>${resend}`,
    );
  };

  const approvalPage = (ctx: Ctx, flow: Flow, error?: string): string =>
    layout(
      ctx,
      'approval',
      'Approve the notification',
      `${errorBox(error, 'denied')}
<p id="channelDetailsForApprovalNotification" data-approval-status-url="${esc(ctx.url('/ap/cvf/approval/poll'))}">Approve the notification sent to your device. Open the Amazon app on your phone and tap Approve.</p>
<form id="auth-approval-form" method="post" action="${esc(ctx.url('/ap/cvf/approval'))}">${hidden(ctx, flow)}
<label><input type="checkbox" name="rememberDevice" value="true"> Don't ask again on this browser</label>
<input type="submit" value="I approved it"></form>`,
    );

  const lockedPage = (ctx: Ctx): string =>
    layout(
      ctx,
      'locked',
      'Two-Step Verification',
      `<div id="auth-error-message-box" data-error="locked" role="alert"><h4>Too many attempts</h4><p>Too many attempts. Try again later.</p></div>
<p><a href="${esc(ctx.url('/ap/signin'))}">Back to sign in</a></p>`,
    );

  const signedIn = (ctx: Ctx): string | undefined => state.sessionLogin(ctx, SESSION_COOKIE);
  const requireLogin = (ctx: Ctx): string | undefined => {
    const login = signedIn(ctx);
    if (!login) ctx.redirect(`/ap/signin?return_to=${encodeURIComponent(ctx.fullPath)}`);
    return login;
  };
  const greeting = (login: string): string => `Hello, ${state.requireAccount(login).user.name ?? login}`;
  const finishLogin = (ctx: Ctx, flow: Flow): void => {
    state.clearPending(ctx);
    state.createSession(ctx, SESSION_COOKIE, flow.login, flow.rememberMe === true);
    ctx.redirectRaw(ctx.safeReturnTo(flow.returnTo, '/'), 302);
  };
  /** The flow in progress at `stage`, checked against the posted workflowState. */
  const flowAt = (ctx: Ctx, stage: string, workflow?: string | null): Flow | undefined => {
    const flow = state.pendingFor(ctx);
    if (!flow || flow.stage !== stage) return undefined;
    if (workflow !== undefined && !(flow.workflow && workflow && safeEqual(flow.workflow, workflow))) return undefined;
    return flow;
  };
  const needsCaptcha = (user: SiteUser): boolean => user.captcha === true || state.settings.captcha;

  r.get('/', (ctx) => {
    const login = signedIn(ctx);
    ctx.html(
      layout(
        ctx,
        'home',
        'Amazon (fake)',
        login
          ? `<p id="signed-in" data-login="${esc(login)}"><a href="${esc(ctx.url('/gp/css/order-history'))}">Your orders</a> · <a href="${esc(ctx.url('/gp/flex/sign-out.html'))}">Sign out</a></p>`
          : `<p><a id="nav-signin" href="${esc(ctx.url('/ap/signin'))}">Sign in</a></p>`,
        login ? greeting(login) : undefined,
      ),
    );
  });

  r.get('/ap/signin', (ctx) => {
    state.clearPending(ctx);
    ctx.html(emailPage(ctx));
  });

  r.post('/ap/signin', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('appActionToken'))) return;
    const workflow = form.get('workflowState');

    if (form.has('password')) {
      const flow = flowAt(ctx, 'password', workflow);
      if (!flow) {
        ctx.redirect('/ap/signin');
        return;
      }
      const account = state.authenticate(flow.login, form.get('password') ?? '');
      if (!account) {
        ctx.html(passwordPage(ctx, flow, 'Your password is incorrect'));
        return;
      }
      if (state.isLocked(flow.login)) {
        ctx.html(lockedPage(ctx));
        return;
      }
      flow.rememberMe = form.get('rememberMe') === 'true';
      const method = account.user.twoFactor;
      if (method === 'none' || state.knownDevice(ctx, DEVICE_COOKIE, flow.login)) finishLogin(ctx, flow);
      else if (method === 'totp') {
        flow.stage = 'code';
        ctx.redirect('/ap/mfa');
      } else if (method === 'push') {
        flow.stage = 'approval';
        state.sendPush(flow);
        ctx.redirect('/ap/cvf/approval');
      } else {
        flow.stage = 'choose';
        ctx.redirect('/ap/cvf/request');
      }
      return;
    }

    if (form.has('guess')) {
      const flow = flowAt(ctx, 'captcha', workflow);
      if (!flow) {
        ctx.redirect('/ap/signin');
        return;
      }
      if ((form.get('guess') ?? '').trim().toUpperCase() !== flow.captchaWord) {
        flow.captchaWord = captchaWord();
        ctx.html(captchaPage(ctx, flow, 'Enter the characters as they are shown in the puzzle.'));
        return;
      }
      flow.stage = 'password';
      delete flow.captchaWord;
      ctx.html(passwordPage(ctx, flow));
      return;
    }

    const email = (form.get('email') ?? '').trim();
    const account = state.account(email) ?? state.account(email.toLowerCase());
    if (!account) {
      ctx.html(emailPage(ctx, 'We cannot find an account with that email address', email, form.get('return_to')));
      return;
    }
    const returnTo = form.get('return_to') ?? undefined;
    const flow: Flow = {
      login: account.user.login,
      stage: 'password',
      workflow: randomToken(),
      ...(returnTo ? { returnTo } : {}),
    };
    state.setPending(ctx, flow);
    if (needsCaptcha(account.user)) {
      flow.stage = 'captcha';
      flow.captchaWord = captchaWord();
      ctx.html(captchaPage(ctx, flow));
      return;
    }
    ctx.html(passwordPage(ctx, flow));
  });

  r.get('/ap/cvf/request', (ctx) => {
    const flow = flowAt(ctx, 'choose');
    if (!flow) ctx.redirect('/ap/signin');
    else ctx.html(choosePage(ctx, flow));
  });

  r.post('/ap/cvf/request', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('appActionToken'))) return;
    const flow = flowAt(ctx, 'choose', form.get('workflowState'));
    if (!flow) {
      ctx.redirect('/ap/signin');
      return;
    }
    const user = state.requireAccount(flow.login).user;
    const choice = form.get('otpDeviceContext');
    if (!((choice === 'sms' && user.phone) || (choice === 'email' && user.email))) {
      ctx.html(choosePage(ctx, flow), 400);
      return;
    }
    state.sendCode(flow, choice);
    flow.stage = 'code';
    ctx.redirect('/ap/mfa');
  });

  r.get('/ap/cvf/approval', (ctx) => {
    const flow = flowAt(ctx, 'approval');
    if (!flow) ctx.redirect('/ap/signin');
    else ctx.html(approvalPage(ctx, flow));
  });

  // What the approval page's script polls: { status: pending | approved | denied | expired }.
  r.get('/ap/cvf/approval/poll', (ctx) => {
    const flow = flowAt(ctx, 'approval');
    ctx.sendJson({ status: flow ? state.pushStatus(flow) : 'expired' });
  });

  r.post('/ap/cvf/approval', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('appActionToken'))) return;
    const flow = flowAt(ctx, 'approval', form.get('workflowState'));
    if (!flow) {
      ctx.redirect('/ap/signin');
      return;
    }
    const status = state.pushStatus(flow);
    if (status === 'approved') {
      if (form.get('rememberDevice') === 'true') state.rememberDevice(ctx, DEVICE_COOKIE, flow.login);
      finishLogin(ctx, flow);
    } else if (status === 'pending') ctx.html(approvalPage(ctx, flow, 'The notification has not been approved yet.'));
    else {
      state.sendPush(flow);
      ctx.html(approvalPage(ctx, flow, `The notification was ${status}. We sent a new one.`));
    }
  });

  r.get('/ap/mfa', (ctx) => {
    const flow = flowAt(ctx, 'code');
    if (!flow) ctx.redirect('/ap/signin');
    else ctx.html(state.isLocked(flow.login) ? lockedPage(ctx) : mfaPage(ctx, flow));
  });

  r.post('/ap/mfa', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('appActionToken'))) return;
    const flow = flowAt(ctx, 'code', form.get('workflowState'));
    if (!flow) {
      ctx.redirect('/ap/signin');
      return;
    }
    const code = form.get('otpCode') ?? '';
    const totp = state.requireAccount(flow.login).user.twoFactor === 'totp';
    const result = totp ? state.checkTotp(flow.login, code) : state.checkSentCode(flow, code);
    if (result === 'locked') ctx.html(lockedPage(ctx));
    else if (result === 'expired') {
      state.sendCode(flow, flow.channel ?? 'sms');
      ctx.html(mfaPage(ctx, flow, 'The code you entered has expired. We sent you a new one.'));
    } else if (result === 'wrong')
      ctx.html(mfaPage(ctx, flow, 'The code you entered is not valid. Please check the code and try again.'));
    else {
      if (form.get('rememberDevice') === 'true') state.rememberDevice(ctx, DEVICE_COOKIE, flow.login);
      finishLogin(ctx, flow);
    }
  });

  r.post('/ap/mfa/resend', async (ctx) => {
    const form = await ctx.form();
    if (!state.checkCsrf(ctx, form.get('appActionToken'))) return;
    const flow = flowAt(ctx, 'code', form.get('workflowState'));
    if (!flow || !flow.channel) {
      ctx.redirect('/ap/signin');
      return;
    }
    const user = state.requireAccount(flow.login).user;
    const choice = form.get('otpDeviceContext') ?? flow.channel;
    if (!((choice === 'sms' && user.phone) || (choice === 'email' && user.email))) {
      ctx.html(mfaPage(ctx, flow, 'We cannot send an OTP there.'), 400);
      return;
    }
    if (!state.resendCode(flow, choice)) {
      const wait = Math.ceil(state.resendWaitMs(flow) / 1000);
      ctx.html(mfaPage(ctx, flow, `You can ask for a new OTP in ${wait} seconds.`), 429);
      return;
    }
    ctx.redirect('/ap/mfa');
  });

  r.get('/gp/css/order-history', (ctx) => {
    const login = requireLogin(ctx);
    if (!login) return;
    const orders = [...state.requireAccount(login).documents].sort(
      (a, b) => b.date.localeCompare(a.date) || b.id.localeCompare(a.id),
    );
    const totalPages = Math.max(1, Math.ceil(orders.length / AMAZON_ORDERS_PER_PAGE));
    const requested = Number.parseInt(ctx.query.get('page') ?? '1', 10);
    const page = Number.isFinite(requested) && requested >= 1 ? requested : 1;
    const slice = orders.slice((page - 1) * AMAZON_ORDERS_PER_PAGE, page * AMAZON_ORDERS_PER_PAGE);
    const link = (p: number): string => esc(ctx.url(`/gp/css/order-history?page=${p}`));
    const cards = slice
      .map(
        (o) =>
          `<div class="order" data-order-id="${esc(o.id)}" data-date="${o.date}" data-total="${o.amount.toFixed(2)}" data-currency="EUR">
<span class="order-date">Order placed ${o.date}</span> <span class="order-total">Total EUR ${o.amount.toFixed(2)}</span>
<span class="order-id">Order # ${esc(o.id)}</span> <span class="order-item">${esc(o.label)}</span>
<a class="invoice-link" href="${esc(ctx.url(`/gp/invoice/${encodeURIComponent(o.id)}.pdf`))}">Invoice</a></div>`,
      )
      .join('\n');
    const pagination = `<ul class="a-pagination">
${page > 1 ? `<li class="a-previous"><a href="${link(page - 1)}">Previous</a></li>` : '<li class="a-disabled a-previous">Previous</li>'}
${page < totalPages ? `<li class="a-last"><a href="${link(page + 1)}">Next</a></li>` : '<li class="a-disabled a-last">Next</li>'}
</ul>`;
    ctx.html(
      layout(
        ctx,
        'order-history',
        'Your Orders',
        `<div id="ordersContainer" data-current-page="${page}" data-total-pages="${totalPages}" data-total-orders="${orders.length}">
<p class="num-orders">${orders.length} orders placed</p>
${cards || '<p class="no-orders">No orders on this page.</p>'}
</div>${pagination}`,
        greeting(login),
      ),
    );
  });

  r.get('/gp/invoice/:id.pdf', (ctx) => {
    const login = requireLogin(ctx);
    if (!login) return;
    const account = state.requireAccount(login);
    const doc = account.documents.find((d) => d.id === ctx.params.id);
    if (!doc) {
      ctx.html(layout(ctx, 'not-found', 'Invoice not found', '<p>No such order.</p>'), 404);
      return;
    }
    ctx.pdf(
      renderPdf({
        title: `Invoice for order ${doc.id}`,
        lines: [
          'Vendor: Amazon EU S.a r.l. (fake)',
          `Customer: ${account.user.name ?? login}`,
          `Order date: ${doc.date}`,
          `Item: ${doc.label}`,
          `Total: ${doc.amount.toFixed(2)} EUR`,
        ],
      }),
      `amazon-invoice-${doc.id}.pdf`,
    );
  });

  r.get('/gp/flex/sign-out.html', (ctx) => {
    state.endSession(ctx, SESSION_COOKIE);
    ctx.redirect('/ap/signin');
  });

  return createSiteApp(state, r);
}

/** Starts the Amazon-like site on 127.0.0.1 (a free port unless `port` is given). */
export function startAmazonSite(opts: StartSiteOptions = {}): Promise<RunningSite> {
  return serveSite(createAmazonSite(opts), opts);
}
