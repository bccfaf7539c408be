import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isTwoFaType, type TwoFaType } from '@gleaner/contracts/codes';
import type { KonnectorHost } from './host.js';

export const DEV_CONFIG_FILE = 'konnector-dev-config.json';

/**
 * The host a konnector process gets when nobody passed one: its parent's over IPC when it was
 * started by the stack or `gleaner run`, else a standalone host on `GLEANER_DATA` (default ./data)
 * with fields from konnector-dev-config.json and codes typed in this terminal.
 */
export async function defaultHost(): Promise<KonnectorHost> {
  // Each kind of host is loaded only when used.
  if (process.send) return new (await import('./ipc-host.js')).IpcHost();
  const [{ StandaloneHost }, { terminalCodeReader }] = await Promise.all([
    import('./standalone-host.js'),
    import('./terminal.js'),
  ]);
  const configFile = resolve(DEV_CONFIG_FILE);
  let config: { fields?: Record<string, string> };
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8')) as typeof config;
  } catch (error) {
    throw new Error(
      `no host: start this konnector with \`gleaner run\`, or write ${configFile} with {"fields": {...}} (${(error as Error).message})`,
    );
  }
  return new StandaloneHost({
    dataDir: process.env.GLEANER_DATA ?? 'data',
    fields: config.fields ?? {},
    ...manifestHints(),
    mode: process.env.GLEANER_MODE === 'background' ? 'background' : 'manual',
    codeReader: terminalCodeReader(),
  });
}

/**
 * From the manifest.konnector in this folder, if there is one: its `twofa` (what a background run
 * expects) and the fields it types `password` (the run's secrets). Read by hand, not through the
 * contracts' manifest schema or `secretFieldNames`: that module loads zod, which a konnector never does.
 */
function manifestHints(): { twofa: TwoFaType[]; secretFields: string[] } {
  try {
    const manifest = JSON.parse(readFileSync(resolve('manifest.konnector'), 'utf8')) as { twofa?: unknown; fields?: unknown };
    const fields = typeof manifest.fields === 'object' && manifest.fields !== null ? manifest.fields : {};
    return {
      twofa: Array.isArray(manifest.twofa) ? manifest.twofa.filter(isTwoFaType) : [],
      secretFields: Object.entries(fields as Record<string, { type?: unknown }>)
        .filter(([, field]) => field?.type === 'password')
        .map(([name]) => name),
    };
  } catch {
    return { twofa: [], secretFields: [] };
  }
}
