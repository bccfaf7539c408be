import type { Account } from '@gleaner/contracts';

/** How many days ahead Home warns of a lapse (the stack's default notification delay). */
export const WARN_DAYS = 3;

export type SessionHealthView = {
  /** "No code needed until 12 March", or null when nothing is known. */
  text: string | null;
  /** Set when a code will be needed within WARN_DAYS: the banner's sentence. */
  warning: string | null;
};

const day = (at: number, locale?: string) =>
  new Date(at).toLocaleDateString(locale ?? 'en-GB', { day: 'numeric', month: 'long' });

/**
 * What Home says of an account's session: until when no code is needed (the later of the session's
 * and the remembered device's ends: either spares a code), and a warning when that is near. Pure.
 *
 * @example
 * sessionHealthView({ sessionHealth: { sessionExpiresAt: '2030-03-12T08:00:00Z', deviceExpiresAt: null } }, now)
 * // { text: 'No code needed until 12 March', warning: null }
 */
export function sessionHealthView(
  account: Pick<Account, 'sessionHealth'>,
  now: number,
  locale?: string,
): SessionHealthView {
  const known = [account.sessionHealth?.sessionExpiresAt, account.sessionHealth?.deviceExpiresAt]
    .filter((at): at is string => typeof at === 'string')
    .map((at) => Date.parse(at))
    .filter((at) => !Number.isNaN(at));
  if (known.length === 0) return { text: null, warning: null };
  const until = Math.max(...known);
  if (until <= now) return { text: 'The saved session has ended: the next sign-in asks for a code', warning: null };
  const text = `No code needed until ${day(until, locale)}`;
  const warning =
    until - now <= WARN_DAYS * 86_400_000
      ? `This website will ask for a code again after ${day(until, locale)}. Reconnect now to avoid a code at 3 a.m.`
      : null;
  return { text, warning };
}

/** Whether Home was opened from a notification's link (`?action=reconnect`): Reconnect is made ready. */
export function reconnectRequested(search: string): boolean {
  return new URLSearchParams(search).get('action') === 'reconnect';
}
