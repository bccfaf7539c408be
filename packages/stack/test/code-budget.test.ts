import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  budgetPolicy,
  checkCodeBudget,
  DEFAULT_CODE_BUDGET,
  type PromptHistoryEntry,
} from '../src/core/code-budget.js';

const H = 3_600_000;
const T0 = Date.parse('2030-03-01T00:00:00.000Z');
const policy = { prompts: 3, windowHours: 24, backoffMinutes: 60, resendSeconds: 60 };
const sent = (at: number, patch: Partial<PromptHistoryEntry> = {}): PromptHistoryEntry => ({
  createdAt: at,
  expiresAt: at + 180_000,
  status: 'answered',
  retry: false,
  resendAvailableAt: null,
  ...patch,
});

describe('budget of codes (pure, fake clock)', () => {
  it('at most K prompts in a rolling window: the fourth of a day is refused until the first leaves it', () => {
    const history = [sent(T0), sent(T0 + 2 * H), sent(T0 + 4 * H)];
    assert.deepEqual(checkCodeBudget(policy, history.slice(0, 2), { mode: 'manual', now: T0 + 4 * H }), {
      ok: true,
      left: 1,
    });
    const refused = checkCodeBudget(policy, history, { mode: 'manual', now: T0 + 6 * H });
    assert.equal(refused.ok, false);
    assert.ok(!refused.ok);
    assert.equal(refused.reason, 'window');
    assert.equal(refused.until, T0 + 24 * H);
    assert.match(
      refused.sentence,
      /asked for 3 codes in the last 24 h \(the budget is 3\): no new code before 2030-03-02T00:00:00.000Z/,
    );
    assert.deepEqual(checkCodeBudget(policy, history, { mode: 'manual', now: T0 + 24 * H + 1 }), { ok: true, left: 1 });
  });

  it('a code asked again after a wrong one is not a new code', () => {
    const history = [
      sent(T0),
      sent(T0 + 60_000, { retry: true }),
      sent(T0 + 120_000, { retry: true }),
      sent(T0 + 2 * H),
    ];
    assert.deepEqual(checkCodeBudget(policy, history, { mode: 'manual', now: T0 + 3 * H }), { ok: true, left: 1 });
  });

  it('never a new code within the resend interval, nor before the site said it would send one', () => {
    const verdict = checkCodeBudget(policy, [sent(T0)], { mode: 'manual', now: T0 + 30_000 });
    assert.ok(!verdict.ok);
    assert.equal(verdict.reason, 'resend');
    assert.equal(verdict.until, T0 + 60_000);
    const site = checkCodeBudget(policy, [sent(T0, { resendAvailableAt: T0 + 120_000 })], {
      mode: 'manual',
      now: T0 + 90_000,
    });
    assert.ok(!site.ok);
    assert.equal(site.until, T0 + 120_000);
    assert.equal(checkCodeBudget(policy, [sent(T0)], { mode: 'manual', now: T0 + 60_000 }).ok, true);
  });

  it('after an unanswered prompt, background runs back off; a person who presses Run does not', () => {
    const history = [sent(T0, { status: 'expired' })];
    const background = checkCodeBudget(policy, history, { mode: 'background', now: T0 + 30 * 60_000 });
    assert.ok(!background.ok);
    assert.equal(background.reason, 'backoff');
    assert.equal(background.until, T0 + 180_000 + 60 * 60_000);
    assert.match(background.sentence, /not answered/);
    assert.equal(checkCodeBudget(policy, history, { mode: 'manual', now: T0 + 30 * 60_000 }).ok, true);
    assert.equal(checkCodeBudget(policy, history, { mode: 'background', now: T0 + 2 * H }).ok, true);
  });

  it("the stack's default has no resend interval of its own: the site's word on the prompt holds", () => {
    assert.equal(DEFAULT_CODE_BUDGET.resendSeconds, 0);
    assert.equal(checkCodeBudget(DEFAULT_CODE_BUDGET, [sent(T0)], { mode: 'manual', now: T0 + 1000 }).ok, true);
    const site = checkCodeBudget(DEFAULT_CODE_BUDGET, [sent(T0, { resendAvailableAt: T0 + 30_000 })], {
      mode: 'manual',
      now: T0 + 1000,
    });
    assert.ok(!site.ok);
    assert.equal(site.reason, 'resend');
  });

  it("the manifest's fields over the stack's default, each on its own", () => {
    assert.deepEqual(budgetPolicy(undefined), DEFAULT_CODE_BUDGET);
    assert.deepEqual(budgetPolicy({ prompts: 2 }, policy), { ...policy, prompts: 2 });
    assert.deepEqual(budgetPolicy({ windowHours: 12, backoffMinutes: undefined }), {
      ...DEFAULT_CODE_BUDGET,
      windowHours: 12,
    });
  });
});
