import type { Logger } from 'pino';
import type { UnreadableReason } from '../secrets/keyring.js';
import type { UnreadableSecret } from '../secrets/rotate.js';
import type { Storage } from '../storage/stores.js';
import { iso } from './clock.js';

export const CREDENTIALS_UNREADABLE = 'USER_ACTION_NEEDED.CREDENTIALS_UNREADABLE';

/** Why a sealed value of an account does not open, in words for a log (never the value). */
export function unreadableWhy(reason: UnreadableReason, keyId: string): string {
  if (reason === 'forgotten') return 'it was cleared by gleaner forget-secrets';
  return reason === 'tampered'
    ? 'it was altered, or copied from another account'
    : `it was sealed with key ${keyId}, which is not loaded (restore keys/${keyId}.key to read it)`;
}

const consequence = {
  credentials: 'the account needs its password again',
  session: 'the next run logs in again',
  data: 'the next run starts without it',
} as const;

/**
 * At start: every account value that does not open is logged (account, column, why); an account whose
 * credentials do not open is paused with CREDENTIALS_UNREADABLE, and one paused so whose credentials
 * open again (its key restored) is no longer. Nothing is deleted: a key restored later opens it all.
 */
export async function markUnreadableAccounts(
  storage: Storage,
  unreadable: UnreadableSecret[],
  logger: Logger,
  now: number,
): Promise<void> {
  for (const { accountId, column, reason, keyId } of unreadable) {
    logger.error(
      { accountId, column, reason, keyId },
      `the ${column} of account ${accountId} cannot be read: ${unreadableWhy(reason, keyId)}; ${consequence[column]}`,
    );
  }
  const lost = new Set(unreadable.filter((u) => u.column === 'credentials').map((u) => u.accountId));
  for (const account of await storage.accounts.list()) {
    const marked = account.pausedBy === CREDENTIALS_UNREADABLE;
    if (lost.has(account.id) && !marked)
      await storage.accounts.update(account.id, { pausedBy: CREDENTIALS_UNREADABLE, updatedAt: iso(now) });
    else if (!lost.has(account.id) && marked) {
      await storage.accounts.update(account.id, { pausedBy: null, updatedAt: iso(now) });
      logger.info({ accountId: account.id }, `the credentials of account ${account.id} can be read again`);
    }
  }
}
