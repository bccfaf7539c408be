export type { Stack } from './stack.js';
export { StackError, type StackErrorCode } from './errors.js';
export { asDiskFault, DiskFaultError, diskFaultKind, type DiskFaultKind } from './disk-faults.js';
export { createStack, type CreateStackOptions, type GleanerStack } from './create-stack.js';
export { createLogger, LogSecrets, logSecrets, REDACT_PATHS } from './logger.js';
export * from './storage/index.js';
export * from './secrets/index.js';
export * from './registry/index.js';
export type { PromptBus, PromptMessage } from './runtime/prompt-bus.js';
export { InProcessPromptBus } from './runtime/prompt-bus.js';
export type { Clock } from './runtime/clock.js';
export type { TickResult } from './runtime/scheduler.js';
export type { RecoveryResult } from './runtime/recovery.js';
export { startServer, type ServerOptions, type RunningServer } from './server.js';
export {
  backupDataFolder,
  restoreDataFolder,
  BackupError,
  BackupManifest,
  BACKUP_FORMAT,
  type BackupResult,
  type RestoreResult,
} from './backup.js';
export { lockDataFolder, DataFolderBusyError, type DataFolderLock } from './data-lock.js';
export {
  countAccountsUsing,
  installIntoDataFolder,
  listDataFolderKonnectors,
  migrateDataFolder,
  MissingDataError,
  uninstallFromDataFolder,
  resetAdminPassword,
  rotateDataFolderKey,
  forgetSecrets,
  type ForgetSecretsResult,
  type AdminPasswordReset,
  type MigrationReport,
} from './maintenance.js';
