import { z } from 'zod';
import type { AuthStore } from '../auth-store.js';
import { ApiHttpError, SESSION_COOKIE } from '../auth.js';
import { csrfTokenFor, randomSecret, sha256, verifyPassword } from '../credentials.js';
import type { LoginLimiter } from '../login-limiter.js';
import type { RouteTable } from '../route.js';

export const LoginBody = z.strictObject({ password: z.string().min(1).max(1024) });
export const SessionInfo = z.object({
  authenticated: z.boolean(),
  csrfToken: z.string().optional(),
  via: z.enum(['session', 'token']).optional(),
});
export const CreateTokenBody = z.strictObject({ name: z.string().trim().min(1).max(100) });
export const ApiTokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});
export const CreatedToken = ApiTokenInfo.extend({ token: z.string() });
const TokenParams = z.strictObject({ id: z.string().min(1).max(100) });

/** Login, logout, session, and API tokens for scripts. */
export function authRoutes(
  routes: RouteTable,
  deps: { store: AuthStore; limiter: LoginLimiter; sessionTtlMs: number; now: () => Date },
): void {
  const { store, limiter, sessionTtlMs, now } = deps;

  routes.add({
    method: 'POST',
    url: '/api/auth/login',
    summary: 'Logs in with the admin password: sets the session cookie and returns the CSRF token',
    tag: 'auth',
    access: 'public',
    body: LoginBody,
    responses: {
      200: { description: 'Logged in', schema: z.object({ csrfToken: z.string() }) },
      401: { description: 'Wrong password' },
      429: { description: 'Too many failed attempts: see Retry-After' },
    },
    handler: async ({ body, request, reply }) => {
      const key = request.ip;
      const wait = await limiter.attempt(key, now().getTime());
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        throw new ApiHttpError(
          429,
          'too_many_attempts',
          `too many failed logins: try again in ${seconds} s`,
          { 'retry-after': String(seconds) },
          { retryAfterSeconds: seconds },
        );
      }
      if (!(await verifyPassword(body.password, await store.passwordHash()))) {
        // The attempt stays counted: a failure.
        request.log.warn({ ip: key }, 'failed admin login');
        throw new ApiHttpError(401, 'unauthenticated', 'wrong password');
      }
      await limiter.succeeded(key);
      const sessionId = randomSecret(32);
      const expiresAt = new Date(now().getTime() + sessionTtlMs);
      await store.createSession({ idHash: sha256(sessionId), expiresAt });
      await store.pruneSessions(now());
      reply.setCookie(SESSION_COOKIE, sessionId, {
        httpOnly: true,
        sameSite: 'strict',
        path: '/',
        secure: request.protocol === 'https',
        expires: expiresAt,
      });
      return { csrfToken: csrfTokenFor(sessionId) };
    },
  });

  routes.add({
    method: 'POST',
    url: '/api/auth/logout',
    summary: 'Ends the session',
    tag: 'auth',
    status: 204,
    responses: { 204: { description: 'Logged out' } },
    handler: async ({ request, reply }) => {
      if (request.auth?.kind === 'session') await store.deleteSession(sha256(request.auth.sessionId));
      reply.clearCookie(SESSION_COOKIE, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
      });
      return undefined;
    },
  });

  routes.add({
    method: 'GET',
    url: '/api/auth/session',
    summary: 'Whether the caller is authenticated, and the CSRF token of its session',
    tag: 'auth',
    access: 'public',
    responses: { 200: { description: 'The session', schema: SessionInfo } },
    handler: async ({ request }) => {
      const auth = request.auth;
      if (!auth) return { authenticated: false };
      return auth.kind === 'session'
        ? { authenticated: true, via: 'session', csrfToken: auth.csrfToken }
        : { authenticated: true, via: 'token' };
    },
  });

  routes.add({
    method: 'POST',
    url: '/api/tokens',
    summary: 'Creates an API token for scripts; the token is shown once',
    tag: 'auth',
    body: CreateTokenBody,
    status: 201,
    responses: { 201: { description: 'The token (shown this once)', schema: CreatedToken } },
    handler: async ({ body }) => {
      const token = `glt_${randomSecret(32)}`;
      const id = `tok_${randomSecret(9)}`;
      const createdAt = now();
      await store.createToken({ id, name: body.name, hash: sha256(token), createdAt });
      return { id, name: body.name, createdAt: createdAt.toISOString(), lastUsedAt: null, token };
    },
  });

  routes.add({
    method: 'GET',
    url: '/api/tokens',
    summary: 'Lists the API tokens (never their values)',
    tag: 'auth',
    responses: { 200: { description: 'The tokens', schema: z.array(ApiTokenInfo) } },
    handler: async () => store.listTokens(),
  });

  routes.add({
    method: 'DELETE',
    url: '/api/tokens/:id',
    summary: 'Revokes an API token',
    tag: 'auth',
    params: TokenParams,
    status: 204,
    responses: { 204: { description: 'Revoked' }, 404: { description: 'No such token' } },
    handler: async ({ params }) => {
      if (!(await store.deleteToken(params.id))) throw new ApiHttpError(404, 'not_found', 'no such token');
      return undefined;
    },
  });
}
