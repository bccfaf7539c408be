import type { Storage } from '../storage/stores.js';
import { createKeyFile, Keyring, loadKeyring, SecretKeyError } from './keyring.js';
import { accountAad } from './sealed.js';

export type RotationResult = { keyId: string; accounts: number; resealed: number };

/**
 * Re-seals every secret (credentials, session, account data) that is not under the keyring's
 * current key, in one transaction. Old keys stay loaded, so a crash half-way leaves nothing unreadable.
 */
export async function resealAll(storage: Storage, keyring: Keyring): Promise<RotationResult> {
  let resealed = 0;
  const accounts = await storage.accounts.list();
  await storage.transaction(async (tx) => {
    for (const account of accounts) {
      const patch: { credentials?: string; session?: string | null; data?: string | null } = {};
      for (const column of ['credentials', 'session', 'data'] as const) {
        const sealed = account[column];
        if (sealed === null || Keyring.keyIdOf(sealed) === keyring.currentId) continue;
        const aad = accountAad(account.id, column);
        patch[column] = keyring.seal(keyring.open(sealed, aad), aad);
        resealed++;
      }
      if (Object.keys(patch).length) await tx.accounts.update(account.id, patch);
    }
  });
  return { keyId: keyring.currentId, accounts: accounts.length, resealed };
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
  const before = loadKeyring({ dataDir, env: {} });
  const id = newKeyId ?? nextKeyId(before.keyIds());
  createKeyFile(dataDir, id);
  const keyring = loadKeyring({ dataDir, env: {} });
  return { keyring, ...(await resealAll(storage, keyring)) };
}

function nextKeyId(ids: string[]): string {
  const numbers = ids
    .map((id) => /^k(\d+)$/.exec(id)?.[1])
    .filter((n): n is string => !!n)
    .map(Number);
  return `k${Math.max(0, ...numbers) + 1}`;
}
