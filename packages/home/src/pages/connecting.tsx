import { useEffect, useRef } from 'react';
import { isTwoFaState } from '@gleaner/contracts';
import { ErrorNotice } from '../components/error-notice.js';
import { KonnectorIcon, PageTitle } from '../components/layout.js';
import { ProgressSteps } from '../components/progress-steps.js';
import { connectProgress } from '../logic/progress.js';
import { paths } from '../logic/routes.js';
import { Link } from '../router.js';
import { loadFiles, loadJobs } from '../state/actions.js';
import { store, useHome } from '../state/store.js';

/** A run followed live: signing in, the code, fetching, done. "Connected" as soon as the login is confirmed. */
export function ConnectingPage({ id }: { id: string }) {
  const account = useHome((s) => s.accounts[id]);
  const konnectors = useHome((s) => s.konnectors);
  const dismissed = useHome((s) => s.dismissed);
  const files = useHome((s) => s.filesByAccount[id]);
  const jobs = useHome((s) => s.jobsByAccount[id]);
  const sawCode = useRef(false);
  const sawApproval = useRef(false);
  const jobId = account?.lastJob?.id;
  const lastJobRef = useRef(jobId);
  if (lastJobRef.current !== jobId) {
    // A new run: forget what the previous one did.
    lastJobRef.current = jobId;
    sawCode.current = false;
    sawApproval.current = false;
  }
  if (account && isTwoFaState(account.state)) {
    sawCode.current = true;
    if (account.prompt?.type === 'app') sawApproval.current = true;
  }

  useEffect(() => {
    void loadFiles(id).catch(() => {});
    void loadJobs(id).catch(() => {});
  }, [id]);

  if (!account) return <p className="empty">Loading…</p>;
  const konnector = konnectors?.find((k) => k.slug === account.konnector);
  const name = konnector?.name ?? account.konnector;
  const job = account.lastJob;
  const progress = connectProgress(account, job, sawCode.current, sawApproval.current);
  // "Connecting" for an account's first sign-in; a later run (Run now, Reconnect) is a run.
  const firstSignIn =
    !account.sessionSaved && !(jobs ?? []).some((j) => j.id !== job?.id && j.loginStatus === 'succeeded');
  const filesThisRun = job ? (files ?? []).filter((f) => f.jobId === job.id).length : 0;
  const waiting = account.prompt?.status === 'waiting' && isTwoFaState(account.state) ? account.prompt : null;
  const putAside = waiting && dismissed.includes(waiting.id);

  return (
    <div className="page narrow">
      <PageTitle
        eyebrow={
          <Link to={paths.account(id)}>
            ← {name} — {account.label}
          </Link>
        }
      >
        <KonnectorIcon name={name} src={konnector?.icon} /> {firstSignIn ? 'Connecting' : 'Running'} {name}
      </PageTitle>
      <div className="card pad connecting" data-testid="connecting">
        <p className="connecting-headline" role="status" aria-live="polite" data-testid="connecting-headline">
          {progress.headline}
        </p>
        <ProgressSteps steps={progress.steps} />
        {putAside && (
          <div className="notice notice-info">
            <p className="notice-body">
              {waiting.type === 'app'
                ? 'The website is waiting for your approval.'
                : 'The website is waiting for your code.'}
            </p>
            <div className="notice-actions">
              <button
                type="button"
                className="button primary"
                onClick={() => store.dispatch({ type: 'undismiss', promptId: waiting.id })}
              >
                {waiting.type === 'app' ? 'Show the request' : 'Enter the code'}
              </button>
            </div>
          </div>
        )}
        {progress.connected && !progress.failed && (
          <div className="notice notice-success" data-testid="connected">
            <div className="notice-body">
              <p className="notice-title">Connected</p>
              <p>
                {progress.finished
                  ? `Finished: ${job?.filesSaved ?? filesThisRun} new document${(job?.filesSaved ?? filesThisRun) === 1 ? '' : 's'}.`
                  : `You can leave this page: the documents keep arriving in the background.${filesThisRun ? ` ${filesThisRun} so far.` : ''}`}
              </p>
            </div>
            <div className="notice-actions">
              <Link to={paths.account(id)} className="button primary">
                See the account
              </Link>
            </div>
          </div>
        )}
        {progress.failed && job && <ErrorNotice account={account} code={job.error} mode={job.mode} />}
      </div>
    </div>
  );
}
