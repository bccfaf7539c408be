import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(BENCH_DIR, '..');
export const PEER_DIR = join(BENCH_DIR, 'peer');
export const PEER_KONNECTORS = join(PEER_DIR, 'konnectors');
export const GLEANER_SCRIPTS = join(BENCH_DIR, 'gleaner');
export const RESULTS_FILE = join(BENCH_DIR, 'results', 'latest.json');

/** The built Gleaner SDK; the Gleaner scripts import it as '@gleaner/konnector' through the workspace link. */
export const GLEANER_SDK_ENTRY = join(REPO_DIR, 'packages', 'konnector', 'dist', 'src', 'index.js');
export const GLEANER_STACK_ENTRY = join(REPO_DIR, 'packages', 'stack', 'dist', 'src', 'index.js');

export const gleanerSdkBuilt = () => existsSync(GLEANER_SDK_ENTRY);

/** Environment the peer expects in standalone mode; SENTRY_DSN=false keeps Raven from phoning home. */
export const PEER_STANDALONE_ENV = { NODE_ENV: 'standalone', SENTRY_DSN: 'false' };
