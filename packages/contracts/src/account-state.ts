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

/** The 2FA type a TWOFA_NEEDED state names: undefined for another state, null for a bare TWOFA_NEEDED. */
export function twoFaTypeOf(state: AccountState | undefined): TwoFaType | null | undefined {
  if (!isTwoFaState(state)) return undefined;
  const named = state?.split('.')[1];
  return TWOFA_TYPES.find((type) => suffix[type] === named) ?? null;
}

/**
 * What a run is told of the second factors its site asks for (`RunContext.siteTwoFa`): the kinds of
 * the account's earlier 2FA requests (one that named no kind counts as every kind the manifest
 * names, or every kind when it names none), and, while the account has never logged in, every kind
 * the manifest names. In TWOFA_TYPES order.
 *
 * @example
 * siteTwoFa({ asked: [], everLoggedIn: false, manifest: ['sms'] }) // ['sms']: nothing known yet, the manifest says what may come
 * siteTwoFa({ asked: [], everLoggedIn: true, manifest: ['sms'] })  // []: it logged in before and was never asked
 */
export function siteTwoFa(known: {
  asked: ReadonlyArray<TwoFaType | null>;
  everLoggedIn: boolean;
  manifest: readonly TwoFaType[];
}): TwoFaType[] {
  const kinds = new Set<TwoFaType>();
  for (const type of known.asked) {
    if (type) kinds.add(type);
    else for (const any of known.manifest.length ? known.manifest : TWOFA_TYPES) kinds.add(any);
  }
  if (!known.everLoggedIn) for (const type of known.manifest) kinds.add(type);
  return TWOFA_TYPES.filter((type) => kinds.has(type));
}
