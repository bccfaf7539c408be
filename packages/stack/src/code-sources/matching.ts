/** How a konnector's manifest says to find its code in a message (`twofa_sources.sms` / `.email`). */
export type CodeMatcher = {
  /** The sender must contain this (case-insensitive): a phone number, a short code, an address. */
  from?: string | undefined;
  /** The subject must contain this (e-mail only). */
  subject?: string | undefined;
  /** A regular expression; its first group (or its whole match) is the code. */
  pattern: string;
};

/** Used when the manifest names no pattern: the first run of 4 to 8 digits standing alone. */
export const DEFAULT_CODE_PATTERN = '(?<![\\d])(\\d{4,8})(?![\\d])';

/** The code a message carries for `matcher`, or null when it is not from the site or holds none. */
export function extractCode(
  message: { from: string; subject?: string; text: string },
  matcher: CodeMatcher,
): string | null {
  if (matcher.from && !message.from.toLowerCase().includes(matcher.from.toLowerCase())) return null;
  if (matcher.subject && !(message.subject ?? '').toLowerCase().includes(matcher.subject.toLowerCase())) return null;
  const found = new RegExp(matcher.pattern, 'u').exec(message.text);
  if (!found) return null;
  const code = (found[1] ?? found[0]).trim();
  return code === '' ? null : code;
}
