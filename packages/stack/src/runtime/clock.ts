/** Time as the runtime sees it: injectable so that tests can drive the scheduler. */
export type Clock = { now(): number };
export const systemClock: Clock = { now: () => Date.now() };
export const iso = (ms: number): string => new Date(ms).toISOString();
