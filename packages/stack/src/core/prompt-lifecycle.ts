import { codePattern, normalizeCode, type AnswerOutcome, type PromptStatus, type TwoFaType } from '@gleaner/contracts';

/**
 * A prompt's life, as a reducer: `waiting` until a code is accepted (`answered`), it expires, the
 * job is cancelled, or the stack stops (`interrupted`). Every submission counts as an attempt; a
 * prompt takes at most `maxAttempts`: the last one malformed locks it, and its job ends at once
 * (LOGIN_FAILED.TOO_MANY_ATTEMPTS) rather than waiting for the deadline. The code itself is never part of the state: it only travels
 * in the `deliver` effect, to the konnector waiting for it.
 */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** `type` decides the code's pattern: digits only for SMS and authenticator codes. */
export type PromptState = { status: PromptStatus; attempts: number; expiresAt: number; type?: TwoFaType | null };

export type PromptEvent =
  { type: 'submit'; code: string } | { type: 'timeout' } | { type: 'cancel' } | { type: 'interrupt' };

export type PromptEffect =
  | { type: 'deliver'; code: string }
  | {
      type: 'reject';
      error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' | 'JOB_CANCELLED' | 'JOB_INTERRUPTED' | 'LOGIN_FAILED.TOO_MANY_ATTEMPTS';
    };

export type PromptStep = { state: PromptState; outcome?: AnswerOutcome; effects: PromptEffect[] };

const closing: Record<
  Exclude<PromptEvent['type'], 'submit'>,
  { status: PromptStatus; error: Extract<PromptEffect, { type: 'reject' }>['error'] }
> = {
  timeout: { status: 'expired', error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' },
  cancel: { status: 'cancelled', error: 'JOB_CANCELLED' },
  interrupt: { status: 'interrupted', error: 'JOB_INTERRUPTED' },
};

export function reducePrompt(
  state: PromptState,
  event: PromptEvent,
  now: number,
  maxAttempts = DEFAULT_MAX_ATTEMPTS,
): PromptStep {
  if (event.type !== 'submit') {
    if (state.status !== 'waiting') return { state, effects: [] };
    const { status, error } = closing[event.type];
    return { state: { ...state, status }, effects: [{ type: 'reject', error }] };
  }
  if (state.status === 'expired') return { state, outcome: 'expired', effects: [] };
  // Locked by malformed codes (closed `cancelled` with every attempt used): it still says why.
  if (state.status === 'cancelled' && state.attempts >= maxAttempts)
    return { state, outcome: 'too_many_attempts', effects: [] };
  if (state.status !== 'waiting') return { state, outcome: 'not_waiting', effects: [] };
  if (now >= state.expiresAt) {
    return {
      state: { ...state, status: 'expired' },
      outcome: 'expired',
      effects: [{ type: 'reject', error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' }],
    };
  }
  if (state.attempts >= maxAttempts) return { state, outcome: 'too_many_attempts', effects: [] };
  const code = normalizeCode(event.code);
  const attempted = { ...state, attempts: state.attempts + 1 };
  if (!codePattern(state.type).test(code)) {
    if (attempted.attempts < maxAttempts) return { state: attempted, outcome: 'bad_format', effects: [] };
    return {
      state: { ...attempted, status: 'cancelled' },
      outcome: 'bad_format',
      effects: [{ type: 'reject', error: 'LOGIN_FAILED.TOO_MANY_ATTEMPTS' }],
    };
  }
  return { state: { ...attempted, status: 'answered' }, outcome: 'accepted', effects: [{ type: 'deliver', code }] };
}
