import type { Account } from '@gleaner/contracts';
import { ActionNeededBanner } from '../components/action-needed-banner.js';
import { KeptDocuments } from '../components/kept-documents.js';
import { KonnectorIcon, PageTitle } from '../components/layout.js';
import { StatusBadge } from '../components/status-badge.js';
import { accountsNeedingAction, isActive } from '../logic/account-status.js';
import { formatRelative } from '../logic/format.js';
import { paths } from '../logic/routes.js';
import { Link } from '../router.js';
import { useNow } from '../state/now.js';
import { accountList } from '../state/reducer.js';
import { useHome } from '../state/store.js';

export function AccountsPage() {
  const accountsById = useHome((s) => s.accounts);
  const loaded = useHome((s) => s.accountsLoaded);
  const konnectors = useHome((s) => s.konnectors);
  const now = useNow(30_000);
  const accounts = accountList(accountsById);
  const nameOf = (slug: string) => konnectors?.find((k) => k.slug === slug)?.name ?? slug;
  const iconOf = (slug: string) => konnectors?.find((k) => k.slug === slug)?.icon;
  const needing = accountsNeedingAction(accounts);

  return (
    <div className="page">
      <div className="page-head">
        <PageTitle>Your accounts</PageTitle>
        <Link to={paths.catalogue()} className="button primary">
          Add an account
        </Link>
      </div>
      {needing.map((account) => (
        <ActionNeededBanner
          key={account.id}
          account={account}
          konnectorName={nameOf(account.konnector)}
          linkToAccount
        />
      ))}
      {!loaded ? (
        <p className="empty">Loading…</p>
      ) : accounts.length === 0 ? (
        <div className="empty-state">
          <h2>No accounts yet</h2>
          <p>Add the websites where your bills live; Gleaner signs in for you and brings the documents home.</p>
          <Link to={paths.catalogue()} className="button primary">
            Add your first account
          </Link>
        </div>
      ) : (
        <ul className="account-grid" aria-label="Accounts">
          {accounts.map((account) => (
            <AccountCard
              key={account.id}
              account={account}
              name={nameOf(account.konnector)}
              icon={iconOf(account.konnector)}
              now={now}
            />
          ))}
        </ul>
      )}
      {loaded && <KeptDocuments nameOf={nameOf} version={accounts.length} />}
    </div>
  );
}

function AccountCard({
  account,
  name,
  icon,
  now,
}: {
  account: Account;
  name: string;
  icon: string | undefined;
  now: number;
}) {
  const last = account.lastJob?.endedAt ?? account.lastJob?.startedAt ?? null;
  // A run going on (maybe waiting for a code) is not an error to fix: no attention frame meanwhile.
  const attention = account.needsAction && !isActive(account.lastJob);
  return (
    <li
      className={attention ? 'card account-card attention' : 'card account-card'}
      data-testid="account-card"
      data-account-id={account.id}
    >
      <KonnectorIcon name={name} src={icon} />
      <div className="account-card-body">
        <h2>
          <Link to={paths.account(account.id)} className="stretched">
            {name}
          </Link>
        </h2>
        <p className="muted">{account.label}</p>
        <StatusBadge account={account} />
        <p className="account-card-meta">
          Last run {last ? formatRelative(last, now) : 'never'}
          {account.nextRunAt && !account.needsAction ? ` · next ${formatRelative(account.nextRunAt, now)}` : ''}
        </p>
      </div>
    </li>
  );
}
