/** Where a code source's secrets live (`codesource:<account>:<kind>`): they open for this account and kind only. */
export function codeSourceAad(accountId: string, kind: 'app_code' | 'email' | 'sms'): string {
  return `codesource:${accountId}:${kind}`;
}

/** Where a sealed account secret lives: bound into its ciphertext as associated data. */
export function accountAad(accountId: string, column: 'credentials' | 'session' | 'data'): string {
  return `account:${accountId}:${column}`;
}

/** Where a notification channel's secret (SMTP password, webhook secret, ntfy token) lives. */
export function channelAad(channelId: string): string {
  return `notification-channel:${channelId}:secret`;
}
