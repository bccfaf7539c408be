import { z } from 'zod';
import { InstalledKonnectorResult, KonnectorInfo, KonnectorProblem } from '@gleaner/contracts';
import { StackError } from '../../errors.js';
import { PACKAGE_MAX_BYTES } from '../../registry/konnector-package.js';
import type { Stack } from '../../stack.js';
import { ApiHttpError } from '../auth.js';
import type { RouteTable } from '../route.js';

const SlugParams = z.strictObject({ slug: z.string().min(1).max(200) });
const ForceQuery = z.strictObject({ force: z.enum(['0', '1', 'true', 'false']).optional() });
const forced = (query: z.infer<typeof ForceQuery>) => query.force === '1' || query.force === 'true';
/** `application/x-gzip` is what browsers and many tools call a .tgz. */
const PACKAGE_TYPES = ['application/gzip', 'application/x-gzip', 'application/octet-stream'];

/** A refused package → 400 with its problems; a conflict → 409 with what it says (the accounts' count). */
function packageError(error: unknown): never {
  if (error instanceof StackError) {
    const details = (error.details ?? {}) as { problems?: unknown; accounts?: unknown };
    if (error.code === 'invalid')
      throw new ApiHttpError(400, 'invalid', error.message, {}, { problems: details.problems ?? [] });
    if (error.code === 'conflict')
      throw new ApiHttpError(409, 'conflict', error.message, {}, typeof details.accounts === 'number' ? { accounts: details.accounts } : {});
  }
  throw error;
}

/** The konnectors: listing, installing a package, removing it, its icon. */
export function konnectorRoutes(routes: RouteTable, stack: Stack): void {
  routes.add({
    method: 'GET',
    url: '/api/konnectors',
    summary: 'Lists the konnectors: installed packages and development folders',
    tag: 'konnectors',
    responses: { 200: { description: 'The konnectors', schema: z.array(KonnectorInfo) } },
    handler: async () => stack.konnectors.list(),
  });
  routes.add({
    method: 'GET',
    url: '/api/konnector-problems',
    summary: 'Konnectors found but refused (bad manifest, main outside its folder, …) or hidden by a development folder',
    tag: 'konnectors',
    responses: { 200: { description: 'The refused konnectors, each problem naming the field', schema: z.array(KonnectorProblem) } },
    handler: async () => stack.konnectors.problems(),
  });
  routes.add({
    method: 'GET',
    url: '/api/konnectors/:slug',
    summary: 'One konnector',
    tag: 'konnectors',
    params: SlugParams,
    responses: { 200: { description: 'The konnector', schema: KonnectorInfo }, 404: { description: 'Not installed' } },
    handler: async ({ params }) => {
      const konnector = stack.konnectors.get(params.slug);
      if (!konnector) throw new ApiHttpError(404, 'not_found', `no konnector ${params.slug}`);
      return konnector;
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/konnectors',
    summary:
      'Installs a konnector package (the raw .tgz of `gleaner pack`); a newer version replaces the current one for the next job; force=1 allows a downgrade or a reinstall',
    tag: 'konnectors',
    query: ForceQuery,
    body: z.instanceof(Buffer, { message: 'send the .tgz as application/gzip, application/x-gzip or application/octet-stream' }),
    bodyContentType: PACKAGE_TYPES,
    bodyLimit: PACKAGE_MAX_BYTES,
    status: 201,
    responses: {
      201: { description: 'Installed', schema: InstalledKonnectorResult },
      400: { description: 'A bad package: `problems` names each entry or manifest field' },
      409: { description: 'The same or a newer version is installed (send force=1)' },
      413: { description: 'Over 50 MiB' },
    },
    handler: async ({ body, query }) => {
      try {
        return await stack.konnectors.install(body, { force: forced(query) });
      } catch (error) {
        return packageError(error);
      }
    },
  });
  routes.add({
    method: 'DELETE',
    url: '/api/konnectors/:slug',
    summary: 'Removes an installed konnector (refused while accounts use it, unless force=1); running jobs finish',
    tag: 'konnectors',
    params: SlugParams,
    query: ForceQuery,
    status: 204,
    responses: {
      204: { description: 'Removed' },
      404: { description: 'Not installed' },
      409: { description: 'Used by accounts: `accounts` says how many' },
    },
    handler: async ({ params, query }) => {
      try {
        await stack.konnectors.uninstall(params.slug, { force: forced(query) });
        return undefined;
      } catch (error) {
        return packageError(error);
      }
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/konnectors/:slug/icon',
    summary: "The konnector's icon (SVG or PNG)",
    tag: 'konnectors',
    params: SlugParams,
    responses: {
      200: { description: 'The icon', contentType: 'image/svg+xml' },
      404: { description: 'No such konnector, or no icon' },
    },
    handler: async ({ params, reply }) => {
      const icon = await stack.konnectors.icon(params.slug);
      reply.header('content-type', icon.contentType);
      // An SVG is a document: it must not run anything when opened on its own.
      reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
      reply.header('cache-control', 'private, max-age=60');
      return reply.send(icon.data);
    },
  });
}
