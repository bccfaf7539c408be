/** The lockout after too many wrong passwords, with when to try again (the answer's `retryAfterSeconds`). */
export function lockoutMessage(body: unknown, now = Date.now()): string {
  const seconds = (body as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
  if (typeof seconds !== 'number' || !(seconds > 0))
    return 'Too many wrong passwords. Wait a few minutes, then try again.';
  const at = new Date(now + seconds * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const wait = seconds < 60 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
  return `Too many wrong passwords. Try again in ${wait} (at ${at}).`;
}
