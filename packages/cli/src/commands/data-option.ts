/** `--data DIR` as every maintenance command takes it: the folder `gleaner serve` uses by default. */
export const dataOption = {
  type: 'path',
  value: 'DIR',
  default: 'data',
  description: 'the data folder, as for `gleaner serve`',
} as const;

/** `--database URL` as the stack's commands take it: a postgres:// URL, else GLEANER_DATABASE_URL, else SQLite. */
export const databaseOption = {
  type: 'string',
  value: 'URL',
  description: 'a postgres:// URL to keep the stores in (default GLEANER_DATABASE_URL, else SQLite in the data folder)',
} as const;

/** The database `--database` or GLEANER_DATABASE_URL names (an empty one counts as none), or undefined for SQLite. */
export function databaseFrom(option: string | undefined): string | undefined {
  return option ?? (process.env.GLEANER_DATABASE_URL || undefined);
}
