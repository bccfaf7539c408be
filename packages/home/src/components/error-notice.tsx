import type { Account, RunMode } from '@gleaner/contracts';
import { errorMessage } from '../error-messages.js';
import { NextStepButton } from './next-step-button.js';

/** A run's error: what happened in plain words, and the one button that helps. */
export function ErrorNotice({
  account,
  code,
  mode,
  showButton = true,
}: {
  account: Account;
  code: string | null;
  /** The failed run's mode: a background run's end is told as what it was. */
  mode?: RunMode;
  showButton?: boolean;
}) {
  const message = errorMessage(code, mode);
  const tone = message.next === 'wait' ? 'notice-info' : 'notice-error';
  return (
    <div className={`notice ${tone}`} data-testid="error-notice" data-code={message.code}>
      <div className="notice-body">
        <p className="notice-title">{message.title}</p>
        <p>{message.message}</p>
      </div>
      {showButton && (
        <div className="notice-actions">
          <NextStepButton account={account} next={message.next} />
        </div>
      )}
    </div>
  );
}
