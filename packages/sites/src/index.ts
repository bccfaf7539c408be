export { createClock, type SiteClock } from './clock.js';
export type { SiteControl } from './control.js';
export { Outbox, type ApprovalRequest, type OutboxMessage, type AuthenticatorEntry } from './outbox.js';
export { renderPdf, type PdfInvoice } from './pdf.js';
export { createSiteApp, serveSite, type RunningSite, type SiteApp, type StartSiteOptions } from './site-app.js';
export type { FaultSpec, SiteDocument, SiteSettings, SiteUser, TwoFactorMethod } from './site-state.js';
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
