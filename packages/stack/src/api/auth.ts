import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthStore } from './auth-store.js';
import { csrfTokenFor, safeEqual, sha256 } from './credentials.js';
import type { RouteAccess } from './route.js';

export const SESSION_COOKIE = 'gleaner_session';
export const CSRF_HEADER = 'x-csrf-token';

export type AuthContext =
  { kind: 'session'; sessionId: string; csrfToken: string } | { kind: 'token'; tokenId: string };

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

/** Methods a session may send without the CSRF header (they change nothing). */
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class ApiHttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** More fields of the error body (a refused package's `problems`, say). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Who is calling: a session cookie or a bearer token, checked against the store. */
export async function resolveAuth(request: FastifyRequest, store: AuthStore, now: Date): Promise<AuthContext | null> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) return null;
    const token = await store.useToken(sha256(match[1]), now);
    return token ? { kind: 'token', tokenId: token.id } : null;
  }
  const sessionId = request.cookies[SESSION_COOKIE];
  if (!sessionId) return null;
  const session = await store.findSession(sha256(sessionId), now);
  return session ? { kind: 'session', sessionId, csrfToken: csrfTokenFor(sessionId) } : null;
}

/**
 * Every /api route needs a session or a token unless it is marked public (login, health); a
 * session's state-changing request also needs the x-csrf-token header of that session.
 */
export function registerAuthHook(app: FastifyInstance, store: AuthStore, now: () => Date): void {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request: FastifyRequest, _reply: FastifyReply) => {
    if (!request.url.startsWith('/api/') && request.url !== '/api') return;
    request.auth = await resolveAuth(request, store, now());
    if (request.routeOptions.config.access === 'public') return;
    if (!request.auth) throw new ApiHttpError(401, 'unauthenticated', 'log in or send an API token');
    if (request.auth.kind === 'session' && !SAFE_METHODS.has(request.method)) {
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !safeEqual(sent, request.auth.csrfToken)) {
        throw new ApiHttpError(403, 'forbidden', `missing or wrong ${CSRF_HEADER} header`);
      }
    }
  });
}
