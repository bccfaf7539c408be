import { migrateDataFolder } from '@gleaner/stack';
import { defineCommand } from '../command.js';
import { dataOption, databaseFrom, databaseOption } from './data-option.js';

export const migrateCommand = defineCommand({
  name: 'migrate',
  summary: "bring the data folder's database to the latest schema",
  usage: 'gleaner migrate [--data DIR] [--database URL]',
  description: [
    "Brings the database to the latest schema (the stack also does it at start): the data folder's",
    'SQLite, or the PostgreSQL database that --database or GLEANER_DATABASE_URL names.',
  ].join('\n'),
  options: { data: dataOption, database: databaseOption },
  async run({ options }) {
    const database = databaseFrom(options.database);
    const report = await migrateDataFolder(options.data, database !== undefined ? { database } : {});
    process.stdout.write(
      report.applied.length
        ? `applied ${report.applied.length} migration(s): ${report.applied.join(', ')}; now at ${report.latest}\n`
        : `already at the latest schema (${report.latest})\n`,
    );
    return 0;
  },
});
