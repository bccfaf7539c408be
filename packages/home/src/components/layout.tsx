import { useEffect, useRef, useState, type ReactNode } from 'react';
import { api } from '../api/client.js';
import { paths, type Route } from '../logic/routes.js';
import { Link } from '../router.js';
import { waitingCodes, waitingTitlePrefix } from '../logic/waiting-code.js';
import { accountList } from '../state/reducer.js';
import { store, useHome } from '../state/store.js';
import { WaitingCodeButton } from './waiting-code.js';

export function Layout({ route, children }: { route: Route; children: ReactNode }) {
  const stream = useHome((s) => s.stream);
  const signOut = async () => {
    try {
      await api.logout();
    } finally {
      store.dispatch({ type: 'session', status: 'signed-out' });
    }
  };
  const current = (page: Route['page'][]) => (page.includes(route.page) ? 'page' : undefined);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link to={paths.accounts()} className="brand">
            <span className="brand-mark" aria-hidden="true">
              G
            </span>{' '}
            Gleaner
          </Link>
          <WaitingCodeButton />
          <nav aria-label="Main">
            <ul>
              <li>
                <Link to={paths.accounts()} aria-current={current(['accounts', 'account', 'connecting', 'edit'])}>
                  Accounts
                </Link>
              </li>
              <li>
                <Link to={paths.catalogue()} aria-current={current(['catalogue', 'add', 'install'])}>
                  Add an account
                </Link>
              </li>
              <li>
                <Link to={paths.notifications()} aria-current={current(['notifications'])}>
                  Notifications
                </Link>
              </li>
              <li>
                <button type="button" className="link-button" onClick={() => void signOut()}>
                  Sign out
                </button>
              </li>
            </ul>
          </nav>
        </div>
      </header>
      {stream === 'retrying' && (
        <p className="stream-notice" role="status">
          Live updates interrupted — reconnecting…
        </p>
      )}
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

/** A heading's words as a person reads them: without what is hidden from them (a konnector icon's letter). */
function headingText(heading: HTMLElement): string {
  const copy = heading.cloneNode(true) as HTMLElement;
  for (const hidden of copy.querySelectorAll('[aria-hidden="true"], img')) hidden.remove();
  return (copy.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/** The page's heading; the document's title follows it (each time it renders). */
export function PageTitle({ children, eyebrow }: { children: ReactNode; eyebrow?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  // A waiting code leads the title ("(1) Code waiting · …"), so that it shows from another tab too.
  const accounts = useHome((s) => s.accounts);
  useEffect(() => {
    const waiting = waitingTitlePrefix(waitingCodes(accountList(accounts), Date.now()));
    if (ref.current) document.title = `${waiting}${headingText(ref.current) || 'Home'} · Gleaner`;
  });
  return (
    <div className="page-title">
      {eyebrow && <p className="eyebrow">{eyebrow}</p>}
      <h1 ref={ref} tabIndex={-1}>
        {children}
      </h1>
    </div>
  );
}

/** The konnector's own icon when it has one (and it loads); otherwise its initial on a colour of its name. */
export function KonnectorIcon({ name, src }: { name: string; src?: string | undefined }) {
  const [broken, setBroken] = useState<string | null>(null);
  if (src && broken !== src)
    return <img className="konnector-icon image" src={src} alt="" onError={() => setBroken(src)} />;
  const letter = name.trim().charAt(0).toUpperCase() || '?';
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) % 360;
  return (
    <span
      className="konnector-icon"
      data-testid="icon-placeholder"
      aria-hidden="true"
      style={{ background: `hsl(${hash} 45% 92%)`, color: `hsl(${hash} 45% 30%)` }}
    >
      {letter}
    </span>
  );
}
