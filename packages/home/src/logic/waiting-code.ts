import { isTwoFaState, type Account } from '@gleaner/contracts';

/** A code some account's sign-in is waiting for, as the header and the page title show it. */
export interface WaitingCode {
  accountId: string;
  label: string;
  promptId: string;
  expiresAt: string;
  /** An approval in the site's app waits for a tap, not a code. */
  approval: boolean;
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
      approval: a.prompt?.type === 'app',
      createdAt: a.prompt?.createdAt ?? '',
    }))
    .sort((x, y) => y.createdAt.localeCompare(x.createdAt))
    .map(({ createdAt: _createdAt, ...code }) => code);
}

/** What the header says: "Code waiting", "Approval waiting", "2 sign-ins waiting"; '' for none. */
export function waitingText(codes: readonly WaitingCode[]): string {
  const [first] = codes;
  if (!first) return '';
  if (codes.length > 1) return `${codes.length} sign-ins waiting`;
  return first.approval ? 'Approval waiting' : 'Code waiting';
}

/** The page title's prefix while codes wait ("Code waiting · "), so that a tab in the background says so. */
export function waitingTitlePrefix(codes: readonly WaitingCode[]): string {
  const text = waitingText(codes);
  return text ? `${text} · ` : '';
}

/** "4 attempts left before the site locks the account"; the last one said so plainly. */
export function attemptsLeftText(left: number): string {
  if (left <= 0) return 'No attempt left: the site locks the account at the next wrong code.';
  if (left === 1) return 'Last attempt: one more wrong code and the site locks the account.';
  return `${left} attempts left before the site locks the account.`;
}

/** The resend button's label: "Send a new code", or the time to wait ("Send a new code in 0:25"). */
export function resendLabel(
  availableAt: string,
  now: number,
  toOtherMethod: boolean,
): { label: string; waitMs: number } {
  const waitMs = Math.max(0, Date.parse(availableAt) - now);
  const base = toOtherMethod ? 'Send the code there' : 'Send a new code';
  if (waitMs <= 0) return { label: base, waitMs: 0 };
  const total = Math.ceil(waitMs / 1000);
  return { label: `${base} in ${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`, waitMs };
}
