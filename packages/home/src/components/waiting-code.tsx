import { waitingCodes, waitingText } from '../logic/waiting-code.js';
import { accountList } from '../state/reducer.js';
import { useNow } from '../state/now.js';
import { store, useHome } from '../state/store.js';

/**
 * The header's reminder of a code some sign-in waits for, on every page: the dialog may have been put
 * aside ("Later", Escape); pressing this opens it again.
 */
export function WaitingCodeButton() {
  const now = useNow(1000);
  const accounts = useHome((s) => s.accounts);
  const codes = waitingCodes(accountList(accounts), now);
  const first = codes[0];
  if (!first) return null;
  return (
    <button
      type="button"
      className="waiting-code"
      data-testid="waiting-code"
      onClick={() => store.dispatch({ type: 'undismiss', promptId: first.promptId })}
    >
      <span className="waiting-code-dot" aria-hidden="true" />
      {waitingText(codes)}
      <span className="waiting-code-label"> · {first.label}</span>
    </button>
  );
}
