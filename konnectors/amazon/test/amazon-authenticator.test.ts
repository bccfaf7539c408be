import { AMAZON_CAROL_TOTP_SECRET, AMAZON_USERS, totpCode } from '@gleaner/sites';
import { amazonTwoFaSuite } from './support/two-fa-suite.js';
import { wrongCode } from '@gleaner/konnector/testing';

// carol uses an authenticator app: Amazon goes straight from the password to the code page.
amazonTwoFaSuite({
  title: 'authenticator app (app_code)',
  user: AMAZON_USERS.carol,
  type: 'app_code',
  rightCode: (site) => site.control.currentTotp(AMAZON_USERS.carol.login),
  wrongCode: (site) => {
    const now = site.control.clock.now();
    return wrongCode(...[-30_000, 0, 30_000].map((shift) => totpCode(AMAZON_CAROL_TOTP_SECRET, now + shift)));
  },
});
