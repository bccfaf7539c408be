import { api, ApiRequestError } from '../api/client.js';
import { CredentialsForm, type CredentialsSubmit } from '../components/credentials-form.js';
import { PageTitle } from '../components/layout.js';
import { useAction } from '../components/use-action.js';
import { paths } from '../logic/routes.js';
import { Link, navigate } from '../router.js';
import { runNow } from '../state/actions.js';
import { store, useHome } from '../state/store.js';

export function EditAccountPage({ id }: { id: string }) {
  const account = useHome((s) => s.accounts[id]);
  const konnectors = useHome((s) => s.konnectors);
  const konnector = konnectors?.find((k) => k.slug === account?.konnector);
  const save = useAction(async (value: CredentialsSubmit) => {
    const updated = await api.updateAccount(id, {
      fields: value.fields,
      ...(value.label ? { label: value.label } : {}),
    });
    if (updated && typeof updated === 'object' && 'id' in updated)
      store.dispatch({ type: 'account', account: updated });
    try {
      await runNow(id);
    } catch (error) {
      // 409: a run is already going on; the connecting view follows that one.
      if (!(error instanceof ApiRequestError && error.status === 409)) throw error;
    }
    navigate(paths.connecting(id));
  });
  if (!account || !konnector) return <p className="empty">Loading…</p>;
  return (
    <div className="page narrow">
      <PageTitle
        eyebrow={
          <Link to={paths.account(id)}>
            ← {konnector.name} — {account.label}
          </Link>
        }
      >
        Update credentials
      </PageTitle>
      <p className="lead">
        Saving signs in again at once, so that you can enter a verification code if the website asks for one.
      </p>
      <div className="card pad">
        <CredentialsForm
          konnector={konnector}
          saved={account.fields}
          secretsSet={account.secretFieldsSet}
          label={account.label}
          editing
          submitLabel="Save and reconnect"
          busy={save.busy}
          error={save.error}
          extraActions={
            <Link to={paths.account(id)} className="button">
              Cancel
            </Link>
          }
          onSubmit={(v) => void save.run(v)}
        />
      </div>
    </div>
  );
}
