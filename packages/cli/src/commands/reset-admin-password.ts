import { randomBytes } from 'node:crypto';
import { resetAdminPassword } from '@gleaner/stack';
import { defineCommand } from '../command.js';
import { databaseFrom, databaseOption, dataOption } from './data-option.js';

export const resetAdminPasswordCommand = defineCommand({
  name: 'reset-admin-password',
  summary: 'a new admin password for a lost one; every admin session signed out',
  usage: 'gleaner reset-admin-password [--data DIR] [--database URL] [--revoke-tokens]',
  description: [
    'Sets a new admin password: GLEANER_ADMIN_PASSWORD if set, else a generated one printed once.',
    'Every signed-in browser is signed out. API tokens keep working unless --revoke-tokens (do that',
    'if the password may have leaked, not only been lost). Stop the stack first. With --database (or',
    'GLEANER_DATABASE_URL) the sign-in of that PostgreSQL database is reset, for every node at once:',
    'the nodes may keep running.',
  ].join('\n'),
  options: {
    data: dataOption,
    database: databaseOption,
    'revoke-tokens': { type: 'boolean', description: 'revoke every API token too' },
  },
  async run({ options }) {
    // An empty GLEANER_ADMIN_PASSWORD counts as none, as in serve.
    const given = process.env.GLEANER_ADMIN_PASSWORD || undefined;
    const password = given ?? randomBytes(18).toString('base64url');
    const database = databaseFrom(options.database);
    const result = await resetAdminPassword(options.data, password, {
      revokeTokens: options['revoke-tokens'],
      ...(database !== undefined ? { database } : {}),
    });
    const lines = [
      given
        ? 'admin password set from GLEANER_ADMIN_PASSWORD'
        : `new admin password (shown once, keep it): ${password}`,
      `${result.sessionsRevoked} admin session(s) signed out`,
    ];
    if (options['revoke-tokens']) lines.push(`${result.tokensRevoked} API token(s) revoked`);
    else if (result.tokensKept.length) {
      const names = result.tokensKept.map((t) => t.name).join(', ');
      lines.push(`${result.tokensKept.length} API token(s) still valid (${names}): --revoke-tokens revokes them`);
    }
    if (!given) {
      lines.push('note: a stack started with GLEANER_ADMIN_PASSWORD set puts that password back');
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
});
