import { ERROR_CODES, type ErrorCode, type RunMode } from '@gleaner/contracts';

/**
 * What Home offers after an error:
 * - `reconnect`: a manual run now, with the person in front of the screen (a code may be asked);
 * - `update-credentials`: edit the login or password, then run;
 * - `fix-on-site`: do something on the website itself, then run again;
 * - `run-again`: nothing is wrong on the person's side, a new run may work;
 * - `wait`: the website is unavailable for now, scheduled runs will try again;
 * - `none`: nothing to do here.
 */
export type NextStep = 'reconnect' | 'update-credentials' | 'fix-on-site' | 'run-again' | 'wait' | 'none';

export interface ErrorMessage {
  /** The code this message was found under (the full code, its first segment, or UNKNOWN_ERROR). */
  code: ErrorCode;
  title: string;
  message: string;
  next: NextStep;
}

type Entry = Omit<ErrorMessage, 'code'>;

/** One human message for every code of the contracts; `satisfies` makes a new code a compile error here. */
export const ERROR_MESSAGES = {
  LOGIN_FAILED: {
    title: 'Sign-in refused',
    message: 'The website refused this login and password. Check them and save them again.',
    next: 'update-credentials',
  },
  'LOGIN_FAILED.NEEDS_SECRET': {
    title: 'A secret is missing',
    message: 'This website needs a secret that is not saved yet. Add it to the account’s credentials.',
    next: 'update-credentials',
  },
  'LOGIN_FAILED.TOO_MANY_ATTEMPTS': {
    title: 'Too many sign-in attempts',
    message: 'The website blocked sign-in for a while after too many attempts. Wait before trying again.',
    next: 'wait',
  },
  USER_ACTION_NEEDED: {
    title: 'Action needed on the website',
    message: 'The website asks you to do something before Gleaner can sign in. Sign in there yourself, then run again.',
    next: 'fix-on-site',
  },
  // A manual run: someone was asked and did not answer in time (a code or an approval).
  'USER_ACTION_NEEDED.TWOFA_EXPIRED': {
    title: 'No answer in time',
    message:
      'The sign-in waited for your verification and nothing came before the time ran out. Reconnect when you are ready to answer it.',
    next: 'reconnect',
  },
  'USER_ACTION_NEEDED.TWOFA_DENIED': {
    title: 'Sign-in denied in the app',
    message:
      'The sign-in was denied in the app. If you denied it by mistake, try again and approve it; if it was not you, change your password on the website.',
    next: 'reconnect',
  },
  'USER_ACTION_NEEDED.WRONG_TWOFA_CODE': {
    title: 'Verification code refused',
    message: 'The website did not accept the verification code. Reconnect and enter the newest code you received.',
    next: 'reconnect',
  },
  'USER_ACTION_NEEDED.SCA_REQUIRED': {
    title: 'Strong authentication required',
    message: 'The website requires you to confirm your identity again. Reconnect to do it now.',
    next: 'reconnect',
  },
  'USER_ACTION_NEEDED.CHANGE_PASSWORD': {
    title: 'Password change required',
    message: 'The website asks you to choose a new password. Change it on the website, then update it here.',
    next: 'update-credentials',
  },
  'USER_ACTION_NEEDED.CGU_FORM': {
    title: 'New terms to accept',
    message: 'The website has new terms of use. Sign in there to accept them, then run again.',
    next: 'fix-on-site',
  },
  'USER_ACTION_NEEDED.ACCOUNT_REMOVED': {
    title: 'Account closed',
    message: 'The website says this account no longer exists. You may delete it from Gleaner.',
    next: 'none',
  },
  'USER_ACTION_NEEDED.OAUTH_OUTDATED': {
    title: 'Access expired',
    message: 'The access you gave Gleaner to this website has expired. Reconnect to grant it again.',
    next: 'reconnect',
  },
  'USER_ACTION_NEEDED.CREDENTIALS_UNREADABLE': {
    title: 'Password unreadable',
    message: "Gleaner can no longer read this account's password: enter it again.",
    next: 'update-credentials',
  },
  CHALLENGE_ASKED: {
    title: 'Extra check requested',
    message: 'The website asked for an extra check that needs you. Run again while you are in front of the screen.',
    next: 'reconnect',
  },
  CAPTCHA_RESOLUTION_FAILED: {
    title: 'Captcha not solved',
    message: 'The website showed a captcha that could not be solved. Try again a bit later.',
    next: 'run-again',
  },
  VENDOR_DOWN: {
    title: 'Website unavailable',
    message:
      'The website is not answering right now. Nothing to do on your side: the next scheduled run will try again.',
    next: 'wait',
  },
  MAINTENANCE: {
    title: 'Website under maintenance',
    message: 'The website is under maintenance. The next scheduled run will try again.',
    next: 'wait',
  },
  NOT_EXISTING_DIRECTORY: {
    title: 'Destination folder missing',
    message: 'The folder where this account’s files go no longer exists. Run again to create it.',
    next: 'run-again',
  },
  FILE_DOWNLOAD_FAILED: {
    title: 'A download failed',
    message: 'Some documents could not be downloaded from the website. Run again to retry them.',
    next: 'run-again',
  },
  SAVE_FILE_FAILED: {
    title: 'A file could not be saved',
    message:
      'A document was downloaded but could not be saved. Run again; if it keeps happening, check the server’s disk.',
    next: 'run-again',
  },
  DISK_QUOTA_EXCEEDED: {
    title: 'Storage full',
    message: 'There is no room left for new files. Free some space, then run again.',
    next: 'run-again',
  },
  MEMORY_LIMIT_EXCEEDED: {
    title: 'The run used too much memory',
    message: 'The run was stopped at its memory limit. Run again; if it keeps happening, tell the konnector’s author.',
    next: 'run-again',
  },
  SANDBOX_UNAVAILABLE: {
    title: 'This konnector cannot run here yet',
    message:
      'This server has no sandbox (bubblewrap) to run installed konnectors safely. Ask its operator to install it.',
    next: 'none',
  },
  UNKNOWN_ERROR: {
    title: 'Something went wrong',
    message: 'The run stopped on an unexpected error. Run again; the run’s log has the details.',
    next: 'run-again',
  },
  'UNKNOWN_ERROR.PARTIAL_SYNC': {
    title: 'Partly imported',
    message: 'Some documents were imported, but not all of them. Run again to fetch the rest.',
    next: 'run-again',
  },
  TWOFA_BUDGET_EXCEEDED: {
    title: 'No more codes for now',
    message:
      'This website was asked for codes too often lately. Gleaner waits before asking for another, so that the site does not lock the account. Try again later; the run’s log says when.',
    next: 'wait',
  },
  JOB_TIMEOUT: {
    title: 'The run took too long',
    message: 'The run was stopped at its time limit. Run again; the website may have been slow.',
    next: 'run-again',
  },
  JOB_CANCELLED: {
    title: 'Cancelled',
    message: 'You cancelled this run before it finished; nothing is wrong. Run again when you are ready.',
    next: 'run-again',
  },
  JOB_INTERRUPTED: {
    title: 'Run interrupted',
    message: 'The server stopped while this run was going on. Run again to finish it.',
    next: 'run-again',
  },
} as const satisfies Record<ErrorCode, Entry>;

