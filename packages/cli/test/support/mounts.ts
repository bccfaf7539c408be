import { join } from 'node:path';
import type * as Helper from '../../../stack/test/helpers/mounts.js';
import { repoRoot } from './cli.js';

/** The stack's fault helpers (a small tmpfs, a read-only bind, a full disk), loaded from its build. */
const helper = (await import(join(repoRoot, 'packages/stack/dist/test/helpers/mounts.js'))) as typeof Helper;

export const { fillDisk, makeReadOnly, mountTmpfs } = helper;
