import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = [];

/**
 * A fresh cwd for one konnector run: both SDKs read konnector-dev-config.json from the cwd when they
 * run standalone, and write their local data (the peer's importedData.json, Gleaner's GLEANER_DATA)
 * beside it.
 */
export function makeWorkdir(name, fields = { login: 'x', password: 'y' }) {
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  made.push(dir);
  writeFileSync(join(dir, 'konnector-dev-config.json'), JSON.stringify({ fields }, null, 2));
  mkdirSync(join(dir, 'data'));
  return dir;
}

export function removeWorkdirs() {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
