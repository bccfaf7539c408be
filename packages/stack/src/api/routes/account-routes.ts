import { basename, extname } from 'node:path';
import { z } from 'zod';
import {
  Account,
  CreateAccountBody,
  DeleteAccountQuery,
  FileInfo,
  Job,
  KeptAccount,
  StartJobBody,
  Trigger,
  UpdateAccountBody,
  UpdateTriggerBody,
} from '@gleaner/contracts';
import type { Stack } from '../../stack.js';
import type { RouteTable } from '../route.js';

export const IdParams = z.strictObject({ id: z.string().min(1).max(200) });
export const ListQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).optional() });

const CONTENT_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.html': 'application/octet-stream',
};

/** `attachment; filename="…"; filename*=UTF-8''…` safe for any name. */
export function contentDisposition(name: string): string {
  const ascii = basename(name)
    .replace(/[^\x20-\x7e]/g, '_')
    .replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(basename(name))}`;
}

/** Accounts, their triggers and files. */
export function accountRoutes(routes: RouteTable, stack: Stack): void {
  routes.add({
    method: 'GET',
    url: '/api/accounts',
    summary: 'Lists the accounts',
    tag: 'accounts',
    responses: { 200: { description: 'The accounts', schema: z.array(Account) } },
    handler: async () => stack.accounts.list(),
  });
  routes.add({
    method: 'POST',
    url: '/api/accounts',
    summary: 'Creates an account (credentials are write-only); with connect: true, starts a manual job',
    tag: 'accounts',
    body: CreateAccountBody,
    status: 201,
    responses: {
      201: { description: 'The account', schema: Account },
      422: { description: 'Unknown konnector or bad fields' },
    },
    handler: async ({ body }) => {
      const account = await stack.accounts.create({
        konnector: body.konnector,
        fields: body.fields,
        ...(body.label !== undefined ? { label: body.label } : {}),
      });
      if (!body.connect) return account;
      await stack.jobs.start(account.id, 'manual');
      return stack.accounts.get(account.id);
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/accounts/:id',
    summary: 'One account, with its latest job and waiting prompt',
    tag: 'accounts',
    params: IdParams,
    responses: { 200: { description: 'The account', schema: Account }, 404: { description: 'No such account' } },
    handler: async ({ params }) => stack.accounts.get(params.id),
  });
  routes.add({
    method: 'PATCH',
    url: '/api/accounts/:id',
    summary: 'Changes the label or fields (a secret field sent empty is left unchanged)',
    tag: 'accounts',
    params: IdParams,
    body: UpdateAccountBody,
    responses: { 200: { description: 'The account', schema: Account }, 404: { description: 'No such account' } },
    handler: async ({ params, body }) =>
      stack.accounts.update(params.id, {
        ...(body.label !== undefined ? { label: body.label } : {}),
        ...(body.fields !== undefined ? { fields: body.fields } : {}),
      }),
  });
  routes.add({
    method: 'DELETE',
    url: '/api/accounts/:id',
    summary: 'Deletes an account and its session; its files are kept (see /api/kept-files) unless `files=delete`',
    tag: 'accounts',
    params: IdParams,
    query: DeleteAccountQuery,
    status: 204,
    responses: { 204: { description: 'Deleted' }, 404: { description: 'No such account' } },
    handler: async ({ params, query }) => {
      await stack.accounts.remove(params.id, { keepFiles: query.files === 'keep' });
      return undefined;
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/accounts/:id/reset-session',
    summary: 'Forgets the saved website session: the next run logs in again',
    tag: 'accounts',
    params: IdParams,
    responses: { 200: { description: 'The account', schema: Account } },
    handler: async ({ params }) => stack.accounts.resetSession(params.id),
  });
  routes.add({
    method: 'POST',
    url: '/api/accounts/:id/jobs',
    summary: 'Starts a job (manual by default)',
    tag: 'jobs',
    params: IdParams,
    body: StartJobBody.optional(),
    status: 201,
    responses: {
      201: { description: 'The job', schema: Job },
      409: { description: 'The account already has an active job' },
    },
    handler: async ({ params, body }) => stack.jobs.start(params.id, body?.mode ?? 'manual'),
  });
  routes.add({
    method: 'GET',
    url: '/api/accounts/:id/jobs',
    summary: "The account's jobs, newest first",
    tag: 'jobs',
    params: IdParams,
    query: ListQuery,
    responses: { 200: { description: 'The jobs', schema: z.array(Job) } },
    handler: async ({ params, query }) => {
      await stack.accounts.get(params.id);
      return stack.jobs.list({ accountId: params.id, ...(query.limit ? { limit: query.limit } : {}) });
    },
  });

  routes.add({
    method: 'GET',
    url: '/api/accounts/:id/trigger',
    summary: "The account's schedule",
    tag: 'triggers',
    params: IdParams,
    responses: { 200: { description: 'The trigger', schema: Trigger } },
    handler: async ({ params }) => stack.triggers.get(params.id),
  });
  routes.add({
    method: 'PUT',
    url: '/api/accounts/:id/trigger',
    summary: "Sets the account's schedule",
    tag: 'triggers',
    params: IdParams,
    body: UpdateTriggerBody,
    responses: { 200: { description: 'The trigger', schema: Trigger } },
    handler: async ({ params, body }) =>
      stack.triggers.set(params.id, {
        frequency: body.frequency,
        ...(body.time !== undefined ? { time: body.time } : {}),
      }),
  });

  routes.add({
    method: 'GET',
    url: '/api/accounts/:id/files',
    summary: "The account's saved files, with bill metadata",
    tag: 'files',
    params: IdParams,
    responses: { 200: { description: 'The files', schema: z.array(FileInfo) } },
    handler: async ({ params }) => stack.files.list(params.id),
  });
  routes.add({
    method: 'GET',
    url: '/api/kept-files',
    summary: 'The files of deleted accounts, kept when they were deleted; newest deletion first',
    tag: 'files',
    responses: { 200: { description: 'Each deleted account with its kept files', schema: z.array(KeptAccount) } },
    handler: async () => stack.accounts.kept(),
  });
  routes.add({
    method: 'DELETE',
    url: '/api/kept-files/:id',
    summary: 'Deletes the kept files of a deleted account (`id`: the account that was deleted)',
    tag: 'files',
    params: IdParams,
    status: 204,
    responses: { 204: { description: 'Deleted' }, 404: { description: 'No kept files of that account' } },
    handler: async ({ params }) => {
      await stack.accounts.forgetKept(params.id);
      return undefined;
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/files/:id/content',
    summary: 'Downloads a file',
    tag: 'files',
    params: IdParams,
    responses: {
      200: { description: 'The file', contentType: 'application/octet-stream' },
      404: { description: 'No such file' },
    },
    handler: async ({ params, reply }) => {
      const { file, stream } = await stack.files.open(params.id);
      reply.header('content-type', CONTENT_TYPES[extname(file.name).toLowerCase()] ?? 'application/octet-stream');
      reply.header('content-disposition', contentDisposition(file.name));
      reply.header('content-length', String(file.size));
      reply.header('content-security-policy', "default-src 'none'; sandbox");
      return reply.send(stream);
    },
  });
}
