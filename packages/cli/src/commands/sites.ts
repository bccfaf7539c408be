import { startMailbox, startSites, type RunningMailbox } from '@gleaner/sites';
import { defineCommand } from '../command.js';
import { onPort } from '../demo.js';
import { untilSignal } from '../until-signal.js';
import { portOption } from './serve.js';

export const sitesCommand = defineCommand({
  name: 'sites',
  summary: 'start the fake websites alone',
  usage: 'gleaner sites [options]',
  description: [
    'Starts the fake websites (GitHub, Amazon and the 2FA test site) and the outbox, where the codes',
    '"sent" by SMS and e-mail show, with no stack: for `gleaner run` against them. With --mailbox-port,',
    'the demo mailbox too (plain IMAP on 127.0.0.1), into which the sites then mail their e-mail codes.',
  ].join('\n'),
  options: {
    port: portOption(8080, 'where the sites listen'),
    'mailbox-port': {
      type: 'number',
      value: 'PORT',
      integer: true,
      min: 0,
      max: 65535,
      description: "also start the demo mailbox, its IMAP here (0 picks a free port; gleaner demo's is 1143)",
    },
  },
  async run({ options }) {
    const wanted = options['mailbox-port'];
    const mailbox: RunningMailbox | null =
      wanted === undefined
        ? null
        : await onPort(wanted, 'the demo mailbox', '--mailbox-port', (port) => startMailbox({ port }));
    let sites;
    try {
      sites = await startSites({ port: options.port, ...(mailbox ? { smtp: mailbox.smtp } : {}) });
    } catch (error) {
      await mailbox?.close();
      throw error;
    }
    process.stderr.write(
      `Fake sites on ${sites.url} (GitHub ${sites.github}, Amazon ${sites.amazon}, test ${sites.test}); outbox ${sites.outbox}\n` +
        (mailbox
          ? `Mailbox imap://${mailbox.imap.host}:${mailbox.imap.port} (plain IMAP; each demo user signs in with <name>-mail-password, e.g. bob@example.test / ${mailbox.users['bob@example.test']})\n`
          : ''),
    );
    return untilSignal(async () => {
      await sites.close();
      await mailbox?.close();
    });
  },
});
