import { createHmac } from 'node:crypto';
import nodemailer from 'nodemailer';
import {
  EmailChannelSettings,
  NtfyChannelSettings,
  WebhookChannelSettings,
  type NotificationChannelKind,
  type NotificationPayload,
} from '@gleaner/contracts';

/** A channel's delivery failed: the message names what (the host, the status), never a secret. */
export class DeliveryError extends Error {}

/** Every delivery has a deadline. */
const DELIVERY_TIMEOUT_MS = 15_000;

/** The signature of a webhook body: HMAC-SHA256 over `<timestamp>.<body>`, hex, as `sha256=<hex>`. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The settings of a kind, checked (an update sends them whole). */
export function parseSettings(kind: NotificationChannelKind, settings: unknown) {
  const schema =
    kind === 'email' ? EmailChannelSettings : kind === 'webhook' ? WebhookChannelSettings : NtfyChannelSettings;
  return schema.safeParse(settings) as
    | { success: true; data: Record<string, unknown> }
    | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
}

/** Sends one notification once through one channel; throws DeliveryError. */
export async function deliver(
  channel: { kind: NotificationChannelKind; settings: unknown; secret: string | null },
  payload: NotificationPayload,
  now: () => number,
): Promise<void> {
  const signal = AbortSignal.timeout(DELIVERY_TIMEOUT_MS);
  if (channel.kind === 'email') {
    const s = EmailChannelSettings.parse(channel.settings);
    const transport = nodemailer.createTransport({
      host: s.host,
      port: s.port,
      secure: s.secure,
      ...(s.user ? { auth: { user: s.user, pass: channel.secret ?? '' } } : {}),
      connectionTimeout: DELIVERY_TIMEOUT_MS,
      greetingTimeout: DELIVERY_TIMEOUT_MS,
      socketTimeout: DELIVERY_TIMEOUT_MS,
    });
    try {
      await transport.sendMail({
        from: s.from,
        to: s.to,
        subject: payload.title,
        text: payload.link ? `${payload.message}\n\n${payload.link}\n` : `${payload.message}\n`,
      });
    } catch (error) {
      throw new DeliveryError(`the SMTP server ${s.host}:${s.port} refused the e-mail: ${(error as Error).message}`);
    } finally {
      transport.close();
    }
    return;
  }
  if (channel.kind === 'webhook') {
    const s = WebhookChannelSettings.parse(channel.settings);
    if (!channel.secret) throw new DeliveryError('the webhook has no secret to sign its messages: save one again');
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor(now() / 1000));
    const response = await fetch(s.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-gleaner-timestamp': timestamp,
        'x-gleaner-signature': webhookSignature(channel.secret, timestamp, body),
        'x-gleaner-event': payload.event,
      },
      body,
      signal,
    }).catch((error: unknown) => {
      throw new DeliveryError(`the webhook ${new URL(s.url).host} could not be reached: ${(error as Error).message}`);
    });
    await response.body?.cancel();
    if (!response.ok) throw new DeliveryError(`the webhook ${new URL(s.url).host} answered ${response.status}`);
    return;
  }
  const s = NtfyChannelSettings.parse(channel.settings);
  const url = `${s.url.replace(/\/+$/, '')}/${s.topic}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      // ntfy reads these headers; values must be ASCII-safe, so the title is encoded as ntfy allows.
      title: encodeHeader(payload.title),
      tags: payload.event === 'test' ? 'white_check_mark' : 'warning',
      ...(payload.link ? { click: payload.link } : {}),
      ...(channel.secret ? { authorization: `Bearer ${channel.secret}` } : {}),
    },
    body: payload.link ? `${payload.message}\n${payload.link}` : payload.message,
    signal,
  }).catch((error: unknown) => {
    throw new DeliveryError(`the ntfy server ${new URL(s.url).host} could not be reached: ${(error as Error).message}`);
  });
  await response.body?.cancel();
  if (!response.ok) throw new DeliveryError(`the ntfy server ${new URL(s.url).host} answered ${response.status}`);
}

/** ntfy takes RFC 2047 encoded-words in headers for non-ASCII text. */
function encodeHeader(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}
