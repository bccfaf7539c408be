import type { Logger } from 'pino';
import type { StackEvent } from '@gleaner/contracts';
import type { PgNotifier } from '../storage/pg-notify.js';
import type { EventRecord, EventStore } from '../storage/stores.js';

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
 *
 * With a notifier (PostgreSQL, several nodes), live events are read back from the table rather than
 * pushed from memory: each append sends its id on `gleaner_events`, and every node reads the rows
 * after the last id it delivered, so all nodes deliver every node's events in the one id order
 * (the store makes ids visible in order: see its append). A notification missed while the LISTEN
 * connection was down is made up on reconnection, by reading after that same id.
 */
export class EventHub {
  readonly #store: EventStore;
  readonly #logger: Logger;
  readonly #retention: number;
  readonly #subscribers = new Set<Subscriber>();
  #chain: Promise<unknown> = Promise.resolve();
  #appended = 0;
  #now: () => number;
  readonly #notifier: PgNotifier | null;
  /** With a notifier: the last id delivered live (read from storage once at start). */
  #cursor = 0;
  #ready: Promise<void> = Promise.resolve();
  #reading: Promise<void> | null = null;
  #readAgain = false;
  readonly #stops: (() => void)[] = [];

  constructor(
    store: EventStore,
    options: { logger: Logger; retention: number; now: () => number; notifier?: PgNotifier | null },
  ) {
    this.#store = store;
    this.#logger = options.logger;
    this.#retention = options.retention;
    this.#now = options.now;
    this.#notifier = options.notifier ?? null;
    if (this.#notifier) {
      this.#ready = store.lastId().then(
        (id) => {
          this.#cursor = id;
        },
        (error: unknown) => this.#logger.error({ err: error }, 'could not read the last event id'),
      );
      this.#stops.push(
        this.#notifier.listen('gleaner_events', (payload) => {
          if (Number(payload) > this.#cursor) void this.#readNew();
        }),
        this.#notifier.onReconnect(() => void this.#readNew()),
      );
    }
  }

  /** Stops listening to other nodes' events (the stack is closing). */
  close(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }

  /** Appends an event and pushes it to subscribers, in id order; resolves once stored. */
  publish(input: StackEventInput): Promise<StackEvent | null> {
    const next = this.#chain.then(async () => {
      await this.#ready;
      const at = new Date(this.#now()).toISOString();
      const id = await this.#store.append({ type: input.type, at, payload: JSON.stringify(input) });
      const event = { ...input, id, at };
      if (this.#notifier) {
        await this.#notifier.notify('gleaner_events', String(id)).catch((error: unknown) => {
          // Other nodes read it with the next event, or when their connection comes back.
          this.#logger.warn({ err: error, id }, 'could not tell other nodes of an event');
        });
        await this.#readNew();
      } else for (const subscriber of this.#subscribers) this.#offer(subscriber, event);
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
      lastId: afterId ?? this.#cursor,
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

  /** Reads the events after the cursor (any node's) and delivers them; one read at a time, again if asked meanwhile. */
  #readNew(): Promise<void> {
    this.#readAgain = true;
    this.#reading ??= (async () => {
      await this.#ready;
      while (this.#readAgain) {
        this.#readAgain = false;
        try {
          for (;;) {
            const page = await this.#store.listAfter(this.#cursor, REPLAY_PAGE);
            for (const record of page) {
              this.#cursor = record.id;
              const event = toEvent(record);
              for (const subscriber of this.#subscribers) this.#offer(subscriber, event);
            }
            if (page.length < REPLAY_PAGE) break;
          }
        } catch (error) {
          this.#logger.error({ err: error }, 'could not read new events');
        }
      }
      // Cleared in the same step as the last check: a read asked for after it starts a new one.
      this.#reading = null;
    })();
    return this.#reading;
  }

  async #replay(subscriber: Subscriber): Promise<void> {
    try {
      for (;;) {
        const page = await this.#store.listAfter(subscriber.lastId, REPLAY_PAGE);
        if (subscriber.closed) return;
        for (const record of page) this.#deliver(subscriber, toEvent(record));
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

function toEvent(record: EventRecord): StackEvent {
  return { ...(JSON.parse(record.payload) as object), id: record.id, at: record.at } as StackEvent;
}
