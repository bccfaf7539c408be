import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The key could not be loaded safely: the stack refuses to start. */
export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

/** Why a sealed value does not open: altered (or moved to another place), or sealed under a key not loaded. */
export type UnreadableReason = 'tampered' | 'unknown key id' | 'forgotten';

/** What `gleaner forget-secrets` leaves in place of a sealed value: it never opens. */
export const FORGOTTEN = 'forgotten:';

/** A sealed value that does not open. Its message names the reason and the key id, never the value. */
export class UnreadableSecretError extends Error {
  override name = 'UnreadableSecretError';
  constructor(
    readonly reason: UnreadableReason,
    readonly keyId: string,
  ) {
    super(
      reason === 'tampered'
        ? `a secret sealed with key ${JSON.stringify(keyId)} does not open: it was altered or belongs elsewhere`
        : reason === 'forgotten'
          ? 'a secret cleared by gleaner forget-secrets'
          : `cannot open a secret sealed with key ${JSON.stringify(keyId)}: that key is not loaded`,
    );
  }
}

/**
 * Seals and opens secrets with AES-256-GCM. A sealed value is `<keyId>:<base64(iv|tag|ciphertext)>`;
 * the key id says which key opens it, so old keys stay readable after a rotation. The associated
 * data (`aad`) binds a sealed value to its place (`account:<id>:credentials`): a value copied onto
 * another account does not open.
 */
export class Keyring {
  readonly #keys: Map<string, Buffer>;
  readonly currentId: string;

  constructor(keys: Map<string, Buffer>, currentId: string) {
    if (!keys.has(currentId)) throw new SecretKeyError(`no key with id ${currentId}`);
    this.#keys = keys;
    this.currentId = currentId;
  }

  keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  seal(plaintext: string, aad: string): string {
    const key = this.#keys.get(this.currentId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${this.currentId}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string, aad: string): string {
    if (sealed === FORGOTTEN) throw new UnreadableSecretError('forgotten', '');
    const colon = sealed.indexOf(':');
    const id = sealed.slice(0, colon);
    const key = colon > 0 ? this.#keys.get(id) : undefined;
    if (!key) throw new UnreadableSecretError('unknown key id', id);
    const raw = Buffer.from(sealed.slice(colon + 1), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new UnreadableSecretError('tampered', id);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new UnreadableSecretError('tampered', id);
    }
  }

  /** The id of the key a sealed value was sealed with. */
  static keyIdOf(sealed: string): string {
    return sealed.slice(0, Math.max(0, sealed.indexOf(':')));
  }
}

export type KeyringOptions = {
  dataDir: string;
  /** Defaults to process.env; GLEANER_SECRET_KEY (base64, 32 bytes) and GLEANER_SECRET_KEY_ID. */
  env?: NodeJS.ProcessEnv;
  /**
   * The key ids of what is sealed already, with their counts: while any is sealed, a missing key is
   * never made anew (the start is refused, naming the key and where to restore it from).
   */
  sealedKeyIds?: Map<string, number>;
};

export function keysDir(dataDir: string): string {
  return join(dataDir, 'keys');
}

/**
 * Loads the keys: every `<dataDir>/keys/<id>.key` (each must be mode 0600: otherwise it refuses,
 * naming the chmod to run), plus the key from the environment if set, which is then the current one.
 * Without either, it creates `keys/k1.key` (0600). There is no built-in default key.
 */
export function loadKeyring(options: KeyringOptions): Keyring {
  const env = options.env ?? process.env;
  const dir = keysDir(options.dataDir);
  const keys = new Map<string, Buffer>();
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('.key')) continue;
      const id = name.slice(0, -'.key'.length);
      keys.set(id, readKeyFile(join(dir, name), id));
    }
  }

  let currentId: string;
  if (env.GLEANER_SECRET_KEY) {
    currentId = env.GLEANER_SECRET_KEY_ID ?? 'k1';
    if (!KEY_ID.test(currentId))
      throw new SecretKeyError(`GLEANER_SECRET_KEY_ID must match ${KEY_ID}: got ${JSON.stringify(currentId)}`);
    const key = Buffer.from(env.GLEANER_SECRET_KEY, 'base64');
    if (key.length !== KEY_BYTES) {
      throw new SecretKeyError(
        `GLEANER_SECRET_KEY must be ${KEY_BYTES} bytes in base64 (e.g. \`openssl rand -base64 32\`); got ${key.length} bytes`,
      );
    }
    const onDisk = keys.get(currentId);
    if (onDisk && !onDisk.equals(key)) {
      throw new SecretKeyError(
        `GLEANER_SECRET_KEY differs from ${join(dir, `${currentId}.key`)} with the same id ${currentId}: set GLEANER_SECRET_KEY_ID to a new id`,
      );
    }
    keys.set(currentId, key);
  } else {
    const pointer = join(dir, 'current');
    if (existsSync(pointer)) {
      currentId = readFileSync(pointer, 'utf8').trim();
      if (!keys.has(currentId)) throw missingKey(dir, currentId, options.sealedKeyIds?.get(currentId) ?? 0);
    } else if (keys.size > 0) {
      throw new SecretKeyError(
        `${pointer} is missing: write the current key id in it (one of ${[...keys.keys()].join(', ')})`,
      );
    } else {
      const sealed = [...(options.sealedKeyIds ?? new Map<string, number>())].sort((a, b) => b[1] - a[1])[0];
      if (sealed) throw missingKey(dir, sealed[0], sealed[1]);
      currentId = 'k1';
      keys.set(currentId, createKeyFile(options.dataDir, currentId));
    }
  }
  return new Keyring(keys, currentId);
}

/** Creates `<dataDir>/keys/<id>.key` (random, mode 0600) and makes it the current key. */
export function createKeyFile(dataDir: string, id: string): Buffer {
  if (!KEY_ID.test(id)) throw new SecretKeyError(`a key id must match ${KEY_ID}: got ${JSON.stringify(id)}`);
  const dir = keysDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${id}.key`);
  if (existsSync(file)) throw new SecretKeyError(`${file} already exists`);
  const key = randomBytes(KEY_BYTES);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600); // the umask may have taken bits away, never added: this is belt and braces
  writeFileSync(join(dir, 'current'), `${id}\n`, { mode: 0o600 });
  return key;
}

/** Sets which key file seals new secrets. */
export function setCurrentKeyId(dataDir: string, id: string): void {
  writeFileSync(join(keysDir(dataDir), 'current'), `${id}\n`, { mode: 0o600 });
}

function missingKey(dir: string, id: string, count: number): SecretKeyError {
  return new SecretKeyError(
    `refusing to start: ${count ? `${count} saved secret(s) are sealed with key ${id}, but ` : ''}` +
      `${join(dir, `${id}.key`)} is missing: restore it (mode 0600, with ${join(dir, 'current')} holding ${id}) from your backup of the keys folder, ` +
      'or run `gleaner forget-secrets` to clear every saved password and session and start with a new key',
  );
}

function readKeyFile(file: string, id: string): Buffer {
  if (!KEY_ID.test(id)) throw new SecretKeyError(`${file}: a key id must match ${KEY_ID}`);
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new SecretKeyError(
      `refusing to start: the secret key file ${file} is readable by others (mode 0${mode.toString(8)}). Run: chmod 600 ${file}`,
    );
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new SecretKeyError(`${file} does not hold a ${KEY_BYTES}-byte base64 key`);
  return key;
}
