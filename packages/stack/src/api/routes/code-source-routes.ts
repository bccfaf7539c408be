import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  CodeSource,
  CodeSourceKind,
  CodeSourceTest,
  SetAuthenticatorBody,
  SetAuthenticatorResult,
  SetMailboxBody,
  SetMailboxResult,
  SmsWebhookResult,
} from '@gleaner/contracts';
import type { Stack } from '../../stack.js';
import type { RouteTable } from '../route.js';
import { IdParams } from './account-routes.js';

const KindParams = z.strictObject({ id: z.string().min(1).max(200), kind: CodeSourceKind });

/** An account's code sources: the authenticator secret, the mailbox, the SMS webhook (docs/code-sources.md). */
export function codeSourceRoutes(routes: RouteTable, stack: Stack): void {
  routes.add({
    method: 'GET',
    url: '/api/accounts/:id/code-sources',
    summary: "Lists the account's code sources, in the order they are tried (secrets never shown)",
    tag: 'code sources',
    params: IdParams,
    responses: {
      200: { description: 'The sources', schema: z.array(CodeSource) },
      404: { description: 'No such account' },
    },
    handler: async ({ params }) => stack.codeSources.list(params.id),
  });
  routes.add({
    method: 'PUT',
    url: '/api/accounts/:id/code-sources/app_code',
    summary: 'Stores the account’s authenticator (TOTP) secret, sealed; answers with the code it gives now, once',
    tag: 'code sources',
    params: IdParams,
    body: SetAuthenticatorBody,
    responses: {
      200: { description: 'Stored, with the current code to compare', schema: SetAuthenticatorResult },
      404: { description: 'No such account' },
      422: { description: 'Not an otpauth://totp URI nor a base32 secret (the message says why)' },
    },
    handler: async ({ params, body }) => stack.codeSources.setAuthenticator(params.id, body.secret),
  });
  routes.add({
    method: 'PUT',
    url: '/api/accounts/:id/code-sources/email',
    summary: 'Stores the person’s mailbox (IMAP; the app password sealed) after connecting to it once',
    tag: 'code sources',
    params: IdParams,
    body: SetMailboxBody,
    responses: {
      200: { description: 'Stored, with the time of the newest matching message', schema: SetMailboxResult },
      404: { description: 'No such account' },
      422: {
        description: 'The mailbox refused the password, is unreachable, or has no such folder (the message says which)',
      },
    },
    handler: async ({ params, body }) => stack.codeSources.setMailbox(params.id, body),
  });
  routes.add({
    method: 'PUT',
    url: '/api/accounts/:id/code-sources/sms',
    summary:
      'Makes the account’s SMS webhook (a new URL and secret: the old ones stop working); the secret is shown once',
    tag: 'code sources',
    params: IdParams,
    responses: {
      200: { description: 'The webhook', schema: SmsWebhookResult },
      404: { description: 'No such account' },
    },
    handler: async ({ params }) => stack.codeSources.setSmsWebhook(params.id),
  });
  routes.add({
    method: 'POST',
    url: '/api/accounts/:id/code-sources/:kind/test',
    summary:
      'Tries a code source: the authenticator’s current code, the mailbox’s newest matching message, the webhook’s last message',
    tag: 'code sources',
    params: KindParams,
    responses: {
      200: { description: 'What it found', schema: CodeSourceTest },
      404: { description: 'No such source' },
    },
    handler: async ({ params }) => stack.codeSources.test(params.id, params.kind),
  });
  routes.add({
    method: 'DELETE',
    url: '/api/accounts/:id/code-sources/:kind',
    summary: 'Removes a code source (its sealed secret with it)',
    tag: 'code sources',
    params: KindParams,
    status: 204,
    responses: { 204: { description: 'Removed' }, 404: { description: 'No such source' } },
    handler: async ({ params }) => {
      await stack.codeSources.remove(params.id, params.kind);
      return undefined;
    },
  });
}

const HookParams = z.strictObject({ hookId: z.string().min(8).max(100) });
const SMS_BODY_LIMIT = 16 * 1024;

/** The forwarded message as the webhook's body, whatever the forwarder sends: JSON, a form, or plain text. */
function readBody(contentType: string | undefined, raw: string): unknown {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(raw));
  if (type === 'text/plain') return { text: raw };
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The SMS forwarder's webhook: public (a forwarder holds no session), proven by the secret as a
 * bearer token or an HMAC of the raw body, which is why it has a scope of its own that keeps the body
 * as text. 401 changes nothing; 429 past the per-minute limit; 200 says whether a prompt was answered.
 */
export async function smsWebhookRoute(app: FastifyInstance, routes: RouteTable, stack: Stack): Promise<void> {
  const spec = {
    method: 'POST' as const,
    url: '/api/hooks/sms/:hookId',
    summary:
      'Receives a forwarded SMS (JSON of common forwarder apps, a form, or text): Authorization: Bearer <secret> or X-Gleaner-Signature: sha256=<HMAC of the body>',
    tag: 'code sources',
    access: 'public' as const,
    params: HookParams,
    bodyContentType: ['application/json', 'application/x-www-form-urlencoded', 'text/plain'],
    bodyLimit: SMS_BODY_LIMIT,
    responses: {
      200: { description: 'Received: `answered` says what became of its code' },
      401: { description: 'Unknown webhook, or a wrong secret or signature: nothing changed' },
      422: { description: 'No message text in the body' },
      429: { description: 'Too many messages this minute' },
    },
  };
  routes.routes.push(spec);
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: SMS_BODY_LIMIT }, (_request, body, done) =>
      done(null, body),
    );
    scope.route({
      method: 'POST',
      url: spec.url,
      config: { access: 'public' },
      bodyLimit: SMS_BODY_LIMIT,
      handler: async (request, reply) => {
        const params = HookParams.safeParse(request.params);
        const raw = typeof request.body === 'string' ? request.body : '';
        const header = (name: string) => {
          const value = request.headers[name];
          return Array.isArray(value) ? value[0] : value;
        };
        const receipt = params.success
          ? await stack.codeSources.receiveSms(params.data.hookId, {
              authorization: header('authorization'),
              signature: header('x-gleaner-signature'),
              rawBody: raw,
              body: readBody(header('content-type'), raw),
            })
          : ({ outcome: 'unauthorized' } as const);
        if (receipt.outcome === 'unauthorized')
          return reply
            .code(401)
            .send({ error: 'unauthorized', message: 'unknown webhook, or a wrong secret or signature' });
        if (receipt.outcome === 'rate_limited')
          return reply.code(429).send({ error: 'too_many', message: 'too many messages this minute: try again later' });
        if (receipt.outcome === 'bad_payload')
          return reply.code(422).send({ error: 'invalid', message: `not a forwarded SMS: ${receipt.message}` });
        return reply.code(200).send({ received: true, answered: receipt.answered });
      },
    });
  });
}
