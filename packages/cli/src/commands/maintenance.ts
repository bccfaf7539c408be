import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { migrateDataFolder, rotateDataFolderKey } from '@gleaner/stack';

const DATA_HELP = '  --data DIR   the data folder (default ./data, as for `gleaner serve`)';

export async function migrateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    process.stderr.write(
      `gleaner migrate [--data DIR]\n\nBrings the database to the latest schema (the stack also does it at start).\n${DATA_HELP}\n`,
    );
    return 0;
  }
  const report = await migrateDataFolder(resolve(values.data ?? 'data'));
  process.stdout.write(
    report.applied.length
      ? `applied ${report.applied.length} migration(s): ${report.applied.join(', ')}; now at ${report.latest}\n`
      : `already at the latest schema (${report.latest})\n`,
  );
  return 0;
}

export async function rotateKeyCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { data: { type: 'string' }, 'key-id': { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stderr.write(
      `gleaner rotate-key [--data DIR] [--key-id ID]\n\nCreates a new secret key (keys/<id>.key, mode 0600), makes it current and re-seals every\ncredential and session under it. Stop the stack first. Old key files stay: delete them once no\nbackup needs them.\n${DATA_HELP}\n  --key-id ID  the new key's id (default: the next k<N>)\n`,
    );
    return 0;
  }
  const result = await rotateDataFolderKey(resolve(values.data ?? 'data'), {
    ...(values['key-id'] ? { newKeyId: values['key-id'] } : {}),
  });
  process.stdout.write(
    `key ${result.keyId} is now current: ${result.resealed} secret(s) of ${result.accounts} account(s) re-sealed\n`,
  );
  return 0;
}
