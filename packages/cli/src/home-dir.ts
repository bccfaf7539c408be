import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Home's built files, found from the @gleaner/home package wherever npm put it (a checkout's
 * workspace or an installed CLI's node_modules), never from the working directory.
 */
export function homeDistDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@gleaner/home/package.json')), 'dist');
}
