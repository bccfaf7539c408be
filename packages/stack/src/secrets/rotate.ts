import type { Storage } from '../storage/stores.js';
import {
  createKeyFile,
  FORGOTTEN,
  Keyring,
  loadKeyring,
  SecretKeyError,
  UnreadableSecretError,
  type UnreadableReason,
} from './keyring.js';
import { accountAad, channelAad, codeSourceAad } from './sealed.js';

/** A sealed account value that does not open (left as it is: a key restored later may open it). */
export type UnreadableSecret = {
  accountId: string;
  column: 'credentials' | 'session' | 'data';
  reason: UnreadableReason;
  keyId: string;
};

export type RotationResult = { keyId: string; accounts: number; resealed: number; unreadable: UnreadableSecret[] };

/** The key ids the sealed account values name, each with how many values it seals. */
export async function sealedKeyIds(storage: Storage): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const account of await storage.accounts.list()) {
    const sources = (await storage.codeSources.list(account.id)).map((source) => source.sealed);
    for (const sealed of [account.credentials, account.session, account.data, ...sources]) {
      if (sealed === null || sealed === FORGOTTEN) continue;
      const id = Keyring.keyIdOf(sealed);
      ids.set(id, (ids.get(id) ?? 0) + 1);
    }
  }
  for (const channel of await storage.notifications.listChannels()) {
    if (channel.secret === null) continue;
    const id = Keyring.keyIdOf(channel.secret);
    ids.set(id, (ids.get(id) ?? 0) + 1);
  }
  return ids;
}

/**
 * Re-seals every secret (credentials, session, account data) that is not under the keyring's
 * current key, in one transaction. Old keys stay loaded, so a crash half-way leaves nothing unreadable.
 * A value that does not open is left untouched and listed in `unreadable`, whatever its key.
 */
export async function resealAll(storage: Storage, keyring: Keyring): Promise<RotationResult> {
  let resealed = 0;
  const unreadable: UnreadableSecret[] = [];
  const accounts = await storage.accounts.list();
  await storage.transaction(async (tx) => {
    for (const account of accounts) {
      const patch: { credentials?: string; session?: string | null; data?: string | null } = {};
      for (const column of ['credentials', 'session', 'data'] as const) {
        const sealed = account[column];
        if (sealed === null) continue;
        const aad = accountAad(account.id, column);
        let plain: string;
        try {
          // Opened even under the current key: a value that no longer opens is found at start, not mid-run.
          plain = keyring.open(sealed, aad);
        } catch (error) {
          if (!(error instanceof UnreadableSecretError)) throw error;
          unreadable.push({ accountId: account.id, column, reason: error.reason, keyId: error.keyId });
          continue;
        }
        if (Keyring.keyIdOf(sealed) === keyring.currentId) continue;
        patch[column] = keyring.seal(plain, aad);
        resealed++;
      }
      if (Object.keys(patch).length) await tx.accounts.update(account.id, patch);
      // The account's code sources (authenticator secret, mailbox password, webhook secret) too.
      for (const source of await tx.codeSources.list(account.id)) {
        if (source.sealed === FORGOTTEN) continue;
        const aad = codeSourceAad(account.id, source.kind);
        let plain: string;
        try {
          plain = keyring.open(source.sealed, aad);
        } catch (error) {
          // Left as it is, like an unreadable credential; the source says so when it is used.
          if (!(error instanceof UnreadableSecretError)) throw error;
          continue;
        }
        if (Keyring.keyIdOf(source.sealed) === keyring.currentId) continue;
        await tx.codeSources.put({ ...source, sealed: keyring.seal(plain, aad) });
        resealed++;
      }
    }
    // The notification channels' secrets too; one that does not open is left (its test button says so).
    for (const channel of await tx.notifications.listChannels()) {
      if (channel.secret === null || Keyring.keyIdOf(channel.secret) === keyring.currentId) continue;
      let plain: string;
      try {
        plain = keyring.open(channel.secret, channelAad(channel.id));
      } catch (error) {
        if (!(error instanceof UnreadableSecretError)) throw error;
        continue;
      }
      await tx.notifications.updateChannel(channel.id, { secret: keyring.seal(plain, channelAad(channel.id)) });
      resealed++;
    }
  });
  return { keyId: keyring.currentId, accounts: accounts.length, resealed, unreadable };
}

/**
 * Rotates the key: creates `<dataDir>/keys/<newKeyId>.key`, makes it current, and re-seals every
 * secret under it; the old key files stay (delete them once no backup needs them).
 * With GLEANER_SECRET_KEY in the environment, set the new key there instead and call `resealAll`.
 */
export async function rotateSecretKey(
  storage: Storage,
  dataDir: string,
  options: { newKeyId?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ keyring: Keyring } & RotationResult> {
  if ((options.env ?? process.env).GLEANER_SECRET_KEY) {
    throw new SecretKeyError(
      'the key comes from GLEANER_SECRET_KEY: save the old one as keys/<old id>.key (mode 0600), set the new one with a new GLEANER_SECRET_KEY_ID, and re-seal with resealAll',
    );
  }
  const newKeyId = options.newKeyId;
  const before = loadKeyring({ dataDir, env: {}, sealedKeyIds: await sealedKeyIds(storage) });
  const id = newKeyId ?? nextKeyId(before.keyIds());
  createKeyFile(dataDir, id);
  const keyring = loadKeyring({ dataDir, env: {} });
  return { keyring, ...(await resealAll(storage, keyring)) };
}

export function nextKeyId(ids: string[]): string {
  const numbers = ids
    .map((id) => /^k(\d+)$/.exec(id)?.[1])
    .filter((n): n is string => !!n)
    .map(Number);
  return `k${Math.max(0, ...numbers) + 1}`;
}
