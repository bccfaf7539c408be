import { createHmac, timingSafeEqual } from 'node:crypto';

/** A forwarded SMS as the webhook reads it, whichever app sent it. */
export type ForwardedSms = { from: string; text: string; receivedAt: number | null };

const FROM_KEYS = ['from', 'sender', 'phone', 'number', 'phoneNumber', 'address', 'msisdn'];
const TEXT_KEYS = ['text', 'message', 'body', 'content', 'msg', 'sms'];
const TIME_KEYS = [
  'receivedAt',
  'received_at',
  'receivedStamp',
  'received',
  'timestamp',
  'sentStamp',
  'sent_at',
  'time',
  'date',
];

/** The payload is not a forwarded SMS; the message names what is missing. */
export class SmsPayloadError extends Error {}

/**
 * Reads the JSON of common SMS-forwarder apps (SMS Forwarder's `from`/`text`/`receivedStamp`,
 * httpSMS's `from`/`content`/`timestamp`, `sender`/`message`, …) or a plain form with the same names.
 * A time is ISO 8601 or epoch seconds/milliseconds; without one the message counts as received now.
 */
export function parseForwardedSms(body: unknown): ForwardedSms {
  const data: Record<string, unknown> =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const payload =
    typeof data.payload === 'object' && data.payload !== null ? (data.payload as Record<string, unknown>) : data;
  const pick = (keys: string[]) => {
    for (const key of keys) {
      const value = payload[key];
      if (typeof value === 'string' && value.trim() !== '') return value;
      if (typeof value === 'number') return value;
    }
    return undefined;
  };
  const text = pick(TEXT_KEYS);
  if (text === undefined) throw new SmsPayloadError(`no message text (one of: ${TEXT_KEYS.join(', ')})`);
  const from = pick(FROM_KEYS);
  return { from: from === undefined ? '' : String(from), text: String(text), receivedAt: readTime(pick(TIME_KEYS)) };
}

function readTime(value: string | number | undefined): number | null {
  if (value === undefined) return null;
  const number = typeof value === 'number' ? value : /^\d+(\.\d+)?$/.test(value) ? Number(value) : null;
  if (number !== null) return number < 1e11 ? Math.round(number * 1000) : Math.round(number);
  const parsed = Date.parse(String(value));
  return Number.isNaN(parsed) ? null : parsed;
}

/**
 * Whether a request proves it knows the webhook's secret: `Authorization: Bearer <secret>`, or
 * `X-Gleaner-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. Compared in constant time.
 */
export function webhookAuthorized(
  secret: string,
  request: { authorization?: string | undefined; signature?: string | undefined; rawBody: string },
): boolean {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.authorization ?? '')?.[1]?.trim();
  if (bearer !== undefined) return sameText(bearer, secret);
  const signature = /^sha256=([0-9a-f]{64})$/i.exec(request.signature?.trim() ?? '')?.[1];
  if (signature === undefined) return false;
  const expected = createHmac('sha256', secret).update(request.rawBody).digest('hex');
  return sameText(signature.toLowerCase(), expected);
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The signature a forwarder (or a test) sends for `rawBody`. */
export function signWebhookBody(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
