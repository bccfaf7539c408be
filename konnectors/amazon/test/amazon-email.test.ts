import { AMAZON_USERS } from '@gleaner/sites';
import { amazonTwoFaSuite } from './support/two-fa-suite.js';
import { wrongCode } from '@gleaner/konnector/testing';

// bob's account proposes e-mail on the "where to send the code" page.
amazonTwoFaSuite({
  title: 'One Time Password by e-mail (account default)',
  user: AMAZON_USERS.bob,
  type: 'email',
  channel: 'email',
  rightCode: (site) => site.control.lastCode(AMAZON_USERS.bob.login) ?? 'none',
  wrongCode: (site) => wrongCode(site.control.lastCode(AMAZON_USERS.bob.login)),
});

// alice's account proposes SMS, but her codeDestination field asks for e-mail.
amazonTwoFaSuite({
  title: 'One Time Password by e-mail (chosen by the codeDestination field)',
  user: AMAZON_USERS.alice,
  fields: { codeDestination: 'email' },
  type: 'email',
  channel: 'email',
  rightCode: (site) => site.control.lastCode(AMAZON_USERS.alice.login) ?? 'none',
  wrongCode: (site) => wrongCode(site.control.lastCode(AMAZON_USERS.alice.login)),
});
