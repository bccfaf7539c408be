import { useState } from 'react';
import type { Account } from '@gleaner/contracts';
import { api } from '../api/client.js';
import { CredentialsForm, type CredentialsSubmit } from '../components/credentials-form.js';
import { KonnectorIcon, PageTitle } from '../components/layout.js';
import { useAction } from '../components/use-action.js';
import { defaultLabel, sameLoginAccount } from '../logic/manifest-form.js';
import { paths } from '../logic/routes.js';
import { Link, navigate } from '../router.js';
import { store, useHome } from '../state/store.js';

export function AddAccountPage({ slug }: { slug: string }) {
  const konnectors = useHome((s) => s.konnectors);
  const konnector = konnectors?.find((k) => k.slug === slug);
  const accounts = useHome((s) => s.accounts);
  // The same login on the same site again: said before anything is created, and added only if confirmed.
  const [duplicate, setDuplicate] = useState<{ existing: Account; value: CredentialsSubmit } | null>(null);
  const connect = useAction(async (value: CredentialsSubmit, confirmed = false) => {
    const existing =
      konnector && !confirmed ? sameLoginAccount(konnector, Object.values(accounts), value.fields) : undefined;
    if (existing) {
      setDuplicate({ existing, value });
      return;
    }
    setDuplicate(null);
    const label = value.label || (konnector ? defaultLabel(konnector, value.fields) : '');
    const account = await api.createAccount({
      konnector: slug,
      fields: value.fields,
      connect: true,
      ...(label ? { label } : {}),
    });
    store.dispatch({ type: 'account', account });
    navigate(paths.connecting(account.id));
  });

  if (!konnectors) return <p className="empty">Loading…</p>;
  if (!konnector)
    return (
      <div className="page">
        <PageTitle>Not found</PageTitle>
        <p>
          No konnector named “{slug}” is installed. <Link to={paths.catalogue()}>See the catalogue</Link>.
        </p>
      </div>
    );
  return (
    <div className="page narrow">
      <PageTitle eyebrow={<Link to={paths.catalogue()}>← All websites</Link>}>
        <KonnectorIcon name={konnector.name} src={konnector.icon} /> Connect {konnector.name}
      </PageTitle>
      <p className="lead">{konnector.description}</p>
      <div className="card pad">
        <CredentialsForm
          konnector={konnector}
          submitLabel="Connect"
          busy={connect.busy}
          error={connect.error}
          onSubmit={(v) => void connect.run(v)}
        />
        {duplicate && (
          <div className="notice notice-info" role="alert" data-testid="duplicate-warning">
            <div className="notice-body">
              <p className="notice-title">You already have this account</p>
              <p>
                “{konnector.name} — {duplicate.existing.label}” signs in with the same login. A second one would fetch
                the same documents, and the website may ask for a code for each.
              </p>
            </div>
            <div className="notice-actions">
              <Link to={paths.account(duplicate.existing.id)} className="button primary">
                Open it
              </Link>
              <button type="button" className="button" onClick={() => void connect.run(duplicate.value, true)}>
                Add another anyway
              </button>
            </div>
          </div>
        )}
      </div>
      {konnector.twofa.length > 0 && (
        <p className="hint">This website may ask for a verification code: keep your phone at hand.</p>
      )}
    </div>
  );
}
