import { migrateDataFolder } from '@gleaner/stack';
import { defineCommand } from '../command.js';
import { dataOption } from './data-option.js';

export const migrateCommand = defineCommand({
  name: 'migrate',
  summary: "bring the data folder's database to the latest schema",
  usage: 'gleaner migrate [--data DIR]',
  description: 'Brings the database to the latest schema (the stack also does it at start).',
  options: { data: dataOption },
  async run({ options }) {
    const report = await migrateDataFolder(options.data);
    process.stdout.write(
      report.applied.length
        ? `applied ${report.applied.length} migration(s): ${report.applied.join(', ')}; now at ${report.latest}\n`
        : `already at the latest schema (${report.latest})\n`,
    );
    return 0;
  },
});
