export { createClock, type SiteClock } from './clock.js';
export type { SiteControl } from './control.js';
export { Outbox, type OutboxMessage, type AuthenticatorEntry } from './outbox.js';
export { renderPdf, type PdfInvoice } from './pdf.js';
export { type RunningSite, type SiteApp, type StartSiteOptions } from './site-app.js';
export type { FaultSpec, SiteDocument, SiteSettings, SiteUser, TwoFactorMethod } from './site-state.js';
export { createTestSite, startTestSite, TEST_SITE_DEFAULT_SETTINGS, TEST_SITE_TOTP_SECRET, TEST_SITE_USERS } from './test-site.js';
export { totpCode, totpRemainingMs } from './totp.js';
