import { useEffect, useId, useState, type FormEvent } from 'react';
import type { Trigger } from '@gleaner/contracts';
import { api, describeError } from '../api/client.js';
import { describeSchedule, MANUAL_ONLY_TEXT, nextRunText } from '../logic/schedule.js';
import { loadAccounts } from '../state/actions.js';
import { useAction } from './use-action.js';

/**
 * The account's schedule (its trigger): daily, weekly or off, at a time of day of the stack's time
 * zone; it says the weekday of weekly runs and the next run as it will really happen (`paused`: skipped).
 */
export function ScheduleForm({
  accountId,
  paused,
  manualOnly = false,
  version,
  onChange,
}: {
  accountId: string;
  paused: boolean;
  /** The konnector is manual-only (its site's session never lasts the night): no schedule to set. */
  manualOnly?: boolean;
  /** Reloads the trigger when it changes (the account's next run moved: a run started or was skipped). */
  version?: string;
  onChange?: (trigger: Trigger) => void;
}) {
  const [trigger, setTrigger] = useState<Trigger | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [frequency, setFrequency] = useState<Trigger['frequency']>('daily');
  const [time, setTime] = useState('03:00');
  const [saved, setSaved] = useState(false);
  const id = useId();

  useEffect(() => {
    let live = true;
    api.trigger(accountId).then(
      (t) => {
        if (!live) return;
        setTrigger(t);
        onChange?.(t);
        setFrequency(t.frequency);
        setTime(t.time);
      },
      (e: unknown) => live && setLoadError(describeError(e)),
    );
    return () => {
      live = false;
    };
  }, [accountId, version]);

  const save = useAction(async () => {
    const t = await api.setTrigger(accountId, frequency === 'off' ? { frequency } : { frequency, time });
    setTrigger(t);
    onChange?.(t);
    setSaved(true);
    await loadAccounts();
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    void save.run();
  };

  if (manualOnly)
    return (
      <p className="schedule-summary" data-testid="schedule-summary">
        {MANUAL_ONLY_TEXT}
      </p>
    );
  if (loadError) return <p className="inline-error">{loadError}</p>;
  if (!trigger) return <p className="empty">Loading the schedule…</p>;
  return (
    <form className="schedule" onSubmit={submit}>
      <p className="schedule-summary" data-testid="schedule-summary">
        {describeSchedule(trigger)}
        {trigger.frequency !== 'off' && <> · Next run: {nextRunText(trigger, null, paused)}</>}
      </p>
      <div className="field">
        <label htmlFor={`${id}-freq`}>Run automatically</label>
        <select
          id={`${id}-freq`}
          value={frequency}
          onChange={(e) => setFrequency(e.target.value as Trigger['frequency'])}
        >
          <option value="daily">Every day</option>
          <option value="weekly">Every week</option>
          <option value="off">Never (manual runs only)</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-time`}>At ({trigger.timeZone} time)</label>
        <input
          id={`${id}-time`}
          type="time"
          value={time}
          disabled={frequency === 'off'}
          onChange={(e) => setTime(e.target.value)}
          required
        />
      </div>
      <div className="schedule-actions">
        <button type="submit" className="button" disabled={save.busy}>
          {save.busy ? 'Saving…' : 'Save schedule'}
        </button>
        <span role="status" className="hint">
          {saved && !save.error ? 'Saved.' : ''}
        </span>
      </div>
      {save.error && (
        <p className="inline-error" role="alert">
          {save.error}
        </p>
      )}
    </form>
  );
}
