import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountState, BaseKonnector, LogEntry, RunResult } from '@gleaner/konnector';
import { StandaloneHost, type CodeReader, type CodeRequest } from '@gleaner/konnector/host';

export type Recorded = {
  result: RunResult;
  states: AccountState[];
  logs: LogEntry[];
  /** Every code the konnector asked for, in order. */
  codeRequests: Array<Pick<CodeRequest, 'type' | 'retry'>>;
};

export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'gleaner-amazon-'));
}

/** Runs a konnector in this process on a standalone host, recording states, logs and code requests. */
export async function runKonnector(
  konnector: BaseKonnector,
  options: { dataDir: string; fields: Record<string, string>; mode?: 'manual' | 'background'; readCode?: CodeReader },
): Promise<Recorded> {
  const states: AccountState[] = [];
  const logs: LogEntry[] = [];
  const codeRequests: Recorded['codeRequests'] = [];
  const host = new StandaloneHost({
    dataDir: options.dataDir,
    fields: options.fields,
    mode: options.mode ?? 'manual',
    codeReader: (request) => {
      codeRequests.push({ type: request.type, retry: request.retry });
      if (!options.readCode) throw new Error('this run was not expected to ask for a code');
      return options.readCode(request);
    },
    onLog: (entry) => logs.push(entry),
    onStateChange: (state) => states.push(state),
  });
  const result = await konnector.run({ host });
  return { result, states, logs, codeRequests };
}

export type SavedFile = {
  name: string;
  attributes: Record<string, string>;
  bill?: { vendor: string; amount: number; date: string; vendorRef?: string };
};

/** The files.json index the standalone host keeps. */
export function savedIndex(dataDir: string): SavedFile[] {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'files.json'), 'utf8')) as SavedFile[];
  } catch {
    return [];
  }
}

/** The names of the files on disk. */
export function filesOnDisk(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, 'files')).sort();
  } catch {
    return [];
  }
}

export function readSaved(dataDir: string, name: string): string {
  return readFileSync(join(dataDir, 'files', name), 'latin1');
}

/** A six-digit code that is none of `valid`. */
export function wrongCode(...valid: Array<string | undefined>): string {
  for (let n = 123456; ; n = (n + 111111) % 1_000_000) {
    const code = String(n).padStart(6, '0');
    if (!valid.includes(code)) return code;
  }
}
