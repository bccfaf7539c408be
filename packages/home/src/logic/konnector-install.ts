import type { KonnectorInfo } from '@gleaner/contracts';

/** The largest package the stack accepts (shared decision 1): checked before uploading, named when refused. */
export const PACKAGE_MAX_BYTES = 50 * 1024 * 1024;

/** One thing wrong with a package, as the stack names it (`path` inside the package, or a manifest field). */
export interface PackageProblem {
  path: string;
  message: string;
}

/** What an install came to, from the stack's answer to `POST /api/konnectors`. */
export type InstallOutcome =
  | { kind: 'installed'; konnector: KonnectorInfo; previousVersion: string | null }
  /** The package itself is wrong: nothing was installed. */
  | { kind: 'refused'; message: string; problems: PackageProblem[] }
  /** A downgrade or the same version again: allowed only when forced. */
  | { kind: 'needs-force'; message: string };

/** What a removal came to, from the stack's answer to `DELETE /api/konnectors/:slug`. */
export type UninstallOutcome =
  | { kind: 'removed' }
  /** Accounts still use it: refused unless forced. */
  | { kind: 'in-use'; accounts: number; message: string };

/**
 * The outcome of an install answer (201, 400, 409, 413); null for any other status, which the client
 * turns into an ordinary request error (signed out, refused, server down).
 */
export function installOutcome(status: number, body: unknown): InstallOutcome | null {
  const record = asRecord(body);
  const message = typeof record.message === 'string' ? record.message : '';
  if (status === 201 || status === 200) {
    const konnector = asRecord(record.konnector) as unknown as KonnectorInfo;
    if (!konnector || typeof konnector.slug !== 'string') return null;
    const previousVersion = typeof record.previousVersion === 'string' ? record.previousVersion : null;
    return { kind: 'installed', konnector, previousVersion };
  }
  if (status === 400)
    return {
      kind: 'refused',
      message: message || 'The server did not accept this package.',
      problems: problemsOf(record.problems),
    };
  if (status === 409)
    return {
      kind: 'needs-force',
      message: message || 'This version is not newer than the one installed.',
    };
  if (status === 413)
    return {
      kind: 'refused',
      message: `The package is larger than the server accepts (${formatBytes(PACKAGE_MAX_BYTES)}).`,
      problems: [],
    };
  return null;
}

/** The outcome of a removal answer (204, 409); null for any other status. */
export function uninstallOutcome(status: number, body: unknown): UninstallOutcome | null {
  if (status === 204 || status === 200) return { kind: 'removed' };
  if (status !== 409) return null;
  const record = asRecord(body);
  const accounts = typeof record.accounts === 'number' && record.accounts >= 0 ? record.accounts : 0;
  const message = typeof record.message === 'string' && record.message ? record.message : accountsUsing(accounts);
  return { kind: 'in-use', accounts, message };
}

/** Why a chosen file cannot be a konnector package, before sending it (null: send it). */
export function checkPackageFile(file: { name: string; size: number } | null | undefined): string | null {
  if (!file) return 'Choose a konnector package (a .tgz file) first.';
  if (!/\.(tgz|tar\.gz)$/i.test(file.name))
    return `${file.name} is not a konnector package: choose the .tgz file that gleaner pack wrote.`;
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > PACKAGE_MAX_BYTES)
    return `${file.name} is ${formatBytes(file.size)}: a package may be at most ${formatBytes(PACKAGE_MAX_BYTES)}.`;
  return null;
}

/** The sentence after an install: "GitHub 0.2.0 installed, replacing 0.1.0." */
export function installedSentence(konnector: Pick<KonnectorInfo, 'name' | 'version'>, previous: string | null): string {
  const what = `${konnector.name} ${konnector.version}`;
  if (previous === null) return `${what} installed.`;
  if (previous === konnector.version) return `${what} installed again.`;
  return `${what} installed, replacing ${previous}.`;
}

/**
 * True when the konnector just installed is not the one jobs will use: a development folder of the same
 * slug wins over an installed package.
 */
export function hiddenByDevelopment(
  installed: Pick<KonnectorInfo, 'slug'>,
  listed: readonly Pick<KonnectorInfo, 'slug' | 'source'>[] | null,
): boolean {
  return listed?.some((k) => k.slug === installed.slug && k.source === 'development') ?? false;
}

/** "1 account uses GitHub.", "3 accounts use it.", "No account uses it." */
export function accountsUsing(count: number, what = 'it'): string {
  if (count === 0) return `No account uses ${what}.`;
  return count === 1 ? `1 account uses ${what}.` : `${count} accounts use ${what}.`;
}

/** The removal dialog's warning when accounts still use the konnector (the stack's 409). */
export function removeInUseSentence(count: number, name: string): string {
  const who = count === 1 ? 'that account stops' : 'those accounts stop';
  return `${accountsUsing(count, name)} Removed anyway, ${who} running until ${name} is installed again; ${count === 1 ? 'its' : 'their'} documents stay.`;
}

/** What the upload is doing, for the progress line: the share sent, then the server's check. */
export function uploadStatus(loaded: number, total: number): { percent: number; label: string } {
  if (total <= 0) return { percent: 0, label: 'Uploading…' };
  const percent = Math.min(100, Math.floor((loaded / total) * 100));
  return percent >= 100
    ? { percent: 100, label: 'Checking the package…' }
    : { percent, label: `Uploading… ${percent}%` };
}

/** A size in words: 812 bytes, 4.2 KiB, 50 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = value >= 10 || Number.isInteger(value) ? Math.round(value).toString() : value.toFixed(1);
  return `${shown} ${units[unit]}`;
}

function problemsOf(value: unknown): PackageProblem[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    const record = asRecord(item);
    if (typeof record.message !== 'string') return [];
    return [{ path: typeof record.path === 'string' ? record.path : '', message: record.message }];
  });
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}
