import pg from 'pg';
import type { Logger } from 'pino';
import { redactDatabaseUrl } from './postgres.js';

/** The channels nodes talk on. A payload is at most 8000 bytes (PostgreSQL's limit): ids, never bodies. */
export type NotifyChannel = 'gleaner_events' | 'gleaner_prompts' | 'gleaner_jobs';

type Handler = (payload: string) => void;

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

/**
 * PostgreSQL LISTEN/NOTIFY for one node: one connection of its own that listens on every channel a
 * handler wants, reconnected with backoff when it drops. While it is down, notifications are lost:
 * `onReconnect` handlers run after each reconnection so that listeners catch up from the database
 * (events by id, prompts and jobs by their rows). `notify` goes through the same connection, so a node
 * also hears what it sends itself.
 */
export class PgNotifier {
  readonly #database: string;
  readonly #logger: Logger | undefined;
  readonly #handlers = new Map<NotifyChannel, Set<Handler>>();
  readonly #reconnected = new Set<() => void>();
  #client: pg.Client | null = null;
  #connecting: Promise<pg.Client> | null = null;
  #closed = false;
  #backoff = RECONNECT_MIN_MS;

  private constructor(database: string, logger: Logger | undefined) {
    this.#database = database;
    this.#logger = logger;
  }

  /** Connects (throws if the server cannot be reached) and returns the notifier. */
  static async open(database: string, logger?: Logger): Promise<PgNotifier> {
    const notifier = new PgNotifier(database, logger);
    await notifier.#connect();
    return notifier;
  }

  /** Calls `handler` with each payload sent on `channel` by any node; returns a function that stops it. */
  listen(channel: NotifyChannel, handler: Handler): () => void {
    let set = this.#handlers.get(channel);
    if (!set) {
      set = new Set();
      this.#handlers.set(channel, set);
      void this.#client?.query(`listen ${channel}`).catch((error: unknown) => this.#lost(error));
    }
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  /** Runs `handler` after each reconnection (notifications sent while down were missed). */
  onReconnect(handler: () => void): () => void {
    this.#reconnected.add(handler);
    return () => {
      this.#reconnected.delete(handler);
    };
  }

  /** Sends `payload` to every node listening on `channel` (this one included); resolves once sent. */
  async notify(channel: NotifyChannel, payload: string): Promise<void> {
    const client = this.#client ?? (await this.#connect());
    await client.query('select pg_notify($1, $2)', [channel, payload]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  #connect(): Promise<pg.Client> {
    // A notify may have reconnected before the retry did: one connection, never a second listening beside it.
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.#database, keepAlive: true });
      client.on('error', (error) => this.#lost(error));
      client.on('end', () => {
        if (this.#client === client) this.#lost(new Error('connection ended'));
      });
      client.on('notification', (message) => {
        const handlers = this.#handlers.get(message.channel as NotifyChannel);
        for (const handler of handlers ?? []) {
          try {
            handler(message.payload ?? '');
          } catch (error) {
            this.#logger?.warn({ err: error, channel: message.channel }, 'a notification handler threw');
          }
        }
      });
      try {
        await client.connect();
        for (const channel of this.#handlers.keys()) await client.query(`listen ${channel}`);
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      this.#client = client;
      this.#backoff = RECONNECT_MIN_MS;
      return client;
    })().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  #lost(error: unknown): void {
    if (this.#closed || this.#client === null) return;
    const client = this.#client;
    this.#client = null;
    void client.end().catch(() => undefined);
    this.#logger?.warn(
      { database: redactDatabaseUrl(this.#database), err: (error as Error)?.message },
      'the LISTEN connection to PostgreSQL dropped: reconnecting',
    );
    const retry = () => {
      if (this.#closed) return;
      this.#connect().then(
        () => {
          for (const handler of this.#reconnected) handler();
        },
        () => {
          this.#backoff = Math.min(this.#backoff * 2, RECONNECT_MAX_MS);
          setTimeout(retry, this.#backoff).unref();
        },
      );
    };
    setTimeout(retry, this.#backoff).unref();
  }
}
