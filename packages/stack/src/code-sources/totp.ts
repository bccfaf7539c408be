import { Secret, TOTP, URI } from 'otpauth';

/** What a stored authenticator secret holds (sealed whole): RFC 6238's parameters and the base32 secret. */
export type TotpSpec = {
  secret: string;
  algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  digits: number;
  period: number;
  /** What the authenticator app shows above the code (from an otpauth URI); not secret. */
  issuer?: string;
  label?: string;
};

/** A secret or URI that cannot be an authenticator secret; the message says what is wrong, never the value. */
export class TotpInputError extends Error {}

const ALGORITHMS = new Set(['SHA1', 'SHA256', 'SHA512']);

/**
 * Reads what a person pastes (or a QR code holds): an `otpauth://totp/…` URI or a bare base32
 * secret (spaces and dashes as apps print them are allowed).
 *
 * @example
 * parseTotpInput('otpauth://totp/GitHub:octocat?secret=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U&issuer=GitHub')
 */
export function parseTotpInput(input: string): TotpSpec {
  const text = input.trim();
  if (text === '') throw new TotpInputError('the authenticator secret is empty');
  if (/^otpauth:/i.test(text)) {
    let parsed;
    try {
      parsed = URI.parse(text);
    } catch {
      throw new TotpInputError('the otpauth:// URI does not parse (expected otpauth://totp/Label?secret=BASE32…)');
    }
    if (!(parsed instanceof TOTP))
      throw new TotpInputError(
        'the otpauth:// URI is a counter-based (HOTP) one; only time-based (totp) codes are supported',
      );
    if (!ALGORITHMS.has(parsed.algorithm))
      throw new TotpInputError(`the otpauth:// URI's algorithm ${parsed.algorithm} is not SHA1, SHA256 or SHA512`);
    return checked({
      secret: parsed.secret.base32,
      algorithm: parsed.algorithm as TotpSpec['algorithm'],
      digits: parsed.digits,
      period: parsed.period,
      ...(parsed.issuer ? { issuer: parsed.issuer } : {}),
      ...(parsed.label ? { label: parsed.label } : {}),
    });
  }
  const base32 = text.replace(/[\s-]/g, '').toUpperCase().replace(/=+$/, '');
  if (!/^[A-Z2-7]+$/.test(base32))
    throw new TotpInputError(
      'the authenticator secret is not base32 (letters A–Z and digits 2–7) nor an otpauth:// URI',
    );
  return checked({ secret: base32, algorithm: 'SHA1', digits: 6, period: 30 });
}

function checked(spec: TotpSpec): TotpSpec {
  // 80 bits is RFC 4226's floor; shorter is a typo, not a secret.
  if (spec.secret.length < 16)
    throw new TotpInputError('the authenticator secret is too short (at least 16 base32 characters)');
  if (!Number.isInteger(spec.digits) || spec.digits < 6 || spec.digits > 10)
    throw new TotpInputError(`the code length ${spec.digits} is not between 6 and 10 digits`);
  if (!Number.isInteger(spec.period) || spec.period < 10 || spec.period > 300)
    throw new TotpInputError(`the period ${spec.period} s is not between 10 and 300 seconds`);
  return spec;
}

function totp(spec: TotpSpec): TOTP {
  return new TOTP({
    secret: Secret.fromBase32(spec.secret),
    algorithm: spec.algorithm,
    digits: spec.digits,
    period: spec.period,
  });
}

/** The RFC 6238 code of `spec` at `timestampMs`. */
export function totpCodeAt(spec: TotpSpec, timestampMs: number): string {
  return totp(spec).generate({ timestamp: timestampMs });
}

/** Milliseconds until the code current at `timestampMs` gives way to the next one. */
export function totpRemainingMs(spec: TotpSpec, timestampMs: number): number {
  return TOTP.remaining({ period: spec.period, timestamp: timestampMs });
}
