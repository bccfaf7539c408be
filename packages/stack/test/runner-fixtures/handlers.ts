import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AccountState, RunContext } from '@gleaner/contracts';
import type { HostHandlers } from '@gleaner/konnector/host';
import {
  BWRAP_INSTALL_LINE,
  BWRAP_PATH,
  DEFAULT_SANDBOX_LIMITS,
  type SandboxLimits,
} from '../../src/runner/sandbox.js';
import type { SandboxSpawnOptions } from '../../src/runner/spawn-konnector.js';

/** The fixtures stay in the source tree: tests run from dist/test/… */
export const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../test/fixtures');
export const fixture = (name: string): string => join(FIXTURES, name);

/** Fails (never skips) where bubblewrap is missing, naming the install line. */
export function requireBwrap(): void {
  if (!existsSync(BWRAP_PATH))
    throw new Error(`bubblewrap is missing (${BWRAP_PATH}): install it with \`${BWRAP_INSTALL_LINE}\``);
}

/** The spawn options of a sandboxed run on this staging folder. */
export function sandboxed(
  stagingDir: string,
  limits: Partial<SandboxLimits> = {},
): { sandbox: SandboxSpawnOptions; stagingDir: string } {
  requireBwrap();
  return { sandbox: { limits: { ...DEFAULT_SANDBOX_LIMITS, ...limits }, masks: [] }, stagingDir };
}

export type Recorded = {
  logs: { level: string; message: string }[];
  states: AccountState[];
  data: Record<string, unknown>;
  codesAsked: number;
};

/** A host played by the test: records what the konnector does, answers 2FA with `code`. */
export function recordingHandlers(options: { fields?: Record<string, string>; code?: () => Promise<string> } = {}): {
  handlers: HostHandlers;
  recorded: Recorded;
  stagingDir: string;
} {
  const recorded: Recorded = { logs: [], states: [], data: {}, codesAsked: 0 };
  const stagingDir = mkdtempSync(join(tmpdir(), 'gleaner-runner-'));
  const context: RunContext = {
    jobId: 'job-1',
    accountId: 'account-1',
    konnector: 'test',
    mode: 'manual',
    fields: options.fields ?? {},
    state: null,
    stagingDir,
    twoFaTimeoutCapMs: 60_000,
    siteTwoFa: [],
  };
  const handlers: HostHandlers = {
    start: async () => context,
    updateAccountAttributes: async ({ attrs }) => {
      if (attrs.state !== undefined) recorded.states.push(attrs.state);
      return {};
    },
    getAccountData: async () => ({ data: recorded.data }),
    saveAccountData: async ({ data, merge }) => {
      recorded.data = merge ? { ...recorded.data, ...data } : data;
      return { data: recorded.data };
    },
    loadSession: async () => ({ session: null }),
    saveSession: async () => ({}),
    waitForTwoFaCode: async () => {
      recorded.codesAsked += 1;
      return { code: options.code ? await options.code() : '424242' };
    },
    twoFaResent: async () => ({ code: options.code ? await options.code() : '424242' }),
    twoFaApproved: async () => ({}),
    sessionHealth: async () => ({}),
    listFiles: async () => ({ files: [] }),
    saveFile: async () => {
      throw new Error('SAVE_FILE_FAILED');
    },
    onLog: (entry) => {
      recorded.logs.push({ level: entry.level, message: entry.message });
    },
  };
  return { handlers, recorded, stagingDir };
}

/** True while the process exists and is not a zombie (PID 1 here may not reap orphans). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S …": the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}