/**
 * Where a code means something else when nobody was there: a background run never asks anyone, so
 * its TWOFA_EXPIRED (the SDK's "a person is needed" in a scheduled run) claims no code was asked.
 */
export const BACKGROUND_MESSAGES = {
  'USER_ACTION_NEEDED.TWOFA_EXPIRED': {
    title: 'Sign in again to renew the session',
    message:
      'The website’s saved session has ended, and a scheduled run cannot sign in alone: the website wants a second step from you. Reconnect while you are at the screen to renew it.',
    next: 'reconnect',
  },
} as const satisfies Partial<Record<ErrorCode, Entry>>;

const table: Record<string, Entry> = ERROR_MESSAGES;
const backgroundTable: Record<string, Entry> = BACKGROUND_MESSAGES;

/**
 * The human message for an error code: by full code, then its first segment, then UNKNOWN_ERROR.
 * `mode` is the run's (a job's `mode`): a background run's end is told as what it was.
 */
export function errorMessage(code: string | null | undefined, mode?: RunMode): ErrorMessage {
  const raw = code ?? '';
  const background = mode === 'background' ? backgroundTable[raw] : undefined;
  if (background) return { code: raw as ErrorCode, ...background };
  const full = table[raw];
  if (full) return { code: raw as ErrorCode, ...full };
  const head = raw.split('.')[0] ?? '';
  const byHead = table[head];
  if (byHead) return { code: head as ErrorCode, ...byHead };
  return { code: 'UNKNOWN_ERROR', ...ERROR_MESSAGES.UNKNOWN_ERROR };
}

/** The label of the button that carries out a next step, or null when there is no button. */
export function nextStepLabel(next: NextStep): string | null {
  switch (next) {
    case 'reconnect':
      return 'Reconnect';
    case 'update-credentials':
      return 'Update credentials';
    case 'fix-on-site':
    case 'run-again':
      return 'Run again';
    case 'wait':
    case 'none':
      return null;
  }
}

/** Every code Home knows (for tests and the docs). */
export const KNOWN_CODES: readonly ErrorCode[] = ERROR_CODES;
