import { needsPerson, type ErrorCode, type RunMode } from '@gleaner/contracts';

/**
 * When scheduled runs of an account are paused. An error that needs the person (LOGIN_FAILED*,
 * USER_ACTION_NEEDED*) pauses them: retrying would only lock the account or spam codes. Only a
 * manual run that succeeds lifts the pause.
 */
export type SkipState = { pausedBy: ErrorCode | null };

export type SkipEvent = { type: 'jobEnded'; mode: RunMode; error: ErrorCode | null };

export function reduceSkipPolicy(state: SkipState, event: SkipEvent): SkipState {
  if (event.error !== null) return needsPerson(event.error) ? { pausedBy: event.error } : state;
  return event.mode === 'manual' ? { pausedBy: null } : state;
}

export type ScheduledRunDecision = { run: true } | { run: false; reason: ErrorCode | 'BUSY' };

/** Whether a due trigger starts a background run now. */
export function decideScheduledRun(state: SkipState, account: { hasActiveJob: boolean }): ScheduledRunDecision {
  if (state.pausedBy) return { run: false, reason: state.pausedBy };
  if (account.hasActiveJob) return { run: false, reason: 'BUSY' };
  return { run: true };
}
