import { backupDataFolder, restoreDataFolder } from '@gleaner/stack';
import { defineCommand } from '../command.js';
import { dataOption } from './data-option.js';

export const backupCommand = defineCommand({
  name: 'backup',
  summary: 'a consistent snapshot of the data folder in one file, even while the stack runs',
  usage: 'gleaner backup [--data DIR] [--with-keys] FILE',
  description: [
    'Writes FILE (a tar.gz, mode 0600): the database and the auth store copied with SQLite\'s online',
    'backup API (consistent while jobs write), the installed konnectors and the accounts\' files. It',
    'takes no lock: run it while `gleaner serve` runs. The secret key stays out unless --with-keys;',
    'the backup names the key id(s) it needs. Keep the key apart from the backup (docs/backup.md).',
  ].join('\n'),
  args: [{ name: 'FILE', description: 'the backup file to write (must not exist)', type: 'path' }],
  options: {
    data: dataOption,
    'with-keys': { type: 'boolean', description: 'put the key files inside too (then guard the backup as the key)' },
  },
  async run({ options, args }) {
    const { file, manifest } = await backupDataFolder(options.data, args[0]!, { withKeys: options['with-keys'] });
    const { counts, keys } = manifest;
    process.stdout.write(
      `backup written to ${file}: ${counts.databases} database(s), ${counts.konnectorFiles} konnector file(s), ` +
        `${counts.accountFiles} account file(s), ${counts.bytes} bytes before compression\n`,
    );
    if (keys.included) {
      process.stdout.write(`the key file(s) are inside (${counts.keyFiles}): this backup opens every credential, keep it as safe as the key\n`);
    } else if (keys.needed.length) {
      process.stdout.write(
        `the secret key is NOT inside: a restore needs key ${keys.needed.join(', ')} (keys/<id>.key in the data folder, or GLEANER_SECRET_KEY). ` +
          'Keep the key apart from the backup, and safe\n',
      );
    }
    return 0;
  },
});

export const restoreCommand = defineCommand({
  name: 'restore',
  summary: 'bring a backup back into a new or empty data folder',
  usage: 'gleaner restore FILE [--data DIR]',
  description: [
    'Checks the backup (only the entries a backup holds, no link, no path leaving the folder, the',
    "databases pass SQLite's check) and unpacks it into the data folder, which must be new or empty:",
    'folders 0700, files 0600. If the key was not inside, the stack starts only once it is given: copy',
    '<id>.key into <data>/keys/ (mode 0600), or set GLEANER_SECRET_KEY (and GLEANER_SECRET_KEY_ID if',
    'the id is not k1).',
  ].join('\n'),
  args: [{ name: 'FILE', description: 'the backup file, as `gleaner backup` wrote it', type: 'file' }],
  options: { data: dataOption },
  async run({ options, args }) {
    const { dataDir, manifest, keysToProvide } = await restoreDataFolder(args[0]!, options.data);
    const { counts } = manifest;
    process.stdout.write(
      `restored the backup of ${manifest.createdAt} into ${dataDir}: ${counts.konnectorFiles} konnector file(s), ${counts.accountFiles} account file(s)\n`,
    );
    if (keysToProvide.length) {
      const [id] = keysToProvide;
      process.stdout.write(
        `the secret key was not in the backup: the stack starts only once key ${keysToProvide.join(', ')} is given. ` +
          `Copy ${id}.key into ${dataDir}/keys/ (chmod 600), or set GLEANER_SECRET_KEY to its contents` +
          `${id === 'k1' ? '' : ` and GLEANER_SECRET_KEY_ID=${id}`}\n`,
      );
    }
    return 0;
  },
});
