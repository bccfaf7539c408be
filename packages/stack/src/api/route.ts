import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call a route: everyone, or an authenticated session or token (the default). */
export type RouteAccess = 'public' | 'authenticated';

export type ResponseSpec = {
  description: string;
  /** Also a filter: the body is parsed through it, so that a field the contract lacks never leaks. */
  schema?: z.ZodType;
  contentType?: string;
};

export type RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> = {
  method: HttpMethod;
  url: string;
  summary: string;
  tag: string;
  access?: RouteAccess;
  params?: P;
  query?: Q;
  body?: B;
  /** The body's content type when it is not JSON (raw bytes: the schema sees a Buffer). */
  bodyContentType?: string[];
  /** Bytes; default the app's (1 MiB). */
  bodyLimit?: number;
  /** The status of a success; the handler may set another with reply.code(). */
  status?: number;
  responses: Record<number, ResponseSpec>;
  handler: (input: {
    params: z.infer<P>;
    query: z.infer<Q>;
    body: z.infer<B>;
    request: FastifyRequest;
    reply: FastifyReply;
  }) => Promise<unknown>;
};

/** A route as the OpenAPI document sees it. */
export type RouteDoc = Omit<RouteSpec<z.ZodType, z.ZodType, z.ZodType>, 'handler'>;

/** A request that does not match its schemas: 400 for the path and query, 422 for the body. */
export class RequestValidationError extends Error {
  constructor(
    readonly status: 400 | 422,
    readonly where: 'params' | 'query' | 'body',
    readonly issues: { path: string; message: string }[],
  ) {
    // The message names each field and what is wrong with it (never the value: it may be a secret).
    super(`invalid ${where}: ${issues.map((issue) => `${issue.path || '(the whole ' + where + ')'}: ${issue.message}`).join('; ')}`);
  }
}

function parse<T extends z.ZodType>(
  schema: T | undefined,
  value: unknown,
  where: 'params' | 'query' | 'body',
): z.infer<T> {
  if (!schema) return undefined as z.infer<T>;
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  // Only paths and messages: an issue must never echo the value sent (it may be a password).
  const issues = result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  throw new RequestValidationError(where === 'body' ? 422 : 400, where, issues);
}

/** Registers routes on Fastify and keeps their description for the OpenAPI document. */
export class RouteTable {
  readonly routes: RouteDoc[] = [];
  constructor(private readonly app: FastifyInstance) {}

  add<P extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined>(
    spec: RouteSpec<P, Q, B>,
  ): void {
    const { handler, ...doc } = spec;
    this.routes.push(doc);
    this.app.route({
      method: spec.method,
      url: spec.url,
      config: { access: spec.access ?? 'authenticated' },
      ...(spec.bodyLimit !== undefined ? { bodyLimit: spec.bodyLimit } : {}),
      handler: async (request, reply) => {
        const params = parse(spec.params, request.params, 'params');
        const query = parse(spec.query, request.query, 'query');
        const body = parse(spec.body, request.body, 'body');
        if (spec.status !== undefined) reply.code(spec.status);
        const result = await handler({ params, query, body, request, reply });
        if (reply.sent) return reply;
        const schema = spec.responses[reply.statusCode]?.schema;
        if (schema && result !== undefined && !(result instanceof Object && 'pipe' in result))
          return schema.parse(result);
        return result;
      },
    });
  }
}
