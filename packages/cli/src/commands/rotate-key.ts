import { rotateDataFolderKey } from '@gleaner/stack';
import { defineCommand } from '../command.js';
import { dataOption, databaseFrom, databaseOption } from './data-option.js';

export const rotateKeyCommand = defineCommand({
  name: 'rotate-key',
  summary: 'new secret key; every credential and session re-sealed under it',
  usage: 'gleaner rotate-key [--data DIR] [--database URL] [--key-id ID]',
  description: [
    'Creates a new secret key (keys/<id>.key, mode 0600), makes it current and re-seals every',
    'credential and session under it. Stop the stack first. Old key files stay: delete them once no',
    'backup needs them. The keys are in the data folder; the secrets in its SQLite, or in the PostgreSQL',
    'database that --database or GLEANER_DATABASE_URL names.',
  ].join('\n'),
  options: {
    data: dataOption,
    database: databaseOption,
    'key-id': { type: 'string', value: 'ID', description: "the new key's id (default: the next k<N>)" },
  },
  async run({ options }) {
    const database = databaseFrom(options.database);
    const result = await rotateDataFolderKey(options.data, {
      ...(options['key-id'] ? { newKeyId: options['key-id'] } : {}),
      ...(database !== undefined ? { database } : {}),
    });
    process.stdout.write(
      `key ${result.keyId} is now current: ${result.resealed} secret(s) of ${result.accounts} account(s) re-sealed\n`,
    );
    // Left as they were: a key restored later may still open them.
    for (const u of result.unreadable)
      process.stdout.write(
        `account ${u.accountId}: its ${u.column} does not open (${u.reason}, key ${u.keyId || 'none'}): not re-sealed\n`,
      );
    return 0;
  },
});
