// What hosts (the stack, `gleaner run`, tests) need: not part of a konnector's everyday surface.
export { StandaloneHost } from './standalone-host.js';
export type { CodeReader, CodeRequest, LastRun, StandaloneHostOptions } from './standalone-host.js';
export { serveHost } from './ipc-server.js';
export type { HostHandlers, ChildOutcome } from './ipc-server.js';
export { handlersFor } from './serve-standalone.js';
export { terminalCodeReader, describeTwoFa } from './terminal.js';
export { safeJoin } from './safe-path.js';
export { KONNECTOR_EXEC_ARGV } from './node-flags.js';
export { loadOrCreateKey, seal, open } from '../core/local-crypto.js';
export { SecretScrubber, secretForms, encodedPattern, REDACTED } from '../core/secret-forms.js';
