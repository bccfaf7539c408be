export * from './errors.js';
export * from './account-state.js';
export * from './manifest.js';
export * from './host-protocol.js';
export * from './secret.js';
export * from './api.js';
