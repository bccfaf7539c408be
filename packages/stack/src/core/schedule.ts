/**
 * When scheduled runs happen: each account gets a time of day (and a weekday for weekly runs)
 * spread over its konnector's window, derived from its id, so that accounts of one site do not all
 * knock at the same minute and a restart does not move them. Times are local time of day.
 */
export type Frequency = 'daily' | 'weekly' | 'off';

/** FNV-1a: a stable spread, not a security measure. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A time (HH:MM) in `[start, end)` hours and a weekday (0 = Sunday), both deterministic per id. */
export function spreadTime(accountId: string, window: [number, number]): { time: string; weekday: number } {
  const [start, end] = window;
  const span = Math.max(1, (end > start ? end - start : end + 24 - start) * 60);
  const h = hash(accountId);
  const minutes = (start * 60 + (h % span)) % (24 * 60);
  return {
    time: `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`,
    weekday: (h >>> 16) % 7,
  };
}

/** The first run strictly after `now` (ms), in local time, or null when off. */
export function nextRunAt(
  trigger: { frequency: Frequency; time: string; weekday: number },
  now: number,
): number | null {
  if (trigger.frequency === 'off') return null;
  const [hours, minutes] = trigger.time.split(':').map(Number) as [number, number];
  const at = new Date(now);
  at.setHours(hours, minutes, 0, 0);
  if (trigger.frequency === 'daily') {
    if (at.getTime() <= now) at.setDate(at.getDate() + 1);
    return at.getTime();
  }
  let days = (trigger.weekday - at.getDay() + 7) % 7;
  if (days === 0 && at.getTime() <= now) days = 7;
  at.setDate(at.getDate() + days);
  return at.getTime();
}

export function isValidTime(time: string): boolean {
  const match = /^(\d{2}):(\d{2})$/.exec(time);
  return !!match && Number(match[1]) < 24 && Number(match[2]) < 60;
}
