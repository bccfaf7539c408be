/** The stable error codes a job can end with; Home translates each of them. */
export const ERROR_CODES = [
  'LOGIN_FAILED',
  'LOGIN_FAILED.NEEDS_SECRET',
  'LOGIN_FAILED.TOO_MANY_ATTEMPTS',
  'USER_ACTION_NEEDED',
  'USER_ACTION_NEEDED.TWOFA_EXPIRED',
  /** The person refused the sign-in in the provider's app (an approval answered "Deny"). */
  'USER_ACTION_NEEDED.TWOFA_DENIED',
  'USER_ACTION_NEEDED.WRONG_TWOFA_CODE',
  'USER_ACTION_NEEDED.SCA_REQUIRED',
  'USER_ACTION_NEEDED.CHANGE_PASSWORD',
  'USER_ACTION_NEEDED.CGU_FORM',
  'USER_ACTION_NEEDED.ACCOUNT_REMOVED',
  'USER_ACTION_NEEDED.OAUTH_OUTDATED',
  'USER_ACTION_NEEDED.CREDENTIALS_UNREADABLE',
  'CHALLENGE_ASKED',
  'CAPTCHA_RESOLUTION_FAILED',
  'VENDOR_DOWN',
  'MAINTENANCE',
  'NOT_EXISTING_DIRECTORY',
  'FILE_DOWNLOAD_FAILED',
  'SAVE_FILE_FAILED',
  'DISK_QUOTA_EXCEEDED',
  'MEMORY_LIMIT_EXCEEDED',
  'SANDBOX_UNAVAILABLE',
  'UNKNOWN_ERROR',
  'UNKNOWN_ERROR.PARTIAL_SYNC',
  /**
   * The account's budget of codes is spent (too many in its window, the last one unanswered, or the
   * site's resend interval): the run stopped before making the site send one more.
   */
  'TWOFA_BUDGET_EXCEEDED',
  'JOB_TIMEOUT',
  'JOB_CANCELLED',
  'JOB_INTERRUPTED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const known = new Set<string>(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && known.has(value);
}

/**
 * Maps any thrown value to a known code: a message that is a code is kept, a code with an unknown
 * suffix falls back to its first segment, everything else is UNKNOWN_ERROR.
 */
export function toErrorCode(value: unknown): ErrorCode {
  const message = value instanceof Error ? value.message : typeof value === 'string' ? value : '';
  if (isErrorCode(message)) return message;
  const head = message.split('.')[0];
  if (head && /^[A-Z_]+$/.test(head) && isErrorCode(head)) return head;
  return 'UNKNOWN_ERROR';
}

/** Errors that need the person: never retried automatically, and they pause scheduled runs. */
export function needsPerson(code: string | null | undefined): boolean {
  return !!code && (code.startsWith('LOGIN_FAILED') || code.startsWith('USER_ACTION_NEEDED'));
}
