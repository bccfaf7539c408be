// `@gleaner/contracts/codes`: the error codes, account states and 2FA types as plain values, and
// Secret. No zod here: the konnector SDK's start path imports only this, and pays for the schemas
// (the package's main entry) only where it validates messages.
export * from './errors.js';
export * from './account-state.js';
export * from './secret.js';
