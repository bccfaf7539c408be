/** Home's pages, by URL. The stack serves index.html for any path, so these survive a reload. */
export type Route =
  | { page: 'accounts' }
  | { page: 'catalogue' }
  | { page: 'install' }
  | { page: 'add'; slug: string }
  | { page: 'account'; id: string }
  | { page: 'connecting'; id: string }
  | { page: 'edit'; id: string }
  | { page: 'notifications' }
  | { page: 'not-found'; path: string };

export function parseRoute(pathname: string): Route {
  const parts = pathname
    .split('/')
    .filter(Boolean)
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
  const [a, b, c] = parts;
  if (parts.length === 0) return { page: 'accounts' };
  if (a === 'add' && parts.length === 1) return { page: 'catalogue' };
  if (a === 'konnectors' && b === 'install' && parts.length === 2) return { page: 'install' };
  if (a === 'add' && b && parts.length === 2) return { page: 'add', slug: b };
  if (a === 'accounts' && b && parts.length === 2) return { page: 'account', id: b };
  if (a === 'settings' && b === 'notifications' && parts.length === 2) return { page: 'notifications' };
  if (a === 'accounts' && b && c === 'connecting' && parts.length === 3) return { page: 'connecting', id: b };
  if (a === 'accounts' && b && c === 'edit' && parts.length === 3) return { page: 'edit', id: b };
  return { page: 'not-found', path: pathname };
}

export const paths = {
  accounts: () => '/',
  catalogue: () => '/add',
  install: () => '/konnectors/install',
  add: (slug: string) => `/add/${encodeURIComponent(slug)}`,
  account: (id: string) => `/accounts/${encodeURIComponent(id)}`,
  connecting: (id: string) => `/accounts/${encodeURIComponent(id)}/connecting`,
  edit: (id: string) => `/accounts/${encodeURIComponent(id)}/edit`,
  notifications: () => '/settings/notifications',
};
