import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_DIR } from './paths.mjs';

/** The stack's test helper that starts a throwaway PostgreSQL 15 (built with the stack's tests). */
const HELPER = join(REPO_DIR, 'packages', 'stack', 'dist', 'test', 'helpers', 'postgres.js');

/**
 * A throwaway PostgreSQL 15 server under /tmp (the one the stack's tests use), or null with why not:
 * the figure is then "not measured" with that reason.
 */
export async function startBenchPostgres() {
  if (!existsSync(HELPER)) return { missing: 'stack tests not built (npx tsc -b)' };
  const { startPostgres, POSTGRES_BIN, POSTGRES_INSTALL_LINE } = await import(pathToFileURL(HELPER).href);
  if (!existsSync(join(POSTGRES_BIN, 'initdb'))) return { missing: `PostgreSQL 15: ${POSTGRES_INSTALL_LINE}` };
  return { server: await startPostgres() };
}
