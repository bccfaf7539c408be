/**
 * At most `limit` holders per key (an origin) at a time; the others wait in order. Politeness towards
 * the sites: a konnector never has more than `limit` requests in flight to one of them.
 */
export class KeyedLimiter {
  readonly #limit: number;
  readonly #active = new Map<string, number>();
  readonly #waiting = new Map<string, Array<() => void>>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`maxConcurrency must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  /** Resolves with a release function once a slot for `key` is free; rejects if `signal` aborts first. */
  acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if ((this.#active.get(key) ?? 0) < this.#limit) {
      this.#active.set(key, (this.#active.get(key) ?? 0) + 1);
      return Promise.resolve(this.#releaser(key));
    }
    return new Promise((resolve, reject) => {
      const queue = this.#waiting.get(key) ?? [];
      this.#waiting.set(key, queue);
      const onAbort = () => {
        const index = queue.indexOf(grant);
        if (index >= 0) queue.splice(index, 1);
        if (queue.length === 0 && this.#waiting.get(key) === queue) this.#waiting.delete(key);
        reject(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason ?? 'aborted')));
      };
      // The slot is handed over directly by the releaser: the active count stays the same.
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.#releaser(key));
      };
      queue.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Holders currently active for `key` (for tests and debug lines). */
  active(key: string): number {
    return this.#active.get(key) ?? 0;
  }

  /** Acquirers waiting for `key` (for tests: a waiter that gave up is no longer held). */
  waiting(key: string): number {
    return this.#waiting.get(key)?.length ?? 0;
  }

  #releaser(key: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.get(key)?.shift();
      if (next) {
        next();
        return;
      }
      const count = (this.#active.get(key) ?? 1) - 1;
      if (count <= 0) this.#active.delete(key);
      else this.#active.set(key, count);
      if (this.#waiting.get(key)?.length === 0) this.#waiting.delete(key);
    };
  }
}
