import { z } from 'zod';
import {
  CreateNotificationChannelBody,
  RenewalBody,
  NotificationChannel,
  NotificationTestResult,
  UpdateNotificationChannelBody,
} from '@gleaner/contracts';
import type { Stack } from '../../stack.js';
import type { RouteTable } from '../route.js';
import { IdParams } from './account-routes.js';

/** The admin's notification channels (e-mail, webhook, ntfy): secrets write-only, a test per channel. */
export function notificationRoutes(routes: RouteTable, notifications: NonNullable<Stack['notifications']>): void {
  routes.add({
    method: 'GET',
    url: '/api/notification-channels',
    summary: 'Lists the notification channels (their secrets never: `secretSet` says whether one is saved)',
    tag: 'notifications',
    responses: { 200: { description: 'The channels', schema: z.array(NotificationChannel) } },
    handler: async () => notifications.list(),
  });
  routes.add({
    method: 'POST',
    url: '/api/notification-channels',
    summary: 'Adds a channel: e-mail over SMTP, a signed webhook, or an ntfy push; its secret is sealed and write-only',
    tag: 'notifications',
    body: CreateNotificationChannelBody,
    status: 201,
    responses: { 201: { description: 'The channel', schema: NotificationChannel } },
    handler: async ({ body }) => notifications.create(body),
  });
  routes.add({
    method: 'GET',
    url: '/api/notification-channels/:id',
    summary: 'One channel',
    tag: 'notifications',
    params: IdParams,
    responses: {
      200: { description: 'The channel', schema: NotificationChannel },
      404: { description: 'No such channel' },
    },
    handler: async ({ params }) => notifications.get(params.id),
  });
  routes.add({
    method: 'PATCH',
    url: '/api/notification-channels/:id',
    summary:
      'Renames, turns on or off, or changes the settings of a channel; `secret` absent keeps it, null removes it',
    tag: 'notifications',
    params: IdParams,
    body: UpdateNotificationChannelBody,
    responses: {
      200: { description: 'The channel', schema: NotificationChannel },
      404: { description: 'No such channel' },
    },
    handler: async ({ params, body }) => notifications.update(params.id, body),
  });
  routes.add({
    method: 'DELETE',
    url: '/api/notification-channels/:id',
    summary: 'Removes a channel',
    tag: 'notifications',
    params: IdParams,
    status: 204,
    responses: { 204: { description: 'Removed' }, 404: { description: 'No such channel' } },
    handler: async ({ params }) => {
      await notifications.remove(params.id);
      return undefined;
    },
  });
  routes.add({
    method: 'PUT',
    url: '/api/accounts/:id/renewal',
    summary:
      'Plans a manual run at `at`, before the session lapses (the person will be there to type a code); null cancels it',
    tag: 'accounts',
    params: IdParams,
    body: RenewalBody,
    responses: {
      200: { description: 'The planned time', schema: z.object({ at: z.string().nullable() }) },
      404: { description: 'No such account' },
      422: { description: 'A time in the past' },
    },
    handler: async ({ params, body }) => notifications.planRenewal(params.id, body.at),
  });
  routes.add({
    method: 'POST',
    url: '/api/notification-channels/:id/test',
    summary: 'Sends a test message through the channel now (no retry); `ok: false` says what failed',
    tag: 'notifications',
    params: IdParams,
    responses: {
      200: { description: 'What happened', schema: NotificationTestResult },
      404: { description: 'No such channel' },
    },
    handler: async ({ params }) => notifications.test(params.id),
  });
}
