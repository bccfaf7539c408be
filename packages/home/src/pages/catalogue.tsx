import type { KonnectorInfo, KonnectorProblem } from '@gleaner/contracts';
import { useEffect, useState } from 'react';
import { api, describeError } from '../api/client.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { KonnectorIcon, PageTitle } from '../components/layout.js';
import { removeInUseSentence } from '../logic/konnector-install.js';
import { paths } from '../logic/routes.js';
import { Link } from '../router.js';
import { loadKonnectors } from '../state/actions.js';
import { useHome } from '../state/store.js';
import { twoFaKindLabel } from '../twofa-text.js';

const SOURCE_LABEL: Record<KonnectorInfo['source'], string> = {
  installed: 'Installed package',
  development: 'Development folder',
};

export function CataloguePage() {
  const konnectors = useHome((s) => s.konnectors);
  const [removing, setRemoving] = useState<Removing | null>(null);
  const [problems, setProblems] = useState<KonnectorProblem[]>([]);
  useEffect(() => {
    // Read again whenever the list changes (an install or a removal can add or clear a problem).
    let live = true;
    api
      .konnectorProblems()
      .then((found) => live && setProblems(found))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [konnectors]);
  return (
    <div className="page">
      <div className="page-head">
        <PageTitle eyebrow={<Link to={paths.accounts()}>← Accounts</Link>}>Add an account</PageTitle>
        <Link to={paths.install()} className="button">
          Install a konnector
        </Link>
      </div>
      <p className="lead">Choose the website to connect. Your credentials are stored encrypted on your own server.</p>
      {!konnectors ? (
        <p className="empty">Loading…</p>
      ) : konnectors.length === 0 ? (
        <div className="empty-state">
          <h2>No konnectors yet</h2>
          <p>A konnector signs in to one website for you. Install one from the package its author gives you.</p>
          <Link to={paths.install()} className="button primary">
            Install a konnector
          </Link>
        </div>
      ) : (
        <ul className="konnector-grid" aria-label="Available konnectors">
          {konnectors.map((k) => (
            <KonnectorCard
              key={k.slug}
              konnector={k}
              onRemove={() => setRemoving({ slug: k.slug, name: k.name, title: `${k.name} ${k.version}` })}
            />
          ))}
        </ul>
      )}
      {problems.length > 0 && (
        <ProblemList
          problems={problems}
          onRemove={(slug) => setRemoving({ slug, name: slug, title: `the installed ${slug}` })}
        />
      )}
      {removing && <RemoveDialog konnector={removing} onClose={() => setRemoving(null)} />}
    </div>
  );
}

function KonnectorCard({ konnector: k, onRemove }: { konnector: KonnectorInfo; onRemove: () => void }) {
  return (
    <li className="card konnector-card" data-testid="konnector-card" data-slug={k.slug}>
      <KonnectorIcon name={k.name} src={k.icon} />
      <div className="konnector-card-body">
        <h2>
          <Link to={paths.add(k.slug)} className="stretched">
            {k.name}
          </Link>
        </h2>
        <p className="muted">{k.description}</p>
        <p className="konnector-meta" data-testid="konnector-meta">
          <span data-testid="konnector-version">Version {k.version}</span> · <span>{SOURCE_LABEL[k.source]}</span>
        </p>
        <p className="tags" data-testid="konnector-twofa">
          <span className="tags-label">2FA:</span>
          {k.twofa.length === 0 ? (
            <span className="tag neutral">none</span>
          ) : (
            k.twofa.map((t) => (
              <span key={t} className="tag">
                {twoFaKindLabel(t)}
              </span>
            ))
          )}
        </p>
        {k.source === 'installed' && (
          <button type="button" className="button small danger-outline above-link" onClick={onRemove}>
            Remove<span className="visually-hidden"> {k.name}</span>
          </button>
        )}
      </div>
    </li>
  );
}

/** The konnectors the stack found but does not offer, each with what is wrong, for the person who installs them. */
function ProblemList({ problems, onRemove }: { problems: KonnectorProblem[]; onRemove: (slug: string) => void }) {
  return (
    <section className="section" aria-labelledby="konnector-problems-title">
      <h2 id="konnector-problems-title">Not available</h2>
      <ul className="card pad konnector-problems" data-testid="konnector-problems">
        {problems.map((p, i) => (
          <li key={i} data-testid="konnector-problem">
            <strong>{p.slug ?? p.dir}</strong> <span className="muted">({SOURCE_LABEL[p.source].toLowerCase()})</span>
            <ul className="problems">
              {p.problems.map((problem, j) => (
                <li key={j}>
                  <code>{problem.path}</code> {problem.message}
                </li>
              ))}
            </ul>
            {p.source === 'installed' && p.slug && (
              <button type="button" className="button small danger-outline" onClick={() => onRemove(p.slug as string)}>
                Remove<span className="visually-hidden"> the installed {p.slug}</span>
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * Asks before removing; when the stack answers that accounts still use the konnector, says how many and
 * offers to remove it anyway (those accounts then stop running).
 */
/** What the removal dialog is about: the slug sent, the name in its sentences, the title's words. */
type Removing = { slug: string; name: string; title: string };

function RemoveDialog({ konnector, onClose }: { konnector: Removing; onClose: () => void }) {
  const [inUse, setInUse] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      const outcome = await api.uninstallKonnector(konnector.slug, { force: inUse !== null });
      if (outcome.kind === 'in-use') {
        setInUse(outcome.accounts);
        return;
      }
      await loadKonnectors().catch(() => {});
      onClose();
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <ConfirmDialog
      open
      title={`Remove ${konnector.title}?`}
      confirmLabel={inUse === null ? 'Remove' : 'Remove anyway'}
      danger
      busy={busy}
      onConfirm={() => void remove()}
      onClose={onClose}
    >
      {inUse === null ? (
        <p>Its package is deleted from this server. You can install it again later.</p>
      ) : (
        <p data-testid="remove-in-use">{removeInUseSentence(inUse, konnector.name)}</p>
      )}
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
    </ConfirmDialog>
  );
}
