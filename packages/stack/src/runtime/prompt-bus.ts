import type { Logger } from 'pino';
import { Secret } from '@gleaner/contracts';
import type { Keyring } from '../secrets/keyring.js';
import type { PgNotifier } from '../storage/pg-notify.js';
import type { CodeSourceKind, PromptMessageStore } from '../storage/stores.js';

/**
 * What reaches the job waiting on a prompt: the accepted code (with the "trust this device" box),
 * and which code source gave it when no person did; the person's cancel, the lock after malformed codes, or a request for a new code (by `method`).
 */
export type PromptMessage =
  | { kind: 'code'; code: Secret<string>; trustDevice?: boolean; source?: CodeSourceKind }
  | { kind: 'cancelled' }
  | { kind: 'locked' }
  | { kind: 'resend'; method?: string };

/**
 * Carries an accepted code from where it was submitted to where the job waits. In one process it is
 * a map of waiters (InProcessPromptBus); with PostgreSQL and several nodes, PgPromptBus over
 * LISTEN/NOTIFY, with the same contract: pushed, never polled.
 */
export interface PromptBus {
  /** Waits for messages about this prompt; returns a function that stops waiting. */
  listen(promptId: string, onMessage: (message: PromptMessage) => void): () => void;
  /** Delivers to the waiter of this prompt, wherever it runs; resolves once handed over. */
  send(promptId: string, message: PromptMessage): Promise<void>;
  close(): Promise<void>;
}

export class InProcessPromptBus implements PromptBus {
  readonly #waiters = new Map<string, (message: PromptMessage) => void>();

  listen(promptId: string, onMessage: (message: PromptMessage) => void): () => void {
    this.#waiters.set(promptId, onMessage);
    return () => {
      if (this.#waiters.get(promptId) === onMessage) this.#waiters.delete(promptId);
    };
  }

  async send(promptId: string, message: PromptMessage): Promise<void> {
    this.#waiters.get(promptId)?.(message);
  }

  async close(): Promise<void> {
    this.#waiters.clear();
  }
}

/** Where a code waits in the mailbox: bound into its sealed value, so it opens for this prompt only. */
export function promptCodeAad(promptId: string): string {
  return `prompt:${promptId}:code`;
}

/** A PromptMessage as it is sealed into the mailbox (the code revealed only inside the sealed value). */
type WireMessage =
  | { kind: 'code'; code: string; trustDevice?: boolean; source?: CodeSourceKind }
  | { kind: 'cancelled' }
  | { kind: 'locked' }
  | { kind: 'resend'; method?: string };

function wireMessage(message: PromptMessage): WireMessage {
  return message.kind === 'code' ? { ...message, code: message.code.reveal() } : message;
}

function fromWire(message: WireMessage): PromptMessage {
  return message.kind === 'code' ? { ...message, code: new Secret(message.code) } : message;
}

/** How long an untaken message stays in the mailbox (its job is gone after the longest wait). */
const MESSAGE_TTL_MS = 60 * 60_000;

/**
 * The PromptBus of several nodes on one PostgreSQL database. A message is left in the database's
 * mailbox (the code sealed with the keyring every node shares, bound to its prompt), then the
 * prompt's id is sent on `gleaner_prompts`: the node whose job waits on it takes the message, so it
 * is delivered once, whichever node answered. A notification missed while this node's LISTEN
 * connection was down is made up on reconnection: each waiter looks into the mailbox again. A
 * message for a job of this node skips the mailbox.
 */
export class PgPromptBus implements PromptBus {
  readonly #waiters = new Map<string, (message: PromptMessage) => void>();
  readonly #store: PromptMessageStore;
  readonly #notifier: PgNotifier;
  readonly #keyring: () => Keyring;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #stops: (() => void)[];

  constructor(options: {
    store: PromptMessageStore;
    notifier: PgNotifier;
    /** The current keyring (a rotation replaces it). */
    keyring: () => Keyring;
    logger: Logger;
    now: () => number;
  }) {
    this.#store = options.store;
    this.#notifier = options.notifier;
    this.#keyring = options.keyring;
    this.#logger = options.logger;
    this.#now = options.now;
    this.#stops = [
      this.#notifier.listen('gleaner_prompts', (promptId) => {
        if (this.#waiters.has(promptId)) void this.#take(promptId, 'notification');
      }),
      this.#notifier.onReconnect(() => {
        for (const promptId of this.#waiters.keys()) void this.#take(promptId, 'reconnection');
      }),
    ];
  }

  listen(promptId: string, onMessage: (message: PromptMessage) => void): () => void {
    this.#waiters.set(promptId, onMessage);
    return () => {
      if (this.#waiters.get(promptId) === onMessage) this.#waiters.delete(promptId);
    };
  }

  async send(promptId: string, message: PromptMessage): Promise<void> {
    const local = this.#waiters.get(promptId);
    if (local) {
      local(message);
      return;
    }
    const at = this.#now();
    await this.#store.put({
      promptId,
      kind: message.kind,
      sealed: this.#keyring().seal(JSON.stringify(wireMessage(message)), promptCodeAad(promptId)),
      at: new Date(at).toISOString(),
    });
    // Left in the mailbox, the message is handed over: a node that misses the notification (its
    // LISTEN connection down) takes it when its connection comes back; a failed send is tried twice.
    const notify = () => this.#notifier.notify('gleaner_prompts', promptId);
    await notify()
      .catch(notify)
      .catch((error: unknown) => {
        this.#logger.warn({ err: error, promptId }, 'could not notify the node of a waiting job: it reads the mailbox on reconnection');
      });
    await this.#store.prune(new Date(at - MESSAGE_TTL_MS).toISOString()).catch((error: unknown) => {
      this.#logger.warn({ err: error }, 'could not prune old prompt messages');
    });
  }

  async close(): Promise<void> {
    for (const stop of this.#stops) stop();
    this.#waiters.clear();
  }

  async #take(promptId: string, after: 'notification' | 'reconnection'): Promise<void> {
    try {
      const record = await this.#store.take(promptId);
      if (!record) return;
      const waiter = this.#waiters.get(promptId);
      if (!waiter) {
        this.#logger.warn({ promptId }, 'a prompt message came after its job stopped waiting: dropped');
        return;
      }
      this.#logger.debug({ promptId, kind: record.kind, after }, 'prompt message taken from the mailbox');
      waiter(fromWire(JSON.parse(this.#keyring().open(record.sealed ?? '', promptCodeAad(promptId))) as WireMessage));
    } catch (error) {
      this.#logger.error({ err: error, promptId }, 'could not take a prompt message');
    }
  }
}
