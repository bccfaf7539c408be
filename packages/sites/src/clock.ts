/** A site's sense of time: real time plus an offset that tests can move forward. */
export type SiteClock = { now(): number; advance(ms: number): void; reset(): void };

/**
 * Creates a clock that follows real time, shifted by whatever `advance` added.
 * Following real time (rather than freezing) keeps TOTP codes computed by a
 * real authenticator app valid against the demo sites.
 */
export function createClock(): SiteClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number): void {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advance(ms) needs a finite, non-negative number');
      offset += ms;
    },
    reset(): void {
      offset = 0;
    },
  };
}
