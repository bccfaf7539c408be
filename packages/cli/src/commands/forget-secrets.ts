import { forgetSecrets } from '@gleaner/stack';
import { defineCommand } from '../command.js';
import { dataOption } from './data-option.js';

export const forgetSecretsCommand = defineCommand({
  name: 'forget-secrets',
  summary: 'start over after a lost key: every password and session cleared, a new key',
  usage: 'gleaner forget-secrets [--data DIR]',
  description: [
    'The explicit way out when the secret key is lost and cannot be restored. Accounts stay (their',
    'login, files and jobs); every saved password, session and account data is cleared, so each',
    'account needs its password again. The old keys folder is set aside and a new key is made.',
    'Stop the stack first.',
  ].join('\n'),
  options: { data: dataOption },
  async run({ options }) {
    const result = await forgetSecrets(options.data);
    process.stdout.write(
      `secrets forgotten: key ${result.keyId} is new; ${result.accounts} account(s) need their password again\n` +
        (result.oldKeys ? `the old keys are in ${result.oldKeys}: delete it once no backup needs it\n` : ''),
    );
    return 0;
  },
});
