import { useEffect, useState } from 'react';
import type { Trigger } from '@gleaner/contracts';
import { api } from '../api/client.js';
import { ActionNeededBanner } from '../components/action-needed-banner.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { ErrorNotice } from '../components/error-notice.js';
import { errorMessage } from '../error-messages.js';
import { FileList } from '../components/file-list.js';
import { JobHistory } from '../components/job-history.js';
import { KonnectorIcon, PageTitle } from '../components/layout.js';
import { BackgroundTry } from '../components/background-try.js';
import { CodeSources } from '../components/code-sources.js';
import { ScheduleForm } from '../components/schedule-form.js';
import { StatusBadge } from '../components/status-badge.js';
import { useAction } from '../components/use-action.js';
import { pausedMessage } from '../logic/account-status.js';
import { formatDateTime, formatRelative } from '../logic/format.js';
import { MANUAL_ONLY_TEXT, nextRunText } from '../logic/schedule.js';
import { reconnectRequested, sessionHealthView } from '../logic/session-health.js';
import { NextStepButton } from '../components/next-step-button.js';
import { RenewalForm } from '../components/renewal-form.js';
import { paths } from '../logic/routes.js';
import { Link, navigate } from '../router.js';
import { loadFiles, loadJobs, runNow } from '../state/actions.js';
import { useNow } from '../state/now.js';
import { store, useHome } from '../state/store.js';

