import { redactor } from '../core/redact.js';

/** Field, query and JSON key names whose values are never printed. */
export const SECRET_NAME = /pass|pwd|secret|token|otp|code|csrf|key|auth|session|sid|pin\b|cvv|iban/i;

export const REDACTED = '[redacted]';

/** The URL with user info removed and secret-looking query values replaced: safe for logs and errors. */
export function safeUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '[invalid url]';
  }
  parsed.username = '';
  parsed.password = '';
  if (!parsed.search) return parsed.href;
  const query = [...parsed.searchParams]
    .map(([name, value]) => `${encodeURIComponent(name)}=${SECRET_NAME.test(name) ? REDACTED : encodeURIComponent(value)}`)
    .join('&');
  parsed.search = '';
  return `${parsed.href.replace(/#.*$/, '')}?${query}`;
}

/** `user=alice, password=[redacted]`: a form's fields for a debug line. */
export function describeForm(form: Record<string, unknown>): string {
  return Object.entries(form)
    .map(([name, value]) => `${name}=${SECRET_NAME.test(name) ? REDACTED : String(value)}`)
    .join(', ');
}

/**
 * A JSON body for a debug line, secret-looking keys redacted at any depth, the run's secrets
 * scrubbed, then truncated: scrubbed first, so that a cut never leaves the start of a secret.
 */
export function describeJson(value: unknown, max = 500): string {
  const json = JSON.stringify(value, (key, inner: unknown) =>
    key && SECRET_NAME.test(key) && inner !== null && typeof inner !== 'object' ? REDACTED : inner,
  );
  if (json === undefined) return '';
  const text = redactor.scrub(json);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
