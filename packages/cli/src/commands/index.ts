import type { Command } from '../command.js';
import { backupCommand, restoreCommand } from './backup.js';
import { buildCommand } from './build.js';
import { demoCommand } from './demo.js';
import { forgetSecretsCommand } from './forget-secrets.js';
import { installCommand, konnectorsCommand, uninstallCommand } from './konnector-packages.js';
import { migrateCommand } from './migrate.js';
import { newCommand } from './new.js';
import { packCommand } from './pack.js';
import { resetAdminPasswordCommand } from './reset-admin-password.js';
import { rotateKeyCommand } from './rotate-key.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';
import { sitesCommand } from './sites.js';
import { workerCommand } from './worker.js';

/** Every `gleaner` command, in the order the main usage lists them. */
export const commands: readonly Command[] = [
  runCommand,
  newCommand,
  buildCommand,
  packCommand,
  serveCommand,
  workerCommand,
  demoCommand,
  sitesCommand,
  installCommand,
  konnectorsCommand,
  uninstallCommand,
  migrateCommand,
  rotateKeyCommand,
  forgetSecretsCommand,
  resetAdminPasswordCommand,
  backupCommand,
  restoreCommand,
];
