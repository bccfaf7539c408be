import type { Logger } from 'pino';
import type { StackEvent } from '@gleaner/contracts';
import type { EventStore } from '../storage/stores.js';

/** A StackEvent before the hub numbers and dates it. */
export type StackEventInput = StackEvent extends infer E
  ? E extends StackEvent
    ? Omit<E, 'id' | 'at'>
    : never
  : never;

type Subscriber = {
  listener: (event: StackEvent) => void;
  lastId: number;
  replaying: boolean;
  buffer: StackEvent[];
  closed: boolean;
};

const REPLAY_PAGE = 500;
const PRUNE_EVERY = 200;

/**
 * Every change, in one ordered log: appended to the events table (ids only grow) and pushed to live
 * subscribers. A subscriber that gives the last id it saw gets the missed events from storage, then
 * the live ones, without a gap or a duplicate. Events never carry secrets or codes: the views they
 * hold are the API's (credentials are write-only, codes are never echoed).
 */
export class EventHub {
  readonly #store: EventStore;
  readonly #logger: Logger;
  readonly #retention: number;
  readonly #subscribers = new Set<Subscriber>();
  #chain: Promise<unknown> = Promise.resolve();
  #appended = 0;
  #now: () => number;

  constructor(store: EventStore, options: { logger: Logger; retention: number; now: () => number }) {
    this.#store = store;
    this.#logger = options.logger;
    this.#retention = options.retention;
    this.#now = options.now;
  }

  /** Appends an event and pushes it to subscribers, in id order; resolves once stored. */
  publish(input: StackEventInput): Promise<StackEvent | null> {
    const next = this.#chain.then(async () => {
      const at = new Date(this.#now()).toISOString();
      const id = await this.#store.append({ type: input.type, at, payload: JSON.stringify(input) });
      const event = { ...input, id, at };
      for (const subscriber of this.#subscribers) this.#offer(subscriber, event);
      if (++this.#appended % PRUNE_EVERY === 0) await this.#store.prune(this.#retention);
      return event;
    });
    this.#chain = next.catch((error: unknown) => {
      this.#logger.error({ err: error, type: input.type }, 'could not record an event');
    });
    return next.catch(() => null);
  }

  /** Events after `afterId` (from storage), then live ones; `null`: live ones only. */
  subscribe(afterId: number | null, listener: (event: StackEvent) => void): () => void {
    const subscriber: Subscriber = {
      listener,
      lastId: afterId ?? 0,
      replaying: afterId !== null,
      buffer: [],
      closed: false,
    };
    this.#subscribers.add(subscriber);
    if (afterId !== null) void this.#replay(subscriber);
    return () => {
      subscriber.closed = true;
      this.#subscribers.delete(subscriber);
    };
  }

  /** Resolves once every event published so far is stored and pushed. */
  async flush(): Promise<void> {
    await this.#chain;
  }

  async #replay(subscriber: Subscriber): Promise<void> {
    try {
      for (;;) {
        const page = await this.#store.listAfter(subscriber.lastId, REPLAY_PAGE);
        if (subscriber.closed) return;
        for (const record of page) {
          const event = { ...(JSON.parse(record.payload) as object), id: record.id, at: record.at } as StackEvent;
          this.#deliver(subscriber, event);
        }
        if (page.length < REPLAY_PAGE) break;
      }
    } catch (error) {
      this.#logger.error({ err: error }, 'could not replay events');
    }
    subscriber.replaying = false;
    const buffered = subscriber.buffer;
    subscriber.buffer = [];
    for (const event of buffered) this.#deliver(subscriber, event);
  }

  #offer(subscriber: Subscriber, event: StackEvent): void {
    if (subscriber.replaying) subscriber.buffer.push(event);
    else this.#deliver(subscriber, event);
  }

  #deliver(subscriber: Subscriber, event: StackEvent): void {
    if (subscriber.closed || event.id <= subscriber.lastId) return;
    subscriber.lastId = event.id;
    try {
      subscriber.listener(event);
    } catch (error) {
      this.#logger.warn({ err: error }, 'an event listener threw');
    }
  }
}
