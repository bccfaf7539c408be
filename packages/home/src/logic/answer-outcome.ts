import {
  ANSWER_STATUS,
  codeFormatMessage,
  codePattern,
  normalizeCode,
  type AnswerOutcome,
  type TwoFaType,
} from '@gleaner/contracts';

/** The outcome of `POST /api/prompts/:id/answer` from its HTTP status. */
export function answerOutcome(status: number): AnswerOutcome | 'failed' {
  for (const [outcome, code] of Object.entries(ANSWER_STATUS) as [AnswerOutcome, number][]) {
    if (code === status) return outcome;
  }
  return status >= 200 && status < 300 ? 'accepted' : 'failed';
}

/** What the dialog says when a code was not taken; null when it was. */
export function answerProblem(outcome: AnswerOutcome | 'failed'): string | null {
  switch (outcome) {
    case 'accepted':
      return null;
    case 'not_waiting':
      return 'This code is no longer expected: the sign-in has moved on.';
    case 'expired':
      return 'Too late: the code request has expired. Reconnect to get a new code.';
    case 'bad_format':
      return 'That does not look like a code. Type the 4 to 12 letters or digits you received.';
    case 'too_many_attempts':
      return 'Too many attempts for this code request. Reconnect to get a new code.';
    case 'failed':
      return 'The code could not be sent. Check your connection and try again.';
  }
}

/**
 * Checks a typed or pasted code before sending it: spaces and dashes dropped, then the type's pattern
 * (digits only for SMS and authenticator codes; 4–12 letters or digits otherwise).
 */
export function prepareCode(
  raw: string,
  type?: TwoFaType | null,
): { ok: true; code: string } | { ok: false; problem: string } {
  const code = normalizeCode(raw.trim());
  if (code.length === 0) return { ok: false, problem: 'Type the code you received.' };
  if (!codePattern(type).test(code))
    return { ok: false, problem: type ? codeFormatMessage(type) : (answerProblem('bad_format') ?? '') };
  return { ok: true, code };
}
