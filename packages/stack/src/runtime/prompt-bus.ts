import type { Secret } from '@gleaner/contracts';

/**
 * What reaches the job waiting on a prompt: the accepted code (with the "trust this device" box),
 * the person's cancel, the lock after malformed codes, or a request for a new code (by `method`).
 */
export type PromptMessage =
  | { kind: 'code'; code: Secret<string>; trustDevice?: boolean }
  | { kind: 'cancelled' }
  | { kind: 'locked' }
  | { kind: 'resend'; method?: string };

/**
 * Carries an accepted code from where it was submitted to where the job waits. In one process it is
 * a map of waiters; with PostgreSQL and several nodes, an implementation over LISTEN/NOTIFY (or a
 * direct channel to the worker) takes its place, with the same contract: pushed, never polled.
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
