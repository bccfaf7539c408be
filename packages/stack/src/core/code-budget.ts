import type { PromptStatus, RunMode } from '@gleaner/contracts';

/**
 * How many codes an account's runs may make its site send. Sites lock an account after a few SMS in
 * a day (and people stop reading codes that come every night): the budget stops Gleaner before the
 * site's own limit, and ends the run with `TWOFA_BUDGET_EXCEEDED` instead of asking for one more.
 */
export type CodeBudgetPolicy = {
  /** At most this many prompts (each one a code the site sent) in any rolling window. */
  prompts: number;
  windowHours: number;
  /** After a prompt nobody answered, a background run waits this long before asking again. */
  backoffMinutes: number;
  /**
   * Never a new code sooner than this after the last one (the site's resend interval, when the
   * manifest knows it); the site's own word on a prompt (its resend cooldown) holds whatever this says.
   */
  resendSeconds: number;
};

/** The stack's default, when neither the manifest nor the operator says otherwise. */
export const DEFAULT_CODE_BUDGET: CodeBudgetPolicy = {
  prompts: 5,
  windowHours: 24,
  backoffMinutes: 60,
  resendSeconds: 0,
};

/** One earlier prompt of the account, as the budget sees it (times in ms). */
export type PromptHistoryEntry = {
  createdAt: number;
  expiresAt: number;
  status: PromptStatus;
  /** Asked again after a wrong code: the site sent no new one, it does not count. */
  retry: boolean;
  /** When the site would send a new code (its resend cooldown), if it said. */
  resendAvailableAt: number | null;
};

export type BudgetRefusal = {
  reason: 'window' | 'backoff' | 'resend';
  /** When a code may be asked again (ms). */
  until: number;
  /** One sentence for the job log: which limit, and until when. */
  sentence: string;
};

export type BudgetVerdict = { ok: true; left: number } | ({ ok: false } & BudgetRefusal);

const HOUR = 3_600_000;

/** A policy from the manifest's partial one over a default (each field its own fallback). */
export function budgetPolicy(
  declared: Partial<CodeBudgetPolicy> | undefined,
  fallback: CodeBudgetPolicy = DEFAULT_CODE_BUDGET,
): CodeBudgetPolicy {
  return { ...fallback, ...Object.fromEntries(Object.entries(declared ?? {}).filter(([, v]) => v !== undefined)) };
}

/**
 * Whether a run may make the site send one more code now. Pure: `history` is every prompt of the
 * account (any order), `now` the clock. The back-off applies to background runs only: a person who
 * presses Run is there to read the code.
 *
 * @example
 * checkCodeBudget({ prompts: 3, windowHours: 24, backoffMinutes: 60, resendSeconds: 60 }, threePromptsToday, { mode: 'manual', now })
 * // { ok: false, reason: 'window', until: <the oldest of the three + 24 h>, sentence: '…' }
 */
export function checkCodeBudget(
  policy: CodeBudgetPolicy,
  history: PromptHistoryEntry[],
  run: { mode: RunMode; now: number },
): BudgetVerdict {
  const { now } = run;
  const windowMs = policy.windowHours * HOUR;
  const sent = history.filter((p) => !p.retry);
  const inWindow = sent.filter((p) => p.createdAt > now - windowMs).sort((a, b) => a.createdAt - b.createdAt);
  const refusals: BudgetRefusal[] = [];
  if (inWindow.length >= policy.prompts) {
    // The window frees a place when the oldest prompt that keeps it full leaves it.
    const until = inWindow[inWindow.length - policy.prompts]!.createdAt + windowMs;
    refusals.push({
      reason: 'window',
      until,
      sentence: `this account's site was asked for ${inWindow.length} codes in the last ${policy.windowHours} h (the budget is ${policy.prompts}): no new code before ${new Date(until).toISOString()}`,
    });
  }
  const latest = [...sent].sort((a, b) => b.createdAt - a.createdAt)[0];
  if (latest) {
    const resendAt = Math.max(latest.createdAt + policy.resendSeconds * 1000, latest.resendAvailableAt ?? 0);
    if (resendAt > now)
      refusals.push({
        reason: 'resend',
        until: resendAt,
        sentence: `the last code was sent at ${new Date(latest.createdAt).toISOString()}: the site sends no new one before ${new Date(resendAt).toISOString()}`,
      });
    if (run.mode === 'background' && latest.status === 'expired') {
      const until = latest.expiresAt + policy.backoffMinutes * 60_000;
      if (until > now)
        refusals.push({
          reason: 'backoff',
          until,
          sentence: `the last code asked was not answered: background runs ask for none before ${new Date(until).toISOString()}`,
        });
    }
  }
  if (refusals.length === 0) return { ok: true, left: policy.prompts - inWindow.length };
  // The one that lasts longest is the one that says when.
  const last = refusals.sort((a, b) => b.until - a.until)[0]!;
  return { ok: false, ...last };
}
