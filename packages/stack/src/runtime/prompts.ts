import { Secret, type AnswerOutcome, type Prompt, type ResendOutcome } from '@gleaner/contracts';
import { reducePrompt } from '../core/prompt-lifecycle.js';
import { StackError } from '../errors.js';
import type { CodeSourceKind } from '../storage/stores.js';
import { iso } from './clock.js';
import { promptView, publishPrompt, type StackContext } from './context.js';

/** The shortest wait between two new codes, whatever the konnector says: a person's double press is not two SMS. */
export const MIN_RESEND_COOLDOWN_MS = 5_000;

/**
 * Answers to prompts. The decision is the pure `reducePrompt`; the database row is the arbiter of
 * races: an attempt only counts through a conditional UPDATE on a waiting, unexpired prompt, so of
 * two codes submitted at once exactly one is accepted. The code goes to the waiting job through the
 * prompt bus and is stored nowhere (only the count of attempts is).
 */
export class PromptService {
  constructor(private readonly ctx: StackContext) {}

  async get(promptId: string): Promise<Prompt> {
    const prompt = await this.ctx.storage.prompts.get(promptId);
    if (!prompt) throw new StackError('not_found', `no prompt ${promptId}`);
    return promptView(prompt);
  }

  /** Submits a code: a person's (Home, the terminal), or one a code source found (`source`). */
  async answer(
    promptId: string,
    rawCode: string,
    options: { trustDevice?: boolean; source?: CodeSourceKind } = {},
  ): Promise<AnswerOutcome> {
    const { storage, clock, config } = this.ctx;
    // A lost race means the row changed under us: decide again on what it became.
    for (let round = 0; round < 3; round++) {
      const prompt = await storage.prompts.get(promptId);
      if (!prompt) throw new StackError('not_found', `no prompt ${promptId}`);
      // An approval in the provider's app takes no code: whatever is posted is not one.
      if (prompt.type === 'app' && prompt.status === 'waiting') return 'bad_format';
      const now = clock.now();
      const step = reducePrompt(
        {
          status: prompt.status,
          attempts: prompt.attempts,
          expiresAt: Date.parse(prompt.expiresAt),
          type: prompt.type,
        },
        { type: 'submit', code: rawCode },
        now,
        config.maxCodeAttempts,
      );
      const outcome = step.outcome ?? 'not_waiting';
      if (outcome !== 'accepted' && outcome !== 'bad_format') return outcome;
      const counted = await storage.prompts.recordAttempt(promptId, {
        now: iso(now),
        maxAttempts: config.maxCodeAttempts,
        answer: outcome === 'accepted',
        answeredBy: options.source ?? 'person',
      });
      if (!counted) continue;
      if (outcome === 'accepted') {
        const deliver = step.effects.find((e) => e.type === 'deliver');
        if (deliver)
          await this.ctx.promptBus.send(promptId, {
            kind: 'code',
            code: new Secret(deliver.code),
            ...(options.source ? { source: options.source } : {}),
            ...(prompt.trustDevice && options.trustDevice !== undefined ? { trustDevice: options.trustDevice } : {}),
          });
      } else if (step.effects.some((e) => e.type === 'reject')) {
        // Every attempt used on malformed codes: the prompt is locked and its job ends now.
        if (await storage.prompts.closeIfWaiting(promptId, 'cancelled'))
          await this.ctx.promptBus.send(promptId, { kind: 'locked' });
      }
      await publishPrompt(this.ctx, promptId);
      return outcome;
    }
    return 'not_waiting';
  }

  /**
   * "Send a new code": asks the konnector to make the site send one (by `method`, one of the
   * prompt's choices), at most once per cooldown. The cooldown is taken in the database before the
   * konnector is asked, so that two presses (on two nodes) make one SMS.
   */
  async resend(promptId: string, method?: string): Promise<{ outcome: ResendOutcome; availableAt: string | null }> {
    const { storage, clock } = this.ctx;
    const prompt = await storage.prompts.get(promptId);
    if (!prompt) throw new StackError('not_found', `no prompt ${promptId}`);
    const now = clock.now();
    const availableAt = prompt.resendAvailableAt;
    if (prompt.status === 'expired' || (prompt.status === 'waiting' && Date.parse(prompt.expiresAt) <= now))
      return { outcome: 'expired', availableAt };
    if (prompt.status !== 'waiting') return { outcome: 'not_waiting', availableAt };
    if (availableAt === null) return { outcome: 'not_offered', availableAt };
    if (method !== undefined && !prompt.methods.some((m) => m.id === method))
      return { outcome: 'not_offered', availableAt };
    const nextAt = iso(now + MIN_RESEND_COOLDOWN_MS);
    if (!(await storage.prompts.claimResend(promptId, { now: iso(now), nextAt }))) {
      const current = await storage.prompts.get(promptId);
      if (current?.status !== 'waiting')
        return { outcome: 'not_waiting', availableAt: current?.resendAvailableAt ?? null };
      return { outcome: 'cooldown', availableAt: current.resendAvailableAt };
    }
    await this.ctx.promptBus.send(promptId, { kind: 'resend', ...(method !== undefined ? { method } : {}) });
    await publishPrompt(this.ctx, promptId);
    return { outcome: 'sent', availableAt: nextAt };
  }

  /** The person gave up on this prompt (e.g. an approval in an app): the job ends JOB_CANCELLED. */
  async cancel(promptId: string): Promise<void> {
    const { storage } = this.ctx;
    const prompt = await storage.prompts.get(promptId);
    if (!prompt) throw new StackError('not_found', `no prompt ${promptId}`);
    if (!(await storage.prompts.closeIfWaiting(promptId, 'cancelled'))) {
      throw new StackError('conflict', `prompt ${promptId} is not waiting`);
    }
    await this.ctx.promptBus.send(promptId, { kind: 'cancelled' });
    await publishPrompt(this.ctx, promptId);
  }
}
