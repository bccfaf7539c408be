import { Secret, TOTP } from 'otpauth';

const PERIOD_S = 30;
const DIGITS = 6;

function totpFor(secret: string): TOTP {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: DIGITS, period: PERIOD_S });
}

/** The RFC 6238 code (30 s, 6 digits, SHA-1) for `secret` at `timestampMs`. */
export function totpCode(secret: string, timestampMs: number): string {
  return totpFor(secret).generate({ timestamp: timestampMs });
}

/** Milliseconds until the code current at `timestampMs` changes. */
export function totpRemainingMs(timestampMs: number): number {
  return TOTP.remaining({ period: PERIOD_S, timestamp: timestampMs });
}

/**
 * Checks a code within ±`window` steps and returns the absolute step counter it
 * matched (so callers can refuse a code already used), or null.
 */
export function totpMatch(secret: string, token: string, timestampMs: number, window = 1): number | null {
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totpFor(secret).validate({ token, timestamp: timestampMs, window });
  if (delta === null) return null;
  return TOTP.counter({ period: PERIOD_S, timestamp: timestampMs }) + delta;
}
