import { KonnectorIcon, PageTitle } from '../components/layout.js';
import { paths } from '../logic/routes.js';
import { Link } from '../router.js';
import { useHome } from '../state/store.js';

const TWOFA_LABEL = {
  sms: 'SMS code',
  email: 'e-mail code',
  app_code: 'authenticator app',
  app: 'app approval',
} as const;

export function CataloguePage() {
  const konnectors = useHome((s) => s.konnectors);
  return (
    <div className="page">
      <PageTitle eyebrow={<Link to={paths.accounts()}>← Accounts</Link>}>Add an account</PageTitle>
      <p className="lead">Choose the website to connect. Your credentials are stored encrypted on your own server.</p>
      {!konnectors ? (
        <p className="empty">Loading…</p>
      ) : konnectors.length === 0 ? (
        <p className="empty">No konnectors are installed on this server.</p>
      ) : (
        <ul className="konnector-grid" aria-label="Available konnectors">
          {konnectors.map((k) => (
            <li key={k.slug} className="card konnector-card" data-testid="konnector-card">
              <KonnectorIcon name={k.name} />
              <div>
                <h2>
                  <Link to={paths.add(k.slug)} className="stretched">
                    {k.name}
                  </Link>
                </h2>
                <p className="muted">{k.description}</p>
                {k.twofa.length > 0 && (
                  <p className="tags" aria-label="Second factors">
                    {k.twofa.map((t) => (
                      <span key={t} className="tag">
                        {TWOFA_LABEL[t]}
                      </span>
                    ))}
                  </p>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
