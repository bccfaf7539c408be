import { useState } from 'react';
import type { Job } from '@gleaner/contracts';
import { api } from '../api/client.js';
import { errorMessage } from '../error-messages.js';
import { formatDateTime, formatDuration } from '../logic/format.js';
import { skipReasonText } from '../logic/schedule.js';
import { loadLogs } from '../state/actions.js';
import { useNow } from '../state/now.js';
import { useHome } from '../state/store.js';
import { useAction } from './use-action.js';

function jobSummary(job: Job): { tone: string; text: string } {
  if (job.status === 'queued') return { tone: 'running', text: 'Waiting to start' };
  if (job.status === 'running')
    return { tone: 'running', text: job.loginStatus === 'succeeded' ? 'Running (signed in)' : 'Running' };
  if (job.status === 'errored') return { tone: 'error', text: errorMessage(job.error, job.mode).title };
  return { tone: 'ok', text: job.filesSaved === 1 ? '1 new file' : `${job.filesSaved} new files` };
}

/** The last scheduled run that did not start (the stack keeps the last one), and why. */
export interface SkippedRun {
  at: string;
  reason: string | null;
  titleOf?: (code: string) => string;
}

/**
 * The account's runs, newest first, with the last skipped scheduled run in its place; each run opens
 * to show its log (live while it runs).
 */
export function JobHistory({ jobs, skipped = null }: { jobs: Job[]; skipped?: SkippedRun | null }) {
  if (jobs.length === 0 && !skipped) return <p className="empty">No runs yet.</p>;
  const before = skipped ? jobs.filter((job) => (job.startedAt ?? job.createdAt) > skipped.at) : jobs;
  const after = skipped ? jobs.slice(before.length) : [];
  return (
    <ul className="job-list" data-testid="job-history">
      {before.map((job) => (
        <JobItem key={job.id} job={job} />
      ))}
      {skipped && (
        <li className="job job-skipped" data-testid="skipped-run">
          <div className="job-summary-static">
            <span className="dot dot-idle" aria-hidden="true" />
            <span className="job-when">{formatDateTime(skipped.at)}</span>
            <span className="job-what">Scheduled run skipped: {skipReasonText(skipped.reason, skipped.titleOf)}</span>
            <span className="job-meta">Scheduled · not started</span>
          </div>
        </li>
      )}
      {after.map((job) => (
        <JobItem key={job.id} job={job} />
      ))}
    </ul>
  );
}

function JobItem({ job }: { job: Job }) {
  const [open, setOpen] = useState(false);
  const now = useNow(5000);
  const lines = useHome((s) => s.logsByJob[job.id]);
  const logs = useAction(() => loadLogs(job.id));
  const cancel = useAction(() => api.cancelJob(job.id));
  const summary = jobSummary(job);
  const active = job.status === 'queued' || job.status === 'running';
  return (
    <li className="job">
      <details
        onToggle={(e) => {
          const isOpen = (e.target as HTMLDetailsElement).open;
          setOpen(isOpen);
          if (isOpen && !lines) void logs.run();
        }}
      >
        <summary>
          <span className={`dot dot-${summary.tone}`} aria-hidden="true" />
          <span className="job-when">{formatDateTime(job.startedAt ?? job.createdAt)}</span>
          <span className="job-what">{summary.text}</span>
          <span className="job-meta">
            {job.mode === 'manual' ? 'Manual' : 'Background'} · {formatDuration(job.startedAt, job.endedAt, now)}
            {job.konnectorVersion && ` · version ${job.konnectorVersion}`}
          </span>
        </summary>
        {open && (
          <div className="job-detail">
            {active && (
              <button type="button" className="button small" disabled={cancel.busy} onClick={() => void cancel.run()}>
                Cancel this run
              </button>
            )}
            {job.status === 'errored' && <p className="job-error">{errorMessage(job.error, job.mode).message}</p>}
            {logs.error && <p className="inline-error">{logs.error}</p>}
            {lines && lines.length > 0 ? (
              <pre className="log" aria-label="Run log" tabIndex={0}>
                {lines
                  .map((l) => `${new Date(l.at).toLocaleTimeString()}  ${l.level.toUpperCase().padEnd(5)} ${l.message}`)
                  .join('\n')}
              </pre>
            ) : (
              !logs.error && <p className="empty">{logs.busy ? 'Loading the log…' : 'No log lines.'}</p>
            )}
          </div>
        )}
      </details>
    </li>
  );
}