export function AccountPage({ id }: { id: string }) {
  const account = useHome((s) => s.accounts[id]);
  const loaded = useHome((s) => s.accountsLoaded);
  const konnectors = useHome((s) => s.konnectors);
  const jobs = useHome((s) => s.jobsByAccount[id]);
  const files = useHome((s) => s.filesByAccount[id]);
  const now = useNow(30_000);
  const [confirm, setConfirm] = useState<'delete' | 'reset' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [deleteFiles, setDeleteFiles] = useState(false);
  const [trigger, setTrigger] = useState<Trigger | null>(null);
  // Read once per account: a notification's link asks for Reconnect ready.
  const [ready] = useState(() => reconnectRequested(window.location.search));

  useEffect(() => {
    void loadJobs(id).catch(() => {});
    void loadFiles(id).catch(() => {});
  }, [id]);

  const run = useAction(async () => {
    await runNow(id);
    navigate(paths.connecting(id));
  });
  const reset = useAction(async () => {
    await api.resetSession(id);
    setConfirm(null);
    setNotice('The saved session was forgotten. The next run signs in again.');
  });
  const remove = useAction(async () => {
    await api.deleteAccount(id, { keepFiles: !deleteFiles });
    setConfirm(null);
    store.dispatch({ type: 'account-removed', accountId: id });
    navigate(paths.accounts(), { replace: true });
  });

  if (!account) {
    if (!loaded) return <p className="empty">Loading…</p>;
    return (
      <div className="page">
        <PageTitle>Account not found</PageTitle>
        <p>
          It may have been deleted. <Link to={paths.accounts()}>Back to your accounts</Link>.
        </p>
      </div>
    );
  }

  const konnector = konnectors?.find((k) => k.slug === account.konnector);
  const name = konnector?.name ?? account.konnector;
  const job = account.lastJob;
  const active = job && (job.status === 'queued' || job.status === 'running');
  const lastEnded = jobs?.find((j) => j.endedAt)?.endedAt ?? job?.endedAt ?? null;
  const health = sessionHealthView(account, now);

  return (
    <div className="page">
      <PageTitle eyebrow={<Link to={paths.accounts()}>← Accounts</Link>}>
        <KonnectorIcon name={name} src={konnector?.icon} /> {name}
      </PageTitle>
      <div className="account-head">
        <p className="muted account-label">{account.label}</p>
        <StatusBadge account={account} />
      </div>

      {account.needsAction && !active && (
        <ActionNeededBanner account={account} konnectorName={name} linkToAccount={false} ready={ready} />
      )}
      {!account.needsAction && !active && health.warning && (
        <div
          className="notice notice-warning"
          role="region"
          aria-label="Session ends soon"
          data-testid="session-warning"
        >
          <div className="notice-body">
            <p>{health.warning}</p>
            <RenewalForm account={account} />
          </div>
          <div className="notice-actions">
            <NextStepButton account={account} next="reconnect" ready={ready} />
          </div>
        </div>
      )}
      {!account.needsAction && job?.status === 'errored' && (
        <ErrorNotice account={account} code={job.error} mode={job.mode} />
      )}
      {active && (
        <div className="notice notice-info">
          <p className="notice-body">A run is going on.</p>
          <div className="notice-actions">
            <Link to={paths.connecting(id)} className="button">
              Follow it
            </Link>
          </div>
        </div>
      )}
      {notice && (
        <p className="notice notice-success" role="status">
          {notice}
        </p>
      )}

      <section className="card pad" aria-labelledby="overview-title">
        <h2 id="overview-title" className="visually-hidden">
          Overview
        </h2>
        <dl className="facts">
          <div>
            <dt>Last run</dt>
            <dd>{lastEnded ? `${formatDateTime(lastEnded)} (${formatRelative(lastEnded, now)})` : 'Never'}</dd>
          </div>
          <div>
            <dt>Next run</dt>
            <dd data-testid="next-run">
              {konnector?.manualOnly ? MANUAL_ONLY_TEXT : nextRunText(trigger, account.nextRunAt, account.needsAction)}
              {!konnector?.manualOnly &&
                !account.needsAction &&
                account.nextRunAt &&
                ` · ${formatRelative(account.nextRunAt, now)}`}
            </dd>
          </div>
          <div>
            <dt>Website session</dt>
            <dd data-testid="session-health">
              {account.sessionSaved
                ? health.text
                  ? `Saved · ${health.text}`
                  : 'Saved (no code needed while it lasts)'
                : 'None saved'}
            </dd>
          </div>
          <div>
            <dt>Documents</dt>
            <dd>{files ? files.length : '…'}</dd>
          </div>
        </dl>
        <div className="toolbar">
          <button
            type="button"
            className="button primary"
            autoFocus={ready && !account.needsAction && !health.warning}
            disabled={run.busy || !!active}
            onClick={() => void run.run()}
          >
            {run.busy ? 'Starting…' : 'Run now'}
          </button>
          <Link to={paths.edit(id)} className="button">
            Edit
          </Link>
          <button type="button" className="button" onClick={() => setConfirm('reset')}>
            Reset session
          </button>
          <button type="button" className="button danger-outline" onClick={() => setConfirm('delete')}>
            Delete
          </button>
        </div>
        {run.error && (
          <p className="inline-error" role="alert">
            {run.error}
          </p>
        )}
      </section>

      <section className="section" aria-labelledby="files-title">
        <h2 id="files-title">Documents</h2>
        {files ? <FileList files={files} /> : <p className="empty">Loading…</p>}
      </section>

      <section className="section" aria-labelledby="schedule-title">
        <h2 id="schedule-title">Schedule</h2>
        <div className="card pad">
          <ScheduleForm
            accountId={id}
            paused={account.needsAction}
            manualOnly={konnector?.manualOnly === true}
            version={`${account.nextRunAt ?? ''}|${account.needsAction}`}
            onChange={setTrigger}
          />
        </div>
      </section>

      <section className="section" aria-labelledby="codes-title">
        <h2 id="codes-title">Codes</h2>
        <CodeSources accountId={id} />
        {/* A manual-only konnector has no scheduled run to try. */}
        {!konnector?.manualOnly && <BackgroundTry account={account} />}
      </section>

      <section className="section" aria-labelledby="history-title">
        <h2 id="history-title">Run history</h2>
        {jobs ? (
          <JobHistory
            jobs={jobs}
            skipped={
              trigger?.lastSkippedAt
                ? {
                    at: trigger.lastSkippedAt,
                    reason: trigger.skipReason,
                    titleOf: (code) =>
                      code === account.actionNeeded ? pausedMessage(account).title : errorMessage(code).title,
                  }
                : null
            }
          />
        ) : (
          <p className="empty">Loading…</p>
        )}
      </section>

      <ConfirmDialog
        open={confirm === 'delete'}
        title={`Delete ${name} — ${account.label}?`}
        confirmLabel="Delete account"
        danger
        busy={remove.busy}
        onConfirm={() => void remove.run()}
        onClose={() => {
          setConfirm(null);
          setDeleteFiles(false);
        }}
      >
        <p>Gleaner forgets this account, its credentials and its saved session. Scheduled runs stop.</p>
        {files && files.length > 0 && (
          <>
            <p>
              Its {files.length === 1 ? 'document is' : `${files.length} documents are`} kept: you will find{' '}
              {files.length === 1 ? 'it' : 'them'} under “Kept documents” on your accounts page.
            </p>
            <label className="checkbox">
              <input
                type="checkbox"
                name="delete-files"
                checked={deleteFiles}
                onChange={(e) => setDeleteFiles(e.target.checked)}
              />{' '}
              Delete {files.length === 1 ? 'the document' : `the ${files.length} documents`} too
            </label>
          </>
        )}
        {remove.error && <p className="inline-error">{remove.error}</p>}
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === 'reset'}
        title="Reset the website session?"
        confirmLabel="Reset session"
        busy={reset.busy}
        onConfirm={() => void reset.run()}
        onClose={() => setConfirm(null)}
      >
        <p>The next run signs in from scratch, and the website may ask for a verification code again.</p>
        {reset.error && <p className="inline-error">{reset.error}</p>}
      </ConfirmDialog>
    </div>
  );
}
