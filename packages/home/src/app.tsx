import { useEffect } from 'react';
import { api } from './api/client.js';
import { connectEvents } from './api/events.js';
import { Layout, PageTitle } from './components/layout.js';
import { TwoFaDialog } from './components/twofa-dialog.js';
import { paths } from './logic/routes.js';
import { waitingCodes, waitingTitlePrefix } from './logic/waiting-code.js';
import { AccountPage } from './pages/account.js';
import { AccountsPage } from './pages/accounts.js';
import { AddAccountPage } from './pages/add-account.js';
import { CataloguePage } from './pages/catalogue.js';
import { ConnectingPage } from './pages/connecting.js';
import { EditAccountPage } from './pages/edit-account.js';
import { NotificationsPage } from './pages/notifications.js';
import { InstallKonnectorPage } from './pages/install-konnector.js';
import { SignInPage } from './pages/sign-in.js';
import { Link, useRoute } from './router.js';
import { loadAccounts, loadKonnectors } from './state/actions.js';
import { accountList } from './state/reducer.js';
import { store, useHome } from './state/store.js';

api.hooks.onSignedOut = () => store.dispatch({ type: 'session', status: 'signed-out' });

async function checkSession(): Promise<void> {
  try {
    const session = await api.session();
    if (session.authenticated) {
      api.csrfToken = session.csrfToken ?? api.csrfToken;
      store.dispatch({ type: 'session', status: 'signed-in', csrfToken: api.csrfToken });
    } else {
      store.dispatch({ type: 'session', status: 'signed-out' });
    }
  } catch {
    store.dispatch({ type: 'session', status: 'signed-out' });
  }
}

export function App() {
  const session = useHome((s) => s.session.status);
  // The title says when a code waits: re-rendered as accounts change.
  const accounts = useHome((s) => s.accounts);
  const route = useRoute();

  useEffect(() => {
    void checkSession();
  }, []);

  useEffect(() => {
    if (session !== 'signed-in') return;
    void loadKonnectors().catch(() => {});
    // Lists are (re)loaded each time the stream opens, so nothing missed while it was down stays stale.
    return connectEvents(store.dispatch, {
      onOpen: () => void loadAccounts().catch(() => {}),
      onClosed: () => void checkSession(),
    });
  }, [session]);

  useEffect(() => {
    // After a page change, focus its heading so that keyboard and screen-reader users start there.
    const heading = document.querySelector<HTMLElement>('main h1');
    if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
    // A page's own title is set by its PageTitle (which renders on its own); this covers the pages without one.
    if (!heading) document.title = `${waitingTitlePrefix(waitingCodes(accountList(accounts), Date.now()))}Home · Gleaner`;
  });

  if (session === 'unknown') return <p className="empty center">Loading…</p>;
  if (session === 'signed-out') return <SignInPage />;

  return (
    <Layout route={route}>
      {route.page === 'accounts' && <AccountsPage />}
      {route.page === 'catalogue' && <CataloguePage />}
      {route.page === 'install' && <InstallKonnectorPage />}
      {route.page === 'add' && <AddAccountPage slug={route.slug} />}
      {route.page === 'account' && <AccountPage id={route.id} />}
      {route.page === 'connecting' && <ConnectingPage id={route.id} />}
      {route.page === 'edit' && <EditAccountPage id={route.id} />}
      {route.page === 'notifications' && <NotificationsPage />}
      {route.page === 'not-found' && (
        <div className="page">
          <PageTitle>Page not found</PageTitle>
          <p>
            <Link to={paths.accounts()}>Back to your accounts</Link>
          </p>
        </div>
      )}
      <TwoFaDialog />
    </Layout>
  );
}
