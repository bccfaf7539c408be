/** What a failed write says about the folder under it: full, read-only, or not ours to write. */
export type DiskFaultKind = 'full' | 'read-only' | 'permission';

const ERRNO_KINDS: Record<string, DiskFaultKind> = {
  ENOSPC: 'full',
  EDQUOT: 'full',
  SQLITE_FULL: 'full',
  EROFS: 'read-only',
  SQLITE_READONLY: 'read-only',
  SQLITE_READONLY_DBMOVED: 'read-only',
  SQLITE_READONLY_DIRECTORY: 'read-only',
  SQLITE_READONLY_RECOVERY: 'read-only',
  SQLITE_READONLY_ROLLBACK: 'read-only',
  SQLITE_READONLY_CANTINIT: 'read-only',
  SQLITE_READONLY_CANTLOCK: 'read-only',
  EACCES: 'permission',
  EPERM: 'permission',
  SQLITE_PERM: 'permission',
};

// better-sqlite3 sometimes reports the fault only in its message (a failed rollback after a full disk).
const MESSAGE_KINDS: [RegExp, DiskFaultKind][] = [
  [/database or disk is full|no space left on device/i, 'full'],
  [/read-?only (database|file system)|attempt to write a readonly database/i, 'read-only'],
];

/** The kind of disk fault behind an error (its errno or SQLite code, or a cause's), or null. */
export function diskFaultKind(error: unknown): DiskFaultKind | null {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof DiskFaultError) return current.kind;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && ERRNO_KINDS[code]) return ERRNO_KINDS[code];
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string')
      for (const [pattern, kind] of MESSAGE_KINDS) if (pattern.test(message)) return kind;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/** A write refused by the disk under `folder`; the message is one plain sentence naming it. */
export class DiskFaultError extends Error {
  override name = 'DiskFaultError';
  readonly kind: DiskFaultKind;
  readonly folder: string;
  constructor(kind: DiskFaultKind, folder: string, options?: { cause?: unknown }) {
    super(diskFaultSentence(kind, folder), options);
    this.kind = kind;
    this.folder = folder;
  }
}

/** The sentence a person reads for a disk fault on `folder`. */
export function diskFaultSentence(kind: DiskFaultKind, folder: string): string {
  if (kind === 'full') return `the disk holding ${folder} is full: free some space, then try again`;
  if (kind === 'read-only') return `the folder ${folder} is read-only: make it writable, then try again`;
  return `no permission to write in ${folder}: give this user write access to it, then try again`;
}

/** `error` as a DiskFaultError on `folder` when it is one, else `error` itself. */
export function asDiskFault(error: unknown, folder: string): unknown {
  if (error instanceof DiskFaultError) return error;
  const kind = diskFaultKind(error);
  return kind ? new DiskFaultError(kind, folder, { cause: error }) : error;
}

/** The HTTP status for a disk fault: 507 when full, 503 when read-only or not permitted. */
export function diskFaultStatus(kind: DiskFaultKind): 503 | 507 {
  return kind === 'full' ? 507 : 503;
}
