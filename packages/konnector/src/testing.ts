import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountState, FileEntry, RunMode, TwoFaType } from '@gleaner/contracts';
import type { BaseKonnector, RunResult } from './base-konnector.js';
import type { LogEntry } from './host/host.js';
import { StandaloneHost, type CodeReader, type CodeRequest } from './host/standalone-host.js';

/**
 * Helpers for a konnector's own tests (`@gleaner/konnector/testing`): run it in the test's process on
 * a standalone host and look at what it did: the states it went through, its log, the codes it asked
 * for, and the files it saved.
 */

export type RecordedRun = {
  result: RunResult;
  states: AccountState[];
  logs: LogEntry[];
  /** Every code the konnector asked for, in order. */
  codeRequests: Array<Pick<CodeRequest, 'type' | 'retry'>>;
  host: StandaloneHost;
};

/** A fresh, empty account data folder under the system's temp folder. */
export function newDataDir(prefix = 'gleaner-account'): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

/**
 * Runs `konnector` once as `mode` (default manual) on a standalone host over `dataDir`. `readCode`
 * answers each code request (a run that asks without one fails: it was not expected to ask);
 * `twofa`, the manifest's, is what a background run of an account that never logged in expects.
 */
export async function runKonnector(
  konnector: BaseKonnector,
  options: {
    dataDir: string;
    fields: Record<string, string>;
    mode?: RunMode;
    readCode?: CodeReader;
    twoFaTimeoutCapMs?: number;
    /** The manifest's `twofa` (see StandaloneHostOptions): what a background run is told to expect. */
    twofa?: TwoFaType[];
    /** The fields the manifest types `password` (see StandaloneHostOptions). */
    secretFields?: string[];
  },
): Promise<RecordedRun> {
  const states: AccountState[] = [];
  const logs: LogEntry[] = [];
  const codeRequests: RecordedRun['codeRequests'] = [];
  const host = new StandaloneHost({
    dataDir: options.dataDir,
    fields: options.fields,
    mode: options.mode ?? 'manual',
    ...(options.twoFaTimeoutCapMs ? { twoFaTimeoutCapMs: options.twoFaTimeoutCapMs } : {}),
    ...(options.twofa ? { twofa: options.twofa } : {}),
    ...(options.secretFields ? { secretFields: options.secretFields } : {}),
    codeReader: (request) => {
      codeRequests.push({ type: request.type, retry: request.retry });
      if (!options.readCode) throw new Error('this run was not expected to ask for a code');
      return options.readCode(request);
    },
    onLog: (entry) => logs.push(entry),
    onStateChange: (state) => states.push(state),
  });
  const result = await konnector.run({ host });
  return { result, states, logs, codeRequests, host };
}

/** The index of saved files (`files.json`) the standalone host keeps in `dataDir`. */
export function savedIndex(dataDir: string): FileEntry[] {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'files.json'), 'utf8')) as FileEntry[];
  } catch {
    return [];
  }
}

/** Every saved file on disk, as its path under `files/` (`a.pdf`, `bills/2024/b.pdf`), sorted. */
export function filesOnDisk(dataDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else found.push(`${prefix}${entry.name}`);
    }
  };
  try {
    walk(join(dataDir, 'files'), '');
  } catch (error) {
    // No files/ yet: nothing saved.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return found.sort();
}

/** One saved file's bytes by its path under `files/`, as latin1 text (PDFs compare byte for byte). */
export function readSaved(dataDir: string, path: string): string {
  return readFileSync(join(dataDir, 'files', path), 'latin1');
}

/** A six-digit code that is none of `valid`. */
export function wrongCode(...valid: Array<string | undefined>): string {
  for (let n = 123456; ; n = (n + 111111) % 1_000_000) {
    const code = String(n).padStart(6, '0');
    if (!valid.includes(code)) return code;
  }
}
