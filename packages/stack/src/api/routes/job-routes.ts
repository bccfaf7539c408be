import { z } from 'zod';
import { ANSWER_STATUS, AnswerOutcome, AnswerPromptBody, Job, JobLogLine, StackEvent } from '@gleaner/contracts';
import type { Stack } from '../../stack.js';
import { lastEventId, type EventStreams } from '../sse.js';
import type { RouteTable } from '../route.js';
import { IdParams, ListQuery } from './account-routes.js';

const JobsQuery = ListQuery.extend({ accountId: z.string().min(1).max(200).optional() });
const EventsQuery = z.strictObject({ lastEventId: z.string().max(30).optional() });
const AnswerResult = z.object({ outcome: AnswerOutcome });
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
      [ANSWER_STATUS.bad_format]: { description: 'Not a code (4 to 12 letters or digits)', schema: AnswerResult },
      [ANSWER_STATUS.too_many_attempts]: { description: 'Too many attempts', schema: AnswerResult },
    },
    handler: async ({ params, body, reply }) => {
      const outcome = await stack.prompts.answer(params.id, body.code);
      reply.code(ANSWER_STATUS[outcome]);
      return { outcome };
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
