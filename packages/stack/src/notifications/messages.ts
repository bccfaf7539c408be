import type { ErrorCode, NotificationPayload } from '@gleaner/contracts';
import type { NotificationCause } from '../storage/stores.js';

/** What a notification is about: the account, and what happened. */
export type NotificationSubject = {
  cause: NotificationCause;
  accountId: string;
  account: string;
  konnector: string;
  /** The job's error (needs_person, failed_nights). */
  error?: ErrorCode | null;
  /** How many background runs failed in a row (failed_nights). */
  nights?: number;
  /** When the session or remembered device lapses (session_lapses, device_lapses). */
  lapsesAt?: string;
};

/** Why a background run needed a person, in words (the job's error). */
export function whyInWords(error: ErrorCode | null | undefined): string {
  switch (error) {
    case 'USER_ACTION_NEEDED.TWOFA_EXPIRED':
      return 'the site asks for a code, and nobody can type one during a scheduled run';
    case 'USER_ACTION_NEEDED.TWOFA_DENIED':
      return 'the sign-in was refused in the provider’s app';
    case 'USER_ACTION_NEEDED.WRONG_TWOFA_CODE':
      return 'the site refused the code';
    case 'USER_ACTION_NEEDED.CREDENTIALS_UNREADABLE':
      return 'Gleaner can no longer read the saved password';
    case 'USER_ACTION_NEEDED.CHANGE_PASSWORD':
      return 'the site asks for a new password';
    case 'USER_ACTION_NEEDED.CGU_FORM':
      return 'the site asks to accept its new terms';
    case 'LOGIN_FAILED':
      return 'the site refused the login and password';
    case 'LOGIN_FAILED.TOO_MANY_ATTEMPTS':
      return 'the site blocked sign-in after too many attempts';
    default:
      return error ? `the run ended with ${error}` : 'the site needs you';
  }
}

const day = (iso: string): string =>
  new Date(iso).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

/**
 * The notification for a cause, with the link into Home (`homeUrl` + the account, `?action=reconnect`:
 * Home opens the account with Reconnect ready). Pure.
 */
export function composeNotification(
  subject: NotificationSubject,
  homeUrl: string | null,
  at: string,
): NotificationPayload {
  const where = `${subject.konnector} — ${subject.account}`;
  const link = homeUrl
    ? `${homeUrl.replace(/\/+$/, '')}/accounts/${encodeURIComponent(subject.accountId)}?action=reconnect`
    : null;
  const base = {
    event: subject.cause,
    accountId: subject.accountId,
    account: subject.account,
    konnector: subject.konnector,
    link,
    at,
  };
  switch (subject.cause) {
    case 'needs_person':
      return {
        ...base,
        title: `${where}: Gleaner needs you`,
        message: `A scheduled run stopped because ${whyInWords(subject.error)}. Open the account and press Reconnect to sign in again; scheduled runs are paused until then.`,
      };
    case 'code_unanswered':
      return {
        ...base,
        title: `${where}: a code was not typed in time`,
        message:
          'The site sent a code that nobody typed before it expired. Open the account and press Reconnect when you can read a new one.',
      };
    case 'failed_nights':
      return {
        ...base,
        title: `${where}: ${subject.nights ?? 'several'} failed runs in a row`,
        message: `The last ${subject.nights ?? 'few'} scheduled runs failed (the latest: ${whyInWords(subject.error)}). Open the account to see its log and run it again.`,
      };
    case 'session_lapses':
      return {
        ...base,
        title: `${where}: the saved session ends on ${subject.lapsesAt ? day(subject.lapsesAt) : 'soon'}`,
        message:
          'After that, the site asks for a code at the next sign-in, maybe at 3 a.m. with nobody there. Reconnect now to avoid it.',
      };
    case 'device_lapses':
      return {
        ...base,
        title: `${where}: this device is remembered until ${subject.lapsesAt ? day(subject.lapsesAt) : 'soon'}`,
        message:
          'After that, the site asks for a code again. Reconnect now, and tick "trust this device", to avoid a code at 3 a.m.',
      };
  }
}

/** The test button's message. */
export function testNotification(homeUrl: string | null, at: string): NotificationPayload {
  return {
    event: 'test',
    accountId: null,
    account: null,
    konnector: null,
    title: 'Gleaner: a test notification',
    message: 'This channel works: Gleaner will tell you here when an account needs you.',
    link: homeUrl,
    at,
  };
}
