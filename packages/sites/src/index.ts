export { createClock, type SiteClock } from './clock.js';
export type { SiteControl } from './control.js';
export { Outbox, type ApprovalRequest, type OutboxMessage, type AuthenticatorEntry } from './outbox.js';
export { renderPdf, type PdfInvoice } from './pdf.js';
export {
  createSiteApp,
  serveSite,
  siteParts,
  type RunningSite,
  type SiteApp,
  type SiteParts,
  type StartSiteOptions,
} from './site-app.js';
// The kit a fake site of your own is built with (docs/testing.md): users, sessions, CSRF, codes, routes.
export {
  SiteState,
  type CodeCheck,
  type FaultSpec,
  type Pending,
  type SiteDocument,
  type SiteSettings,
  type SiteStateOptions,
  type SiteUser,
  type TwoFactorMethod,
} from './site-state.js';
export { Ctx, esc, Router, type CookieOptions, type Handler } from './http-kit.js';
export { startSites, type RunningSites, type StartSitesOptions } from './server.js';
export {
  createTestSite,
  startTestSite,
  TEST_SITE_DEFAULT_SETTINGS,
  TEST_SITE_TOTP_SECRET,
  TEST_SITE_USERS,
} from './test-site.js';
export {
  createGithubSite,
  startGithubSite,
  GITHUB_DEFAULT_SETTINGS,
  GITHUB_OCTOCAT_TOTP_SECRET,
  GITHUB_USERS,
} from './github-site.js';
export {
  createAmazonSite,
  startAmazonSite,
  AMAZON_CAROL_TOTP_SECRET,
  AMAZON_DEFAULT_SETTINGS,
  AMAZON_ORDERS_PER_PAGE,
  AMAZON_USERS,
} from './amazon-site.js';
export { totpCode, totpRemainingMs } from './totp.js';
export {
  DEMO_MAILBOX_USERS,
  MailStore,
  startImapServer,
  startMailbox,
  startSmtpServer,
  type RunningImapServer,
  type RunningMailbox,
  type MailSink,
  type RunningSmtpServer,
  type StartMailboxOptions,
  type StoredMessage,
} from './mailbox/index.js';
