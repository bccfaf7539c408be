import { z } from 'zod';
import { ApiError } from '@gleaner/contracts';
import { SAFE_METHODS } from './auth.js';
import type { RouteDoc } from './route.js';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (object.required ?? []).includes(name),
    schema: property,
  }));
}

/** An OpenAPI 3.1 document of the routes, generated from their zod schemas. */
export function openApiDocument(routes: readonly RouteDoc[], info: { title: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const responses: Record<string, JsonSchema> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema || response.contentType
          ? {
              content: {
                [response.contentType ?? 'application/json']: response.schema
                  ? { schema: jsonSchema(response.schema, 'output') }
                  : {},
              },
            }
          : {}),
      };
    }
    // What any route may answer besides its own statuses: the request checks and the auth hook's.
    const error = (description: string): JsonSchema => ({
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ApiError' } } },
    });
    if ((route.params || route.query) && !responses['400'])
      responses['400'] = error('The path or query does not match its schema (`details` lists each issue)');
    if (route.body && !route.bodyContentType && !responses['422'])
      responses['422'] = error('The body does not match its schema (`details` lists each issue)');
    if (route.access !== 'public') {
      responses['401'] ??= error('Not authenticated: no valid session cookie or bearer token');
      if (!SAFE_METHODS.has(route.method))
        responses['403'] ??= error('A session request without its x-csrf-token header (or with a wrong one)');
    }
    responses.default = error('An error');
    const operation: JsonSchema = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      responses,
      security: route.access === 'public' ? [] : [{ session: [] }, { token: [] }],
    };
    if (route.body && route.bodyContentType) {
      operation.requestBody = {
        required: true,
        content: Object.fromEntries(
          route.bodyContentType.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }]),
        ),
      };
    } else if (route.body) {
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
      };
    }
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'The Gleaner stack API. Authenticate with the session cookie from POST /api/auth/login (state-changing requests then need the x-csrf-token header) or with `Authorization: Bearer <token>`.',
    },
    // Relative: the document is served by the stack it describes, whatever its address.
    servers: [{ url: '/', description: 'This Gleaner stack' }],
    paths,
    components: {
      schemas: { ApiError: jsonSchema(ApiError, 'output') },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'gleaner_session' },
        token: { type: 'http', scheme: 'bearer' },
      },
    },
  };
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** A self-contained HTML page listing the routes of the document (no scripts, no CDN). */
export function docsPage(document: JsonSchema): string {
  const paths = document.paths as Record<
    string,
    Record<
      string,
      {
        summary: string;
        tags: string[];
        requestBody?: unknown;
        security?: unknown[];
        responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
      }
    >
  >;
  const components = (document.components as { schemas?: Record<string, unknown> } | undefined)?.schemas ?? {};
  const schemaBlock = (label: string, schema: unknown) =>
    `<details><summary>${escapeHtml(label)}</summary><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></details>`;
  const rows: string[] = [];
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const statuses = Object.entries(operation.responses)
        .filter(([status]) => status !== 'default')
        .map(([status, response]) => {
          const [type, media] = Object.entries(response.content ?? {})[0] ?? [];
          const schema = media?.schema;
          const ref = (schema as { $ref?: string } | undefined)?.$ref;
          const shown = ref ? components[ref.replace('#/components/schemas/', '')] : schema;
          return `<div><code>${escapeHtml(status)}</code> ${escapeHtml(response.description)}${
            shown ? schemaBlock(`${type ?? ''} schema${ref ? ` (${ref.split('/').pop() ?? ''})` : ''}`, shown) : ''
          }</div>`;
        })
        .join('');
      const access = operation.security && operation.security.length === 0 ? 'public' : 'session or token';
      const body = operation.requestBody
        ? `<details><summary>body</summary><pre>${escapeHtml(
            JSON.stringify(
              Object.values((operation.requestBody as { content: Record<string, { schema: unknown }> }).content)[0]
                ?.schema ?? null,
              null,
              2,
            ),
          )}</pre></details>`
        : '';
      rows.push(
        `<tr><td><b>${method.toUpperCase()}</b></td><td><code>${escapeHtml(path)}</code><br><small>${access}</small></td><td>${escapeHtml(operation.summary)}${body}</td><td>${statuses}</td></tr>`,
      );
    }
  }
  const info = document.info as { title: string; version: string; description: string };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)} — API</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;width:100%}td{border-top:1px solid #ddd;padding:.4em;vertical-align:top}pre{font-size:12px;background:#f6f6f6;padding:.5em}</style>
</head><body>
<h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
<p>${escapeHtml(info.description)}</p>
<p>The machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1). Server: this address.</p>
<table><tr><th>method</th><th>path</th><th>what</th><th>answers (open one for its schema)</th></tr>${rows.join('\n')}</table>
</body></html>`;
}
