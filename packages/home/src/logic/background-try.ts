import { BUDGET_LOG_PREFIX, CODE_SOURCE_LOG_LINE, type Account, type Job, type JobLogLine } from '@gleaner/contracts';
import { errorMessage } from '../error-messages.js';
import { localTimes } from './format.js';

/** What "Try a background run" shows of the run it started: where it is, then how it ended. */
export interface BackgroundTryView {
  tone: 'running' | 'ok' | 'error';
  /** One sentence: what is going on, or how it ended. */
  headline: string;
  /** How the code came, the files, or what to do: null while there is nothing more to say. */
  detail: string | null;
}

/** The stack's log lines for a code no person typed (shared through the contracts, so they cannot drift apart). */
const SOURCE_LINES: ReadonlySet<string> = new Set(Object.values(CODE_SOURCE_LOG_LINE));

/** The log line that says where this run's code came from (the last one: a refused code is followed by another). */
export function codeSourceLine(lines: readonly JobLogLine[] | undefined): string | null {
  const found = (lines ?? []).filter((line) => SOURCE_LINES.has(line.message)).at(-1);
  return found ? found.message : null;
}

/** The budget's sentence (which limit, until when) from the stack's log line when it refused a new code. */
function budgetLine(lines: readonly JobLogLine[] | undefined): string | null {
  const found = [...(lines ?? [])].reverse().find((line) => line.message.startsWith(BUDGET_LOG_PREFIX));
  return found ? found.message.slice(BUDGET_LOG_PREFIX.length) || null : null;
}

const WAITING_FOR: Record<string, string> = {
  app_code: 'Computing the code from the stored authenticator secret…',
  email: 'Waiting for the code e-mail in your mailbox…',
  sms: 'Waiting for the code in a forwarded SMS…',
};

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const filesText = (n: number) => (n === 1 ? '1 new file.' : `${n} new files.`);

/**
 * The tried run's progress and outcome, told truthfully: a background run asks nobody, so it either
 * signs in by itself (and says how the code came) or stops with the background wording of its error.
 */
export function backgroundTryView(
  job: Job,
  account: Account | undefined,
  lines: readonly JobLogLine[] | undefined,
): BackgroundTryView {
  const source = codeSourceLine(lines);
  if (job.status === 'queued') return { tone: 'running', headline: 'Starting the background run…', detail: null };
  if (job.status === 'running') {
    const prompt = account?.prompt;
    if (prompt && prompt.jobId === job.id && prompt.status === 'waiting')
      return {
        tone: 'running',
        headline: WAITING_FOR[prompt.type ?? ''] ?? 'Waiting for a code from your code sources…',
        detail: 'Nobody is asked: only the code sources can answer.',
      };
    if (job.loginStatus === 'succeeded')
      return {
        tone: 'running',
        headline: 'Signed in with nobody asked. Fetching your documents…',
        detail: source ? `${capitalised(source)}.` : null,
      };
    return { tone: 'running', headline: 'Signing in, as the scheduled run does…', detail: null };
  }
  if (job.status === 'done')
    return {
      tone: 'ok',
      headline: 'Done, with nobody asked.',
      detail: `${source ? `${capitalised(source)}.` : 'No code was needed.'} ${filesText(job.filesSaved)}`,
    };
  if (job.error === 'JOB_CANCELLED')
    return { tone: 'error', headline: 'You cancelled the background run.', detail: null };
  const message = errorMessage(job.error, job.mode);
  // The budget's refusal says which limit and until when in the log: more use than "try again later".
  const budget = job.error === 'TWOFA_BUDGET_EXCEEDED' ? budgetLine(lines) : null;
  return {
    tone: 'error',
    headline: `The background run stopped: ${message.title}.`,
    detail: budget ? `${message.message} Here: ${localTimes(budget)}.` : message.message,
  };
}

/** Whether the account's waiting prompt belongs to a background run (nobody is asked; its sources answer). */
export function promptOfBackgroundRun(account: Account): boolean {
  const prompt = account.prompt;
  const job = account.lastJob;
  return !!prompt && !!job && prompt.jobId === job.id && job.mode === 'background';
}
