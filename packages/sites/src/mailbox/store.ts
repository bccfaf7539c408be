import { EventEmitter } from 'node:events';

/** One message in an INBOX: its UID, when the mailbox received it, and its RFC 5322 bytes. */
export interface StoredMessage {
  uid: number;
  internalDate: Date;
  raw: Buffer;
}

interface Box {
  password: string;
  inbox: StoredMessage[];
  nextUid: number;
}

/** Addresses are compared without case, as mail servers do for the domain and most do for the local part. */
export const addressKey = (address: string) => address.trim().toLowerCase();
const key = addressKey;

/**
 * The demo's mail, in memory: per address an app password and an INBOX. Nothing is kept on disk, so
 * the UIDVALIDITY is the time the store was made: after a restart the UIDs start again at 1, and a
 * client that remembered a UID of the old store (the stack spends the UID it took a code from) must
 * see that they are not the same UIDs.
 */
export class MailStore {
  readonly uidValidity = Math.floor(Date.now() / 1000);
  readonly #boxes = new Map<string, Box>();
  readonly #events = new EventEmitter();

  constructor(users: Record<string, string> = {}) {
    // One listener per open IMAP session: a demo with many tabs and runs is not a leak.
    this.#events.setMaxListeners(0);
    for (const [address, password] of Object.entries(users)) this.addUser(address, password);
  }

  /** Adds a mailbox (or changes its password, keeping its mail). */
  addUser(address: string, password: string): void {
    const box = this.#boxes.get(key(address));
    if (box) box.password = password;
    else this.#boxes.set(key(address), { password, inbox: [], nextUid: 1 });
  }

  has(address: string): boolean {
    return this.#boxes.has(key(address));
  }

  /** Whether `password` opens `address`'s mailbox (false for an unknown address). */
  checkPassword(address: string, password: string): boolean {
    return this.#boxes.get(key(address))?.password === password;
  }

  /** Puts a message in the address's INBOX, received `at` (default now); throws for an unknown address. */
  deliver(address: string, raw: Buffer | string, at: Date = new Date()): StoredMessage {
    const box = this.#boxes.get(key(address));
    if (!box) throw new Error(`no mailbox for ${address}`);
    // IMAP dates carry whole seconds: the stored date is the one the client will read.
    const message = {
      uid: box.nextUid++,
      internalDate: new Date(Math.floor(at.getTime() / 1000) * 1000),
      raw: Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'),
    };
    box.inbox.push(message);
    this.#events.emit('delivered', key(address), message);
    return message;
  }

  /** The address's INBOX, oldest first (empty for an unknown address). */
  inbox(address: string): readonly StoredMessage[] {
    return this.#boxes.get(key(address))?.inbox ?? [];
  }

  /** Calls `listener` for each new message (with the address in lower case); returns the unsubscribe. */
  onDelivered(listener: (address: string, message: StoredMessage) => void): () => void {
    this.#events.on('delivered', listener);
    return () => this.#events.off('delivered', listener);
  }
}
