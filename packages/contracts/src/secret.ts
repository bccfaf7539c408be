const inspect = Symbol.for('nodejs.util.inspect.custom');

/**
 * A value that must never be printed: logs, JSON and `util.inspect` all see `[redacted]`.
 * Read it with `reveal()` at the one place that needs it.
 */
export class Secret<T = string> {
  readonly #value: T;
  constructor(value: T) {
    this.#value = value;
  }
  reveal(): T {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  [inspect](): string {
    return 'Secret([redacted])';
  }
}
