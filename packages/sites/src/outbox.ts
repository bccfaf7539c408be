import { createTransport, type Transporter } from 'nodemailer';
import type { SiteClock } from './clock.js';
import { esc, type Ctx } from './http-kit.js';
import { totpCode, totpRemainingMs } from './totp.js';

/** A code a site "sent": where it went, by which channel, and when (site clock). */
export interface OutboxMessage {
  to: string;
  channel: 'sms' | 'email';
  code: string;
  site: string;
  login: string;
  /** ISO 8601, site clock. */
  sentAt: string;
  text: string;
}

/** A sign-in waiting for the person to approve it in the site's app (a push notification). */
export interface ApprovalRequest {
  id: string;
  site: string;
  login: string;
  /** Where the notification went (the person's device), and what it says. */
  to: string;
  text: string;
  status: 'pending' | 'approved' | 'denied';
  /** ISO 8601, site clock. */
  sentAt: string;
}

export interface AuthenticatorEntry {
  site: string;
  login: string;
  secret: string;
}

export type OutboxFilter = { site?: string; login?: string };

function newestFirst<T extends { site: string; login: string }>(items: T[], filter: OutboxFilter): T[] {
  return items
    .filter(
      (item) =>
        (filter.site === undefined || item.site === filter.site) &&
        (filter.login === undefined || item.login === filter.login),
    )
    .reverse();
}

/**
 * The person's phone and mailbox for the demo and tests: every code a fake site
 * "sends" lands here, and nowhere else.
 */
export class Outbox {
  private readonly messages: OutboxMessage[] = [];
  private readonly authenticators = new Map<string, () => AuthenticatorEntry[]>();
  private readonly approvals: ApprovalRequest[] = [];
  private nextApproval = 1;

  readonly #mailer: Transporter | null;
  readonly #smtp: { host: string; port: number } | null;
  /** E-mails handed to the SMTP server, for tests to wait on (a failed one rejects). */
  readonly mailed: Promise<unknown>[] = [];

  /** With `smtp`, every e-mail a site sends also goes out through that SMTP server (to the person's real mailbox). */
  constructor(
    readonly clock: SiteClock,
    options: { smtp?: { host: string; port: number } } = {},
  ) {
    this.#smtp = options.smtp ?? null;
    this.#mailer = options.smtp
      ? createTransport({ host: options.smtp.host, port: options.smtp.port, secure: false, ignoreTLS: true })
      : null;
  }

