import { AMAZON_USERS } from '@gleaner/sites';
import { amazonTwoFaSuite } from './support/two-fa-suite.js';
import { wrongCode } from '@gleaner/konnector/testing';

// alice's account proposes SMS on the "where to send the code" page; no codeDestination field.
amazonTwoFaSuite({
  title: 'One Time Password by SMS (account default)',
  user: AMAZON_USERS.alice,
  type: 'sms',
  channel: 'sms',
  rightCode: (site) => site.control.lastCode(AMAZON_USERS.alice.login) ?? 'none',
  wrongCode: (site) => wrongCode(site.control.lastCode(AMAZON_USERS.alice.login)),
});
