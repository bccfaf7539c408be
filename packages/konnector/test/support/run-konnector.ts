import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountState, RunMode } from '@gleaner/contracts';
import { StandaloneHost, type CodeReader } from '../../src/host/index.js';
import type { LogEntry } from '../../src/host/host.js';
import type { BaseKonnector, RunResult } from '../../src/index.js';

export type Recorded = { result: RunResult; states: AccountState[]; logs: LogEntry[]; codeRequests: number };

export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'gleaner-account-'));
}

/** Runs a konnector in this process on a standalone host, recording states, logs and code requests. */
export async function runKonnector(
  konnector: BaseKonnector,
  options: {
    dataDir: string;
    fields: Record<string, string>;
    mode?: RunMode;
    readCode?: CodeReader;
    twoFaTimeoutCapMs?: number;
  },
): Promise<Recorded & { host: StandaloneHost }> {
  const states: AccountState[] = [];
  const logs: LogEntry[] = [];
  let codeRequests = 0;
  const host = new StandaloneHost({
    dataDir: options.dataDir,
    fields: options.fields,
    mode: options.mode ?? 'manual',
    ...(options.twoFaTimeoutCapMs ? { twoFaTimeoutCapMs: options.twoFaTimeoutCapMs } : {}),
    codeReader: (request) => {
      codeRequests += 1;
      if (!options.readCode) throw new Error('this run was not expected to ask for a code');
      return options.readCode(request);
    },
    onLog: (entry) => logs.push(entry),
    onStateChange: (state) => states.push(state),
  });
  const result = await konnector.run({ host });
  return { result, states, logs, codeRequests, host };
}
