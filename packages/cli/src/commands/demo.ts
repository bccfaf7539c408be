import { AMAZON_USERS } from '@gleaner/sites';
import { defineCommand } from '../command.js';
import { startDemo } from '../demo.js';
import { untilSignal } from '../until-signal.js';
import { graceOption, portOption } from './serve.js';

/** The demo user whose Amazon codes come by e-mail: the banner's mailbox story is his. */
const BOB = AMAZON_USERS.bob;
const MAIL_USER = BOB.email;

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'the stack with the fake sites, their mailbox, and the GitHub and Amazon konnectors',
  usage: 'gleaner demo [options]',
  description: [
    'Starts the stack with the fake websites and the two example konnectors, to try Gleaner without',
    'an account anywhere. The admin password is printed in the banner (or GLEANER_ADMIN_PASSWORD).',
    'The sites mail their e-mail codes to a local mailbox (plain IMAP on 127.0.0.1, --mailbox-port),',
    'where a code source reads them: each demo user signs in to it with <name>-mail-password.',
  ].join('\n'),
  options: {
    data: { type: 'path', value: 'DIR', description: "the demo's data folder (default data/demo in the checkout)" },
    port: portOption(3000, 'where Home and the API listen'),
    'sites-port': portOption(8080, 'where the fake sites listen'),
    'mailbox-port': portOption(1143, "where the demo mailbox's IMAP listens"),
    grace: graceOption,
  },
  async run({ options }) {
    const graceMs = options.grace * 1000;
    const demo = await startDemo({
      ...(options.data ? { dataDir: options.data } : {}),
      port: options.port,
      sitesPort: options['sites-port'],
      mailboxPort: options['mailbox-port'],
    });
    const { host, port, users } = demo.mailbox;
    process.stderr.write(
      [
        '',
        `Home:        ${demo.url}   (sign in with ${demo.signIn})`,
        `Fake sites:  ${demo.sitesUrl}`,
        `Outbox:      ${demo.outbox}   (codes "sent" by SMS and e-mail, and the fake authenticator's code)`,
        `Mailbox:     imap://${host}:${port}   (plain IMAP, no TLS; user ${MAIL_USER}, app password ${users[MAIL_USER]})`,
        '',
        'Try: add a GitHub account as octocat / octocat-password (authenticator code from the outbox page),',
        'or an Amazon account as alice@example.test / alice-amazon-password (code by SMS, in the outbox),',
        'or as frank@example.test / frank-amazon-password (approve the sign-in on the outbox page).',
        `Try a code nobody types: add Amazon as ${BOB.login} / ${BOB.password} (his code comes by e-mail:`,
        `type it from the outbox once); in the account's Codes section add the mailbox (host ${host}, port ${port},`,
        `no TLS, user ${MAIL_USER}, app password ${users[MAIL_USER]}); press "Reset session", then "Try a background run":`,
        'it completes with the code read from the mailbox.',
        '',
      ].join('\n'),
    );
    return untilSignal(() => demo.close(graceMs), graceMs);
  },
});
