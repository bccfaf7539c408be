import type { TwoFaType } from '@gleaner/contracts';

export interface TwoFaText {
  title: string;
  help: string;
  /** False for `app`: the person approves on their phone, nothing is typed. */
  hasInput: boolean;
  /** The label of the code input. */
  inputLabel: string;
}

const TEXT: Record<TwoFaType, TwoFaText> = {
  sms: {
    title: 'Enter the code sent to you by SMS',
    help: 'The website has just sent a text message with a verification code to your phone.',
    hasInput: true,
    inputLabel: 'Code from the SMS',
  },
  email: {
    title: 'Enter the code sent to you by e-mail',
    help: 'The website has just e-mailed you a verification code. Check your inbox (and the spam folder).',
    hasInput: true,
    inputLabel: 'Code from the e-mail',
  },
  app_code: {
    title: 'Enter the code from your authenticator app',
    help: 'Open your authenticator app and type the code it shows for this website. Codes change every 30 seconds.',
    hasInput: true,
    inputLabel: 'Code from your authenticator app',
  },
  app: {
    title: 'Approve the sign-in in your provider’s app',
    help: 'Open the website’s app on your phone and approve the sign-in request. This window closes once it is approved.',
    hasInput: false,
    inputLabel: '',
  },
};

const GENERIC: TwoFaText = {
  title: 'Enter your verification code',
  help: 'The website asks for a verification code to finish signing in.',
  hasInput: true,
  inputLabel: 'Verification code',
};

/**
 * The title and help text of the 2FA dialog for a type of code (null: the konnector did not say).
 * With the site's name, an approval names the site's app rather than "your provider's".
 */
export function twoFaText(type: TwoFaType | null | undefined, siteName?: string): TwoFaText {
  if (type === 'app' && siteName)
    return {
      ...TEXT.app,
      title: `Approve the sign-in in the ${siteName} app`,
      help: `Open the ${siteName} app on your phone and approve the sign-in request. This window closes once it is approved.`,
    };
  return type ? TEXT[type] : GENERIC;
}

export const RETRY_MESSAGE = 'Invalid code, please re-enter it';

/**
 * The input mode for the code field: digits-only codes (SMS, authenticator) get a numeric keypad;
 * e-mail codes may contain letters.
 */
export function codeInputMode(type: TwoFaType | null | undefined): 'numeric' | 'text' {
  return type === 'sms' || type === 'app_code' ? 'numeric' : 'text';
}

const KIND_LABEL: Record<TwoFaType, string> = {
  sms: 'SMS code',
  email: 'e-mail code',
  app_code: 'authenticator app',
  app: 'approval in the website’s app',
};

/** A short name for a kind of 2FA, for the catalogue's tags: "SMS code", "authenticator app". */
export function twoFaKindLabel(type: TwoFaType): string {
  return KIND_LABEL[type];
}

/** The kinds of 2FA a konnector handles, in one sentence. */
export function twoFaKindsSentence(types: readonly TwoFaType[]): string {
  if (types.length === 0) return 'It signs in without a second factor.';
  const labels = types.map(twoFaKindLabel);
  const last = labels.pop() as string;
  return `It handles 2FA by ${labels.length ? `${labels.join(', ')} or ${last}` : last}.`;
}
