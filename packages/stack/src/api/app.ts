import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { StackEvent, type ApiError } from '@gleaner/contracts';
import { diskFaultKind, diskFaultStatus, DiskFaultError, diskFaultSentence } from '../disk-faults.js';
import { StackError, type StackErrorCode } from '../errors.js';
import type { Stack } from '../stack.js';
import { ApiHttpError, registerAuthHook } from './auth.js';
import type { AuthStore } from './auth-store.js';
import { createLogger } from '../logger.js';
import { MemoryLoginLimiter, type LoginLimiter } from './login-limiter.js';
import { docsPage, openApiDocument } from './openapi.js';
import { RequestValidationError, RouteTable } from './route.js';
import { accountRoutes } from './routes/account-routes.js';
import { codeSourceRoutes, smsWebhookRoute } from './routes/code-source-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { konnectorRoutes } from './routes/konnector-routes.js';
import { notificationRoutes } from './routes/notification-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { eventStreams } from './sse.js';

export type ApiOptions = {
  auth: AuthStore;
  /** The built Home (index.html and assets), served at / with a fallback to index.html. */
  homeDir?: string;
  logger?: Logger;
  /** Behind a reverse proxy: trust X-Forwarded-* for the client address and https (Secure cookie). */
  trustProxy?: boolean;
  sessionTtlMs?: number;
  /** Default: one in memory (one node); several nodes share a PostgresLoginLimiter. */
  loginLimiter?: LoginLimiter;
  /** Between SSE heartbeat comments; default 15 s. */
  heartbeatMs?: number;
  now?: () => Date;
  version?: string;
};

export type Api = FastifyInstance;

/** Home's pages: its own scripts, styles and API only; no inline script, no framing, no plugins. */
const HOME_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
/** The API reference page: its one inline stylesheet, nothing else. */
const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STACK_STATUS: Record<StackErrorCode, number> = { not_found: 404, conflict: 409, invalid: 422, forbidden: 403 };

/** The HTTP API (and Home's files) over a Stack: it only maps HTTP to the Stack's methods. */
export async function buildApi(stack: Stack, options: ApiOptions): Promise<Api> {
  const now = options.now ?? (() => new Date());
  const logger: FastifyBaseLogger = options.logger ?? createLogger({ level: 'warn' });
  const app = Fastify({
    loggerInstance: logger,
    trustProxy: options.trustProxy ?? false,
    bodyLimit: 1024 * 1024,
    // Routes validate with zod themselves: no JSON-schema compilation.
    ajv: { customOptions: { strict: false } },
  });
  await app.register(fastifyCookie);
  // A konnector package is posted as its raw bytes; the routes that take one set their own limit.
  app.addContentTypeParser(['application/gzip', 'application/x-gzip', 'application/octet-stream'], { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    if (request.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    // A route's own policy (a konnector's icon is sandboxed) stands.
    if (!reply.hasHeader('content-security-policy'))
      reply.header('content-security-policy', request.url.startsWith('/api/docs') ? DOCS_CSP : HOME_CSP);
    return payload;
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const send = (status: number, body: ApiError, headers: Record<string, string> = {}) =>
      reply.code(status).headers(headers).send(body);
    if (error instanceof ApiHttpError)
      return send(error.status, { ...error.extra, error: error.error, message: error.message }, error.headers);
    if (error instanceof RequestValidationError) {
      return send(error.status, { error: 'invalid', message: error.message, details: error.issues });
    }
    if (error instanceof StackError) {
      return send(STACK_STATUS[error.code], {
        error: error.code,
        message: error.message,
        ...(error.details !== undefined ? { details: error.details } : {}),
      });
    }
    // A full, read-only or forbidden disk is the operator's to fix: said plainly, never a raw errno.
    const fault = diskFaultKind(error);
    if (fault) {
      const folder = error instanceof DiskFaultError ? error.folder : stack.dataDir;
      request.log.error({ err: { message: error.message, name: error.name }, fault, folder }, 'a write was refused by the disk');
      return send(diskFaultStatus(fault), {
        error: fault === 'full' ? 'disk_full' : fault === 'read-only' ? 'read_only' : 'permission_denied',
        message: diskFaultSentence(fault, folder),
      });
    }
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status < 500) {
      // Fastify's own refusals (bad JSON, too large, wrong content type): their messages hold no input.
      return send(status, { error: status === 413 ? 'too_large' : 'bad_request', message: error.message });
    }
    request.log.error({ err: { message: error.message, stack: error.stack, name: error.name } }, 'request failed');
    return send(500, { error: 'internal', message: 'internal error' });
  });

  registerAuthHook(app, options.auth, now);

  const routes = new RouteTable(app);
  const streams = eventStreams(stack, options.heartbeatMs ?? 15_000, (event) => StackEvent.parse(event));
  app.addHook('preClose', async () => streams.closeAll());

  routes.add({
    method: 'GET',
    url: '/api/health',
    summary: 'Liveness: answers without authentication',
    tag: 'meta',
    access: 'public',
    responses: { 200: { description: 'Up' } },
    handler: async () => ({ ok: true }),
  });
  authRoutes(routes, {
    store: options.auth,
    limiter: options.loginLimiter ?? new MemoryLoginLimiter(),
    sessionTtlMs: options.sessionTtlMs ?? 7 * 24 * 3600_000,
    now,
  });
  konnectorRoutes(routes, stack);
  accountRoutes(routes, stack);
  codeSourceRoutes(routes, stack);
  await smsWebhookRoute(app, routes, stack);
  jobRoutes(routes, stack, streams);
  if (stack.notifications) notificationRoutes(routes, stack.notifications);

  let document: Record<string, unknown> | undefined;
  const openApi = () =>
    (document ??= openApiDocument(routes.routes, { title: 'Gleaner', version: options.version ?? '0.1.0' }));
  routes.add({
    method: 'GET',
    url: '/api/openapi.json',
    summary: 'This document (OpenAPI 3.1)',
    tag: 'meta',
    responses: { 200: { description: 'The OpenAPI document' } },
    handler: async () => openApi(),
  });
  routes.add({
    method: 'GET',
    url: '/api/docs',
    summary: 'The API reference as a web page',
    tag: 'meta',
    responses: { 200: { description: 'HTML', contentType: 'text/html' } },
    handler: async ({ reply }) => reply.type('text/html; charset=utf-8').send(docsPage(openApi())),
  });

  const homeDir = options.homeDir ? resolve(options.homeDir) : undefined;
  const home = homeDir && existsSync(join(homeDir, 'index.html')) ? homeDir : undefined;
  if (home) await app.register(fastifyStatic, { root: home, prefix: '/', wildcard: true, index: ['index.html'] });

  app.setNotFoundHandler(async (request, reply) => {
    if (home && request.method === 'GET' && !request.url.startsWith('/api/') && request.url !== '/api') {
      // Home is a single-page app: its own routes (/accounts/…) load index.html.
      return reply.type('text/html; charset=utf-8').sendFile('index.html', home);
    }
    return reply.code(404).send({
      error: 'not_found',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    } satisfies ApiError);
  });

  app.decorate('eventStreams', streams);
  return app;
}
