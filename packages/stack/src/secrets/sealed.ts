/** Where a sealed account secret lives: bound into its ciphertext as associated data. */
export function accountAad(accountId: string, column: 'credentials' | 'session' | 'data'): string {
  return `account:${accountId}:${column}`;
}
