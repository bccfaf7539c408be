import type { Trigger } from '@gleaner/contracts';
import { errorMessage } from '../error-messages.js';
import { formatDateTime } from './format.js';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** "Every Tuesday at 03:12 (Europe/Paris time)": the schedule in the stack's own time zone. */
export function describeSchedule(trigger: Pick<Trigger, 'frequency' | 'time' | 'weekday' | 'timeZone'>): string {
  if (trigger.frequency === 'off') return 'Manual runs only';
  const day = trigger.frequency === 'weekly' ? `Every ${WEEKDAYS[trigger.weekday] ?? 'week'}` : 'Every day';
  return `${day} at ${trigger.time} (${trigger.timeZone} time)`;
}

/**
 * The next run as it will really happen: while the account is paused, the planned time comes and is
 * skipped, so it is not announced as a run.
 */
/** What Home says of a manual-only konnector's account instead of a schedule (manifest `manualOnly`). */
export const MANUAL_ONLY_TEXT =
  'Never scheduled: this website’s session does not last until the next night. Run it yourself when you want fresh data.';

export function nextRunText(
  trigger: Pick<Trigger, 'nextRunAt' | 'timeZone'> | null,
  nextRunAt: string | null,
  paused: boolean,
  locale?: string,
): string {
  const at = trigger?.nextRunAt ?? nextRunAt;
  const when = at ? formatDateTime(at, locale, trigger?.timeZone) : null;
  const zone = trigger ? ` (${trigger.timeZone})` : '';
  if (paused)
    return when ? `Paused until you act: the run planned for ${when}${zone} will be skipped` : 'Paused until you act';
  return when ? `${when}${zone}` : 'Not scheduled';
}

/** Why a scheduled run did not start, in words; `titleOf` names a pausing error as the account tells it. */
export function skipReasonText(
  reason: string | null,
  titleOf: (code: string) => string = (code) => errorMessage(code).title,
): string {
  if (!reason) return 'for a reason the stack did not record';
  if (reason === 'BUSY') return 'another run of this account was going on';
  if (reason === 'conflict') return 'the server was shutting down';
  if (/^[A-Z_]+(\.[A-Z_]+)*$/.test(reason)) return `the account waits for you (${titleOf(reason)})`;
  return `the server refused it (${reason})`;
}
