export * from './codes.js';
// The schemas of the same name as the plain types in codes.js: explicit exports win over `export *`.
export { TwoFaType, AccountState } from './account-state-schema.js';
export * from './manifest.js';
export * from './host-protocol.js';
export * from './api.js';
export { manifestJsonSchema } from './manifest-json-schema.js';
