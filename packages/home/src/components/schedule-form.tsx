import { useEffect, useId, useState, type FormEvent } from 'react';
import type { Trigger } from '@gleaner/contracts';
import { api, describeError } from '../api/client.js';
import { formatDateTime } from '../logic/format.js';
import { loadAccounts } from '../state/actions.js';
import { useAction } from './use-action.js';

/** The account's schedule (its trigger): daily, weekly or off, at a time of day. */
export function ScheduleForm({ accountId }: { accountId: string }) {
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
        setFrequency(t.frequency);
        setTime(t.time);
      },
      (e: unknown) => live && setLoadError(describeError(e)),
    );
    return () => {
      live = false;
    };
  }, [accountId]);

  const save = useAction(async () => {
    const t = await api.setTrigger(accountId, frequency === 'off' ? { frequency } : { frequency, time });
    setTrigger(t);
    setSaved(true);
    await loadAccounts();
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    void save.run();
  };

  if (loadError) return <p className="inline-error">{loadError}</p>;
  if (!trigger) return <p className="empty">Loading the schedule…</p>;
  return (
    <form className="schedule" onSubmit={submit}>
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
        <label htmlFor={`${id}-time`}>At</label>
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
          {saved && !save.error
            ? trigger.nextRunAt
              ? `Saved. Next run: ${formatDateTime(trigger.nextRunAt)}`
              : 'Saved.'
            : ''}
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
