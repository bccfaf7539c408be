import { join } from 'node:path';
import type * as Helper from '../../../stack/test/helpers/postgres.js';
import { repoRoot } from './cli.js';

/**
 * The stack's throwaway-PostgreSQL helper (one server per test file, a database per case), loaded from
 * its build: call at the top of a test file, then `await server()` in a test.
 */
export async function postgresForFile(options: Helper.PostgresOptions = {}): Promise<() => Promise<Helper.PostgresServer>> {
  const helper = (await import(join(repoRoot, 'packages/stack/dist/test/helpers/postgres.js'))) as typeof Helper;
  return helper.postgresForFile(options);
}
