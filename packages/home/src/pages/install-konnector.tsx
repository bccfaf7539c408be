import { useRef, useState } from 'react';
import { api, describeError } from '../api/client.js';
import { KonnectorIcon, PageTitle } from '../components/layout.js';
import {
  checkPackageFile,
  formatBytes,
  hiddenByDevelopment,
  installedSentence,
  PACKAGE_MAX_BYTES,
  uploadStatus,
  type InstallOutcome,
} from '../logic/konnector-install.js';
import { paths } from '../logic/routes.js';
import { Link } from '../router.js';
import { loadKonnectors } from '../state/actions.js';
import { useHome } from '../state/store.js';
import { twoFaKindsSentence } from '../twofa-text.js';

type Phase =
  | { kind: 'idle' }
  | { kind: 'uploading'; loaded: number; total: number }
  | { kind: 'done'; outcome: InstallOutcome }
  | { kind: 'failed'; message: string };

/** Install a konnector from its package (.tgz): choose the file, send it, read what the stack made of it. */
export function InstallKonnectorPage() {
  const [file, setFile] = useState<File | null>(null);
  const [choiceError, setChoiceError] = useState<string | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const input = useRef<HTMLInputElement>(null);
  const uploading = phase.kind === 'uploading';

  const install = async (force: boolean) => {
    const problem = checkPackageFile(file);
    if (problem || !file) {
      setChoiceError(problem);
      input.current?.focus();
      return;
    }
    setChoiceError(null);
    setPhase({ kind: 'uploading', loaded: 0, total: file.size });
    try {
      const outcome = await api.installKonnector(file, {
        force,
        onProgress: (loaded, total) => setPhase({ kind: 'uploading', loaded, total }),
      });
      setPhase({ kind: 'done', outcome });
      if (outcome.kind === 'installed') await loadKonnectors().catch(() => {});
    } catch (error) {
      setPhase({ kind: 'failed', message: describeError(error) });
    }
  };

  const progress = uploading ? uploadStatus(phase.loaded, phase.total) : null;
  return (
    <div className="page narrow">
      <PageTitle eyebrow={<Link to={paths.catalogue()}>← All websites</Link>}>Install a konnector</PageTitle>
      <p className="lead">
        A konnector signs in to one website for you and brings your documents home. Its author gives it as one package,
        the <code>.tgz</code> file that <code>gleaner pack</code> writes.
      </p>
      <form
        className="card pad"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void install(false);
        }}
      >
        <div className="field">
          <label htmlFor="konnector-package">Konnector package (.tgz)</label>
          <input
            ref={input}
            id="konnector-package"
            name="package"
            type="file"
            accept=".tgz,.tar.gz,application/gzip,application/x-gzip"
            aria-describedby={choiceError ? 'package-hint package-error' : 'package-hint'}
            aria-invalid={choiceError ? true : undefined}
            disabled={uploading}
            onChange={(event) => {
              setFile(event.target.files?.[0] ?? null);
              setChoiceError(null);
              setPhase({ kind: 'idle' });
            }}
          />
          <p id="package-hint" className="hint">
            At most {formatBytes(PACKAGE_MAX_BYTES)}. The whole package is checked (its manifest, the digest of each
            file) before anything is installed; a newer version replaces the old one from the next run.
          </p>
          {choiceError && (
            <p id="package-error" className="field-error" role="alert">
              {choiceError}
            </p>
          )}
        </div>
        {progress && (
          <div className="upload-progress" role="status" data-testid="upload-progress">
            <progress aria-label="Upload of the package" max={100} value={progress.percent} />
            <span>{progress.label}</span>
          </div>
        )}
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={uploading}>
            {uploading ? 'Installing…' : 'Install'}
          </button>
        </div>
      </form>
      {phase.kind === 'done' && <InstallResult outcome={phase.outcome} onForce={() => void install(true)} />}
      {phase.kind === 'failed' && (
        <div className="notice notice-error" role="alert" data-testid="install-result">
          <div className="notice-body">
            <p className="notice-title">The package could not be installed</p>
            <p>{phase.message}</p>
          </div>
        </div>
      )}
    </div>
  );
}

function InstallResult({ outcome, onForce }: { outcome: InstallOutcome; onForce: () => void }) {
  const listed = useHome((s) => s.konnectors);
  if (outcome.kind === 'installed') {
    const { konnector, previousVersion } = outcome;
    const hidden = hiddenByDevelopment(konnector, listed);
    return (
      <div className="notice notice-success" role="status" data-testid="install-result" data-outcome="installed">
        <KonnectorIcon name={konnector.name} src={konnector.icon} />
        <div className="notice-body">
          <p className="notice-title">{installedSentence(konnector, previousVersion)}</p>
          <p>{twoFaKindsSentence(konnector.twofa)}</p>
          {hidden && (
            <p data-testid="install-hidden">
              A development folder with the same slug ({konnector.slug}) is loaded on this server: jobs use it, not this
              package, until it is removed from the stack’s konnector folders.
            </p>
          )}
        </div>
        <div className="notice-actions">
          <Link to={paths.add(konnector.slug)} className="button primary">
            Add a {konnector.name} account
          </Link>
          <Link to={paths.catalogue()} className="button">
            See all websites
          </Link>
        </div>
      </div>
    );
  }
  if (outcome.kind === 'needs-force')
    return (
      <div className="notice notice-info" role="alert" data-testid="install-result" data-outcome="needs-force">
        <div className="notice-body">
          <p className="notice-title">Not installed: this is not a newer version</p>
          <p>{outcome.message}</p>
        </div>
        <div className="notice-actions">
          <button type="button" className="button" onClick={onForce}>
            Install anyway
          </button>
        </div>
      </div>
    );
  return (
    <div className="notice notice-error" role="alert" data-testid="install-result" data-outcome="refused">
      <div className="notice-body">
        <p className="notice-title">This package was refused; nothing was installed</p>
        {/* The server's sentence lists the same problems: shown only when there is no list. */}
        {outcome.problems.length === 0 && <p>{outcome.message}</p>}
        {outcome.problems.length > 0 && (
          <ul className="problems" aria-label="Problems found in the package">
            {outcome.problems.map((problem, i) => (
              <li key={i} data-testid="package-problem">
                {problem.path && <code>{problem.path}</code>} {problem.message}
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
