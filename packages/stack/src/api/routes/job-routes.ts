import { z } from 'zod';
import {
  ANSWER_STATUS,
  AnswerOutcome,
  AnswerPromptBody,
  codeFormatMessage,
  Job,
  JobLogLine,
  Prompt,
  RESEND_STATUS,
  ResendOutcome,
  ResendPromptBody,
  StackEvent,
} from '@gleaner/contracts';
import type { Stack } from '../../stack.js';
import { lastEventId, type EventStreams } from '../sse.js';
import type { RouteTable } from '../route.js';
import { IdParams, ListQuery } from './account-routes.js';

const JobsQuery = ListQuery.extend({ accountId: z.string().min(1).max(200).optional() });
const EventsQuery = z.strictObject({ lastEventId: z.string().max(30).optional() });
const AnswerResult = z.object({
  outcome: AnswerOutcome,
  /** With `bad_format`: what a code of this prompt's type looks like, in one sentence. */
  message: z.string().optional(),
});
const ResendResult = z.object({
  outcome: ResendOutcome,
  /** When the next new code may be asked; null when the prompt offers none. */
  availableAt: z.string().nullable(),
  message: z.string().optional(),
});
/** Codes are short; anything longer is refused before it reaches the stack. */
const AnswerBody = AnswerPromptBody.extend({ code: z.string().max(64) });

/** Jobs, prompts (2FA codes) and the realtime event stream. */
export function jobRoutes(routes: RouteTable, stack: Stack, streams: EventStreams): void {
  routes.add({
    method: 'GET',
    url: '/api/jobs',
    summary: 'Lists jobs, newest first',
    tag: 'jobs',
    query: JobsQuery,
    responses: { 200: { description: 'The jobs', schema: z.array(Job) } },
    handler: async ({ query }) =>
      stack.jobs.list({
        ...(query.accountId ? { accountId: query.accountId } : {}),
        ...(query.limit ? { limit: query.limit } : {}),
      }),
  });
  routes.add({
    method: 'GET',
    url: '/api/jobs/:id',
    summary: 'One job',
    tag: 'jobs',
    params: IdParams,
    responses: { 200: { description: 'The job', schema: Job }, 404: { description: 'No such job' } },
    handler: async ({ params }) => stack.jobs.get(params.id),
  });
  routes.add({
    method: 'GET',
    url: '/api/jobs/:id/logs',
    summary: "The job's log lines",
    tag: 'jobs',
    params: IdParams,
    responses: { 200: { description: 'The log', schema: z.array(JobLogLine) } },
    handler: async ({ params }) => stack.jobs.logs(params.id),
  });
  routes.add({
    method: 'POST',
    url: '/api/jobs/:id/cancel',
    summary: 'Cancels a queued or running job (it ends JOB_CANCELLED)',
    tag: 'jobs',
    params: IdParams,
    responses: { 200: { description: 'The job', schema: Job } },
    handler: async ({ params }) => stack.jobs.cancel(params.id),
  });

  routes.add({
    method: 'POST',
    url: '/api/prompts/:id/answer',
    summary: 'Posts a 2FA code to the konnector waiting on this prompt',
    tag: 'prompts',
    params: IdParams,
    body: AnswerBody,
    responses: {
      [ANSWER_STATUS.accepted]: { description: 'Accepted: pushed to the konnector', schema: AnswerResult },
      [ANSWER_STATUS.not_waiting]: {
        description: 'The prompt is not waiting (answered, cancelled)',
        schema: AnswerResult,
      },
      [ANSWER_STATUS.expired]: { description: 'The prompt expired', schema: AnswerResult },
      [ANSWER_STATUS.bad_format]: {
        description:
          "Not a code of the prompt's type (SMS and authenticator codes: 4 to 10 digits; others: 4 to 12 letters or digits)",
        schema: AnswerResult,
      },
      [ANSWER_STATUS.too_many_attempts]: { description: 'Too many attempts', schema: AnswerResult },
    },
    handler: async ({ params, body, reply }) => {
      const outcome = await stack.prompts.answer(
        params.id,
        body.code,
        body.trustDevice === undefined ? {} : { trustDevice: body.trustDevice },
      );
      reply.code(ANSWER_STATUS[outcome]);
      if (outcome !== 'bad_format') return { outcome };
      return { outcome, message: codeFormatMessage((await stack.prompts.get(params.id)).type) };
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/prompts/:id',
    summary: 'One prompt: what the site said of its code (destination, deadline, attempts left, choices)',
    tag: 'prompts',
    params: IdParams,
    responses: { 200: { description: 'The prompt', schema: Prompt }, 404: { description: 'No such prompt' } },
    handler: async ({ params }) => stack.prompts.get(params.id),
  });
  routes.add({
    method: 'POST',
    url: '/api/prompts/:id/resend',
    summary: "Asks the konnector for a new code (by one of the prompt's methods), at most once per cooldown",
    tag: 'prompts',
    params: IdParams,
    body: ResendPromptBody,
    responses: {
      [RESEND_STATUS.sent]: {
        description: 'Asked: the konnector makes the site send a new code',
        schema: ResendResult,
      },
      [RESEND_STATUS.not_waiting]: { description: 'The prompt is not waiting', schema: ResendResult },
      [RESEND_STATUS.expired]: { description: 'The prompt expired', schema: ResendResult },
      [RESEND_STATUS.not_offered]: {
        description: 'The site offers no new code, or not by that method',
        schema: ResendResult,
      },
      [RESEND_STATUS.cooldown]: { description: 'Too soon: `availableAt` says when', schema: ResendResult },
    },
    handler: async ({ params, body, reply }) => {
      const { outcome, availableAt } = await stack.prompts.resend(params.id, body.method);
      reply.code(RESEND_STATUS[outcome]);
      if (outcome === 'cooldown' && availableAt) {
        const seconds = Math.max(1, Math.ceil((Date.parse(availableAt) - Date.now()) / 1000));
        reply.header('retry-after', String(seconds));
        return { outcome, availableAt, message: `A new code can be asked in ${seconds} s.` };
      }
      if (outcome === 'not_offered')
        return {
          outcome,
          availableAt,
          message: body.method
            ? `The site does not offer to send the code by ${JSON.stringify(body.method)}.`
            : 'The site offers no new code for this sign-in.',
        };
      return { outcome, availableAt };
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/prompts/:id/cancel',
    summary: 'Gives up on a prompt: the konnector is told nobody will answer',
    tag: 'prompts',
    params: IdParams,
    status: 204,
    responses: { 204: { description: 'Cancelled' } },
    handler: async ({ params }) => {
      await stack.prompts.cancel(params.id);
      return undefined;
    },
  });

  routes.add({
    method: 'GET',
    url: '/api/events',
    summary: 'Server-Sent Events of account, job, prompt, log and file changes; resume with Last-Event-ID',
    tag: 'events',
    query: EventsQuery,
    responses: {
      200: {
        description: 'An event stream; each data line is a StackEvent',
        contentType: 'text/event-stream',
        schema: StackEvent,
      },
    },
    handler: async ({ query, request, reply }) => {
      streams.serve(request, reply, lastEventId(request.headers['last-event-id'], query.lastEventId));
      return reply;
    },
  });
}
