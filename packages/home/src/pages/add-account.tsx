import { api } from '../api/client.js';
import { CredentialsForm, type CredentialsSubmit } from '../components/credentials-form.js';
import { KonnectorIcon, PageTitle } from '../components/layout.js';
import { useAction } from '../components/use-action.js';
import { defaultLabel } from '../logic/manifest-form.js';
import { paths } from '../logic/routes.js';
import { Link, navigate } from '../router.js';
import { store, useHome } from '../state/store.js';

export function AddAccountPage({ slug }: { slug: string }) {
  const konnectors = useHome((s) => s.konnectors);
  const konnector = konnectors?.find((k) => k.slug === slug);
  const connect = useAction(async (value: CredentialsSubmit) => {
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
      </div>
      {konnector.twofa.length > 0 && (
        <p className="hint">This website may ask for a verification code: keep your phone at hand.</p>
      )}
    </div>
  );
}
