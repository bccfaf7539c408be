/**
 * Login attempts per client: after `maxFailures` failures within `windowMs`, further attempts are
 * refused until the oldest failure leaves the window. Pure: the clock is passed in.
 */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();
  constructor(
    readonly maxFailures = 5,
    readonly windowMs = 5 * 60_000,
  ) {}

  /** Milliseconds until `key` may try again; 0 when it may try now. */
  retryAfterMs(key: string, now: number): number {
    const recent = this.#recent(key, now);
    if (recent.length < this.maxFailures) return 0;
    const oldest = recent[recent.length - this.maxFailures] ?? now;
    return Math.max(1, oldest + this.windowMs - now);
  }

  recordFailure(key: string, now: number): void {
    const recent = this.#recent(key, now);
    recent.push(now);
    this.#failures.set(key, recent);
    // Bound the map: a client flooding from many addresses must not grow it without end.
    if (this.#failures.size > 10_000) this.#prune(now);
  }

  recordSuccess(key: string): void {
    this.#failures.delete(key);
  }

  #recent(key: string, now: number): number[] {
    return (this.#failures.get(key) ?? []).filter((at) => at > now - this.windowMs);
  }

  #prune(now: number): void {
    for (const [key, times] of this.#failures) {
      if (times.every((at) => at <= now - this.windowMs)) this.#failures.delete(key);
    }
  }
}
