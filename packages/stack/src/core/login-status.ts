import { isTwoFaState, type AccountState, type ErrorCode, type LoginStatus } from '@gleaner/contracts';

/**
 * The 8-second rule, as a reducer. A job's login status starts `pending`; it becomes `succeeded`
 * when the konnector says LOGIN_SUCCESS, or after 8 s of running without error while the account is
 * not in HANDLE_LOGIN_SUCCESS (the konnector said it will tell) or a 2FA state; `failed` when the job
 * errors before that. Once decided, it never changes.
 */
export const AUTO_SUCCESS_MS = 8_000;

export type LoginState = {
  status: LoginStatus;
  /** When the job started running (ms), or null before. */
  startedAt: number | null;
  accountState: AccountState;
};

export type LoginEvent =
  | { type: 'started'; accountState: AccountState }
  | { type: 'accountState'; state: AccountState }
  | { type: 'tick' }
  | { type: 'ended'; error: ErrorCode | null };

export type LoginEffect =
  | { type: 'setLoginStatus'; status: Exclude<LoginStatus, 'pending'> }
  /** Call back with `tick` at this time (ms). */
  | { type: 'wakeAt'; at: number };

export const initialLoginState: LoginState = { status: 'pending', startedAt: null, accountState: null };

/** Whether the account's state holds off the automatic success. */
function holdsOff(state: AccountState): boolean {
  return state === 'HANDLE_LOGIN_SUCCESS' || isTwoFaState(state);
}

export function reduceLoginStatus(
  state: LoginState,
  event: LoginEvent,
  now: number,
): { state: LoginState; effects: LoginEffect[] } {
  if (state.status !== 'pending') {
    return { state: event.type === 'accountState' ? { ...state, accountState: event.state } : state, effects: [] };
  }
  const decide = (next: LoginState, status: Exclude<LoginStatus, 'pending'>) => ({
    state: { ...next, status },
    effects: [{ type: 'setLoginStatus', status }] as LoginEffect[],
  });
  const autoSuccess = (next: LoginState) => {
    if (next.startedAt === null || holdsOff(next.accountState)) return { state: next, effects: [] as LoginEffect[] };
    const due = next.startedAt + AUTO_SUCCESS_MS;
    if (now >= due) return decide(next, 'succeeded');
    return { state: next, effects: [{ type: 'wakeAt', at: due }] as LoginEffect[] };
  };

  switch (event.type) {
    case 'started':
      return autoSuccess({ ...state, startedAt: now, accountState: event.accountState });
    case 'accountState': {
      const next = { ...state, accountState: event.state };
      if (event.state === 'LOGIN_SUCCESS') return decide(next, 'succeeded');
      return autoSuccess(next);
    }
    case 'tick':
      return autoSuccess(state);
    case 'ended':
      return decide(state, event.error === null ? 'succeeded' : 'failed');
  }
}
