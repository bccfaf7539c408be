import { startSites } from '@gleaner/sites';
import { defineCommand } from '../command.js';
import { untilSignal } from '../until-signal.js';
import { portOption } from './serve.js';

export const sitesCommand = defineCommand({
  name: 'sites',
  summary: 'start the fake websites alone',
  usage: 'gleaner sites [options]',
  description: [
    'Starts the fake websites (GitHub, Amazon and the 2FA test site) and the outbox, where the codes',
    '"sent" by SMS and e-mail show, with no stack: for `gleaner run` against them.',
  ].join('\n'),
  options: {
    port: portOption(8080, 'where the sites listen'),
  },
  async run({ options }) {
    const sites = await startSites({ port: options.port });
    process.stderr.write(
      `Fake sites on ${sites.url} (GitHub ${sites.github}, Amazon ${sites.amazon}, test ${sites.test}); outbox ${sites.outbox}\n`,
    );
    return untilSignal(() => sites.close());
  },
});