  push(message: Omit<OutboxMessage, 'sentAt'>): OutboxMessage {
    const full = { ...message, sentAt: new Date(this.clock.now()).toISOString() };
    this.messages.push(full);
    if (this.#mailer && full.channel === 'email') {
      const sent = this.#mailer.sendMail({
        from: `"${siteName(full.site)}" <account-security-noreply@${full.site}.example.test>`,
        to: full.to,
        subject: `Your ${siteName(full.site)} verification code`,
        text: full.text,
      });
      sent.catch(() => undefined);
      this.mailed.push(sent);
    }
    return full;
  }

  /** Messages, newest first, optionally for one site and/or login. */
  list(filter: OutboxFilter = {}): OutboxMessage[] {
    return newestFirst(this.messages, filter);
  }

  clear(site?: string): void {
    if (site === undefined) {
      this.messages.length = 0;
      this.approvals.length = 0;
      return;
    }
    for (const list of [this.messages, this.approvals]) {
      for (let i = list.length - 1; i >= 0; i--) if (list[i]?.site === site) list.splice(i, 1);
    }
  }

  /** "Sends" a push notification asking the person to approve a sign-in; it waits on the outbox page. */
  requestApproval(request: Pick<ApprovalRequest, 'site' | 'login' | 'to' | 'text'>): ApprovalRequest {
    const full: ApprovalRequest = {
      ...request,
      id: `ap${this.nextApproval++}`,
      status: 'pending',
      sentAt: new Date(this.clock.now()).toISOString(),
    };
    this.approvals.push(full);
    return full;
  }

  approval(id: string): ApprovalRequest | undefined {
    return this.approvals.find((a) => a.id === id);
  }

  /** The person's answer on their device; false when there is no such pending request. */
  answerApproval(id: string, approve: boolean): boolean {
    const request = this.approval(id);
    if (!request || request.status !== 'pending') return false;
    request.status = approve ? 'approved' : 'denied';
    return true;
  }

  /** Approval requests, newest first, optionally for one site and/or login. */
  approvalRequests(filter: OutboxFilter = {}): ApprovalRequest[] {
    return newestFirst(this.approvals, filter);
  }

  /** Lets a site show its authenticator users' current codes on the outbox page. */
  registerAuthenticators(site: string, list: () => AuthenticatorEntry[]): void {
    this.authenticators.set(site, list);
  }

  authenticatorEntries(): AuthenticatorEntry[] {
    return [...this.authenticators.values()].flatMap((list) => list());
  }

  /**
   * Serves `/outbox` (HTML), `/outbox.json`, `/outbox/approvals.json`, and the person's answer to a
   * push: `POST /outbox/approvals/<id>/approve` or `/deny`. Returns false for other paths.
   */
  handle(ctx: Ctx): boolean {
    if (ctx.path === '/outbox.json') {
      ctx.sendJson(this.list());
      return true;
    }
    if (ctx.path === '/outbox/approvals.json') {
      ctx.sendJson(this.approvalRequests());
      return true;
    }
    const answer = /^\/outbox\/approvals\/([\w-]+)\/(approve|deny)$/.exec(ctx.path);
    if (answer && ctx.method === 'POST') {
      const done = this.answerApproval(answer[1] ?? '', answer[2] === 'approve');
      if (ctx.wantsJson()) ctx.sendJson({ ok: done }, done ? 200 : 409);
      else ctx.redirectRaw(ctx.url('/outbox'), 303);
      return true;
    }
    if (ctx.path === '/outbox') {
      ctx.html(this.renderHtml());
      return true;
    }
    return false;
  }

  renderHtml(): string {
    const now = this.clock.now();
    const row = (m: OutboxMessage): string =>
      `<li class="message" data-channel="${m.channel}" data-site="${esc(m.site)}"><span class="when">${esc(m.sentAt)}</span> ` +
      `<span class="to">to ${esc(m.to)}</span> from <b>${esc(m.site)}</b>: ${esc(m.text)} <code class="code">${esc(m.code)}</code></li>`;
    const section = (title: string, list: OutboxMessage[]): string =>
      `<section><h2>${title}</h2>${list.length ? `<ul>${list.map(row).join('')}</ul>` : '<p class="empty">Nothing yet.</p>'}</section>`;
    const approvals = this.approvalRequests();
    const approvalRow = (a: ApprovalRequest): string =>
      `<li class="approval" data-site="${esc(a.site)}" data-login="${esc(a.login)}" data-status="${a.status}"><span class="when">${esc(a.sentAt)}</span> ` +
      `<span class="to">on ${esc(a.to)}</span> from <b>${esc(a.site)}</b>: ${esc(a.text)} ` +
      (a.status === 'pending'
        ? `<form method="post" action="/outbox/approvals/${esc(a.id)}/approve" style="display:inline"><button>Approve</button></form> ` +
          `<form method="post" action="/outbox/approvals/${esc(a.id)}/deny" style="display:inline"><button>Deny</button></form>`
        : `<b>${a.status}</b>`) +
      '</li>';
    const totp = this.authenticatorEntries();
    const seconds = Math.ceil(totpRemainingMs(now) / 1000);
    const totpRows = totp
      .map(
        (a) =>
          `<tr data-site="${esc(a.site)}" data-login="${esc(a.login)}"><td>${esc(a.site)}</td><td>${esc(a.login)}</td>` +
          `<td><code class="totp">${esc(totpCode(a.secret, now))}</code></td><td>${seconds} s</td></tr>`,
      )
      .join('');
    return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Outbox: fake phone and mailbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}code{font-size:1.2em;background:#eef;padding:0 .3em}
.note{background:#fff6d5;border:1px solid #e5c100;padding:.5rem 1rem}li{margin:.3rem 0}.when{color:#666;font-size:.85em}</style></head>
<body data-page="outbox"><h1>Outbox</h1>
<p class="note">This page stands in for a person's phone, mailbox and authenticator app. The fake sites never
send anything anywhere: the codes they "send" by SMS or e-mail appear here, newest first. Refreshes every 5 seconds.</p>
${
  this.#smtp
    ? `<p class="note" data-smtp>Their e-mails also go to the SMTP server at ${esc(`${this.#smtp.host}:${this.#smtp.port}`)} on this machine
(in the demo, its own mailbox, which a code source reads over IMAP).</p>`
    : ''
}
${section(
  'Phone (SMS)',
  this.list().filter((m) => m.channel === 'sms'),
)}
${section(
  'Mailbox (e-mail)',
  this.list().filter((m) => m.channel === 'email'),
)}
<section><h2>Phone (app notifications)</h2>
${approvals.length ? `<ul>${approvals.map(approvalRow).join('')}</ul>` : '<p class="empty">Nothing yet.</p>'}
</section>
<section><h2>Fake authenticator app</h2>
<p class="note">A fake authenticator, for the demo only: it computes the current TOTP code of each demo user whose
secret is public in the Gleaner source. Never do this with a real secret.</p>
${totp.length ? `<table><tr><th>site</th><th>login</th><th>code</th><th>changes in</th></tr>${totpRows}</table>` : '<p class="empty">No authenticator users.</p>'}
</section></body></html>`;
  }
}

const siteName = (site: string) => site.charAt(0).toUpperCase() + site.slice(1);
