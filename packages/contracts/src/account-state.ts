// Plain constants and functions, no zod: the konnector SDK imports them on its start path through
// `@gleaner/contracts/codes`. The zod schemas built from them are in account-state-schema.ts.

/** How a second factor reaches the person. */
export const TWOFA_TYPES = ['email', 'sms', 'app_code', 'app'] as const;
export type TwoFaType = (typeof TWOFA_TYPES)[number];

const twoFaTypes = new Set<string>(TWOFA_TYPES);

export function isTwoFaType(value: unknown): value is TwoFaType {
  return typeof value === 'string' && twoFaTypes.has(value);
}

const suffix = { email: 'EMAIL', sms: 'SMS', app_code: 'APP_CODE', app: 'APP' } as const satisfies Record<
  TwoFaType,
  string
>;

export const ACCOUNT_STATES = [
  'HANDLE_LOGIN_SUCCESS',
  'LOGIN_SUCCESS',
  'TWOFA_NEEDED',
  'TWOFA_NEEDED.EMAIL',
  'TWOFA_NEEDED.SMS',
  'TWOFA_NEEDED.APP_CODE',
  'TWOFA_NEEDED.APP',
  'TWOFA_NEEDED_RETRY',
  'TWOFA_NEEDED_RETRY.EMAIL',
  'TWOFA_NEEDED_RETRY.SMS',
  'TWOFA_NEEDED_RETRY.APP_CODE',
  'TWOFA_NEEDED_RETRY.APP',
  'RESET_SESSION',
] as const;

/** The account's `state` field; `null` when nothing is going on. */
export type AccountState = (typeof ACCOUNT_STATES)[number] | null;

/** The state an account enters while its konnector waits for a code of this type. */
export function twoFaState(type: TwoFaType | undefined, retry = false): NonNullable<AccountState> {
  const base = retry ? 'TWOFA_NEEDED_RETRY' : 'TWOFA_NEEDED';
  return type ? (`${base}.${suffix[type]}` as NonNullable<AccountState>) : base;
}

export function isTwoFaState(state: AccountState | undefined): boolean {
  return !!state && state.startsWith('TWOFA_NEEDED');
}

/** States that only make sense while a job runs; the runtime clears them when it ends. */
export function isTransientState(state: AccountState | undefined): boolean {
  return state === 'HANDLE_LOGIN_SUCCESS' || isTwoFaState(state);
}
