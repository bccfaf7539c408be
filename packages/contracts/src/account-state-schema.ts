import { z } from 'zod';
import { ACCOUNT_STATES, TWOFA_TYPES } from './account-state.js';

/** How a second factor reaches the person. */
export const TwoFaType = z.enum(TWOFA_TYPES);
export type TwoFaType = z.infer<typeof TwoFaType>;

/** The account's `state` field; `null` when nothing is going on. */
export const AccountState = z.enum(ACCOUNT_STATES).nullable();
export type AccountState = z.infer<typeof AccountState>;
