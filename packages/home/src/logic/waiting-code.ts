import { isTwoFaState, type Account } from '@gleaner/contracts';

/** A code some account's sign-in is waiting for, as the header and the page title show it. */
export interface WaitingCode {
  accountId: string;
  label: string;
  promptId: string;
  expiresAt: string;
}

/** The accounts whose job waits for a person's code or approval now, the most recently asked first. */
export function waitingCodes(accounts: readonly Account[], now: number): WaitingCode[] {
  return accounts
    .filter(
      (a) =>
        a.prompt !== null &&
        a.prompt.status === 'waiting' &&
        Date.parse(a.prompt.expiresAt) > now &&
        isTwoFaState(a.state),
    )
    .map((a) => ({
      accountId: a.id,
      label: a.label,
      promptId: a.prompt?.id ?? '',
      expiresAt: a.prompt?.expiresAt ?? '',
      createdAt: a.prompt?.createdAt ?? '',
    }))
    .sort((x, y) => y.createdAt.localeCompare(x.createdAt))
    .map(({ createdAt: _createdAt, ...code }) => code);
}

/** The page title's prefix while codes wait ("Code waiting · "), so that a tab in the background says so. */
export function waitingTitlePrefix(codes: readonly WaitingCode[]): string {
  if (codes.length === 0) return '';
  return codes.length === 1 ? 'Code waiting · ' : `${codes.length} codes waiting · `;
}

/** "4 attempts left before the site locks the account"; the last one said so plainly. */
export function attemptsLeftText(left: number): string {
  if (left <= 0) return 'No attempt left: the site locks the account at the next wrong code.';
  if (left === 1) return 'Last attempt: one more wrong code and the site locks the account.';
  return `${left} attempts left before the site locks the account.`;
}

/** The resend button's label: "Send a new code", or the time to wait ("Send a new code in 0:25"). */
export function resendLabel(availableAt: string, now: number, toOtherMethod: boolean): { label: string; waitMs: number } {
  const waitMs = Math.max(0, Date.parse(availableAt) - now);
  const base = toOtherMethod ? 'Send the code there' : 'Send a new code';
  if (waitMs <= 0) return { label: base, waitMs: 0 };
  const total = Math.ceil(waitMs / 1000);
  return { label: `${base} in ${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`, waitMs };
}
