import { api } from '../api/client.js';
import { CredentialsForm, type CredentialsSubmit } from '../components/credentials-form.js';
import { PageTitle } from '../components/layout.js';
import { useAction } from '../components/use-action.js';
import { credentialsChanged } from '../logic/manifest-form.js';
import { paths } from '../logic/routes.js';
import { Link, navigate } from '../router.js';
import { runNow } from '../state/actions.js';
import { store, useHome } from '../state/store.js';

export function EditAccountPage({ id }: { id: string }) {
  const account = useHome((s) => s.accounts[id]);
  const konnectors = useHome((s) => s.konnectors);
  const konnector = konnectors?.find((k) => k.slug === account?.konnector);
  const changes = (fields: Record<string, string>) =>
    !!account && !!konnector && credentialsChanged(konnector, account.fields, fields);
  const save = useAction(async (value: CredentialsSubmit) => {
    // Only new credentials need a sign-in (and maybe a code); a new name is saved as it is.
    const signIn = changes(value.fields);
    const updated = await api.updateAccount(id, {
      ...(signIn ? { fields: value.fields } : {}),
      ...(value.label ? { label: value.label } : {}),
    });
    if (updated && typeof updated === 'object' && 'id' in updated)
      store.dispatch({ type: 'account', account: updated });
    if (!signIn) {
      navigate(paths.account(id));
      return;
    }
    await runNow(id);
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
        Edit the account
      </PageTitle>
      <p className="lead">
        A new name is saved as it is. A new login or password signs in again at once, so that you can enter a
        verification code if the website asks for one.
      </p>
      <div className="card pad">
        <CredentialsForm
          konnector={konnector}
          saved={account.fields}
          secretsSet={account.secretFieldsSet}
          label={account.label}
          editing
          submitLabel={(fields) => (changes(fields) ? 'Save and reconnect' : 'Save')}
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
