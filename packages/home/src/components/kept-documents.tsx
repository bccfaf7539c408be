import { useEffect, useState } from 'react';
import type { KeptAccount } from '@gleaner/contracts';
import { api } from '../api/client.js';
import { formatDateTime } from '../logic/format.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { FileList } from './file-list.js';
import { useAction } from './use-action.js';

/**
 * The documents of deleted accounts (a delete keeps them unless asked): listed on the accounts page,
 * downloadable, each account's deletable at once. `version` reloads the list (it changes when an
 * account is deleted).
 */
export function KeptDocuments({ nameOf, version }: { nameOf: (slug: string) => string; version: number }) {
  const [kept, setKept] = useState<KeptAccount[] | null>(null);
  const [forgetting, setForgetting] = useState<KeptAccount | null>(null);
  const load = useAction(async () => setKept(await api.keptFiles()));
  const forget = useAction(async (accountId: string) => {
    await api.forgetKeptFiles(accountId);
    setForgetting(null);
    setKept((list) => list?.filter((k) => k.accountId !== accountId) ?? null);
  });
  const { run: reload } = load;
  useEffect(() => {
    void reload();
  }, [reload, version]);

  if (!kept || kept.length === 0) return null;
  return (
    <section className="section" aria-labelledby="kept-title" data-testid="kept-documents">
      <h2 id="kept-title">Kept documents</h2>
      <p className="muted">From accounts you deleted. They stay here until you delete them.</p>
      {kept.map((k) => (
        <div className="card pad kept-account" key={k.accountId} data-testid="kept-account">
          <div className="kept-head">
            <h3>
              {nameOf(k.konnector)} — {k.label}
            </h3>
            <span className="muted">Account deleted {formatDateTime(k.deletedAt)}</span>
            <button type="button" className="button small danger-outline" onClick={() => setForgetting(k)}>
              Delete these documents
            </button>
          </div>
          <FileList files={k.files} />
        </div>
      ))}
      <ConfirmDialog
        open={!!forgetting}
        title={forgetting ? `Delete the documents of ${nameOf(forgetting.konnector)} — ${forgetting.label}?` : ''}
        confirmLabel="Delete documents"
        danger
        busy={forget.busy}
        onConfirm={() => forgetting && void forget.run(forgetting.accountId)}
        onClose={() => setForgetting(null)}
      >
        <p>
          {forgetting?.files.length === 1 ? 'Its document is' : `Its ${forgetting?.files.length ?? 0} documents are`}{' '}
          deleted from this server for good.
        </p>
        {forget.error && <p className="inline-error">{forget.error}</p>}
      </ConfirmDialog>
    </section>
  );
}
