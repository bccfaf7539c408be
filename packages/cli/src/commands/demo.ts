import { defineCommand } from '../command.js';
import { startDemo } from '../demo.js';
import { untilSignal } from '../until-signal.js';
import { graceOption, portOption } from './serve.js';

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'the stack with the fake sites and the GitHub and Amazon konnectors',
  usage: 'gleaner demo [options]',
  description: [
    'Starts the stack with the fake websites and the two example konnectors, to try Gleaner without',
    'an account anywhere. The admin password is printed in the banner (or GLEANER_ADMIN_PASSWORD).',
  ].join('\n'),
  options: {
    data: { type: 'path', value: 'DIR', description: "the demo's data folder (default data/demo in the checkout)" },
    port: portOption(3000, 'where Home and the API listen'),
    'sites-port': portOption(8080, 'where the fake sites listen'),
    grace: graceOption,
  },
  async run({ options }) {
    const graceMs = options.grace * 1000;
    const demo = await startDemo({
      ...(options.data ? { dataDir: options.data } : {}),
      port: options.port,
      sitesPort: options['sites-port'],
    });
    process.stderr.write(
      [
        '',
        `Home:        ${demo.url}   (sign in with ${demo.signIn})`,
        `Fake sites:  ${demo.sitesUrl}`,
        `Outbox:      ${demo.outbox}   (codes "sent" by SMS and e-mail, and the fake authenticator's code)`,
        '',
        'Try: add a GitHub account as octocat / octocat-password (authenticator code from the outbox page),',
        'or an Amazon account as alice@example.test / alice-amazon-password (code by SMS, in the outbox),',
        'or as frank@example.test / frank-amazon-password (approve the sign-in on the outbox page).',
        '',
      ].join('\n'),
    );
    return untilSignal(() => demo.close(graceMs), graceMs);
  },
});
