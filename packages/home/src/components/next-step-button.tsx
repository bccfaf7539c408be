import type { Account } from '@gleaner/contracts';
import { nextStepLabel, type NextStep } from '../error-messages.js';
import { isActive } from '../logic/account-status.js';
import { paths } from '../logic/routes.js';
import { navigate } from '../router.js';
import { runNow } from '../state/actions.js';
import { useAction } from './use-action.js';

/** The button that carries out an error's next step: a manual run (then the connecting view) or the credentials form. */
export function NextStepButton({
  account,
  next,
  primary = true,
  ready = false,
}: {
  account: Account;
  next: NextStep;
  primary?: boolean;
  /** Opened from a notification's link: the button takes the focus, ready to be pressed. */
  ready?: boolean;
}) {
  const label = nextStepLabel(next);
  const action = useAction(async () => {
    if (next === 'update-credentials') {
      navigate(paths.edit(account.id));
      return;
    }
    await runNow(account.id);
    navigate(paths.connecting(account.id));
  });
  if (!label) return null;
  const running = isActive(account.lastJob);
  return (
    <>
      <button
        type="button"
        className={primary ? 'button primary' : 'button'}
        autoFocus={ready}
        data-ready={ready ? 'true' : undefined}
        disabled={action.busy || running}
        title={running ? 'A run is going on' : undefined}
        onClick={() => void action.run()}
      >
        {action.busy ? 'Starting…' : label}
      </button>
      {action.error && (
        <span className="inline-error" role="alert">
          {action.error}
        </span>
      )}
    </>
  );
}
