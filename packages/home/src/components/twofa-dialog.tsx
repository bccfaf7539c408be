import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { Account, Prompt } from '@gleaner/contracts';
import { api } from '../api/client.js';
import { answerProblem, prepareCode } from '../logic/answer-outcome.js';
import { describeCountdown, formatCountdown, timeLeftMs, URGENT_MS } from '../logic/countdown.js';
import { pickTwoFaAccount, type TwoFaDialogView } from '../logic/twofa-dialog.js';
import { attemptsLeftText, resendLabel } from '../logic/waiting-code.js';
import { accountList } from '../state/reducer.js';
import { useNow } from '../state/now.js';
import { store, useHome } from '../state/store.js';
import { codeInputMode, RETRY_MESSAGE, twoFaText } from '../twofa-text.js';

/**
 * The 2FA dialog, for whichever account is waiting for a code. A native modal <dialog>: the rest of
 * the page is inert while it is open, so focus stays inside; Escape puts it aside ("Later").
 */
export function TwoFaDialog() {
  const now = useNow(500);
  const accounts = useHome((s) => s.accounts);
  const answered = useHome((s) => s.answered);
  const dismissed = useHome((s) => s.dismissed);
  const konnectors = useHome((s) => s.konnectors);
  const dismissedSet = new Set(dismissed);
  const picked = pickTwoFaAccount(accountList(accounts), now, (id) => ({
    answeredPromptId: answered[id]?.promptId,
    answeredJobId: answered[id]?.jobId,
    dismissed: dismissedSet,
  }));
  const ref = useRef<HTMLDialogElement>(null);
  const open = picked !== null;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  const konnectorName = picked
    ? (konnectors?.find((k) => k.slug === picked.account.konnector)?.name ?? picked.account.konnector)
    : '';
  const promptId =
    picked?.view.kind === 'ask'
      ? picked.view.prompt.id
      : picked?.view.kind === 'checking'
        ? picked.view.promptId
        : null;

  return (
    <dialog
      ref={ref}
      className="twofa-dialog"
      aria-labelledby="twofa-title"
      aria-describedby="twofa-help"
      data-testid="twofa-dialog"
      onCancel={(event) => {
        event.preventDefault();
        if (promptId) store.dispatch({ type: 'dismiss', promptId });
      }}
    >
      {picked && (
        <DialogContent
          key={promptId ?? 'none'}
          account={picked.account}
          view={picked.view}
          konnectorName={konnectorName}
          now={now}
        />
      )}
    </dialog>
  );
}

function DialogContent({
  account,
  view,
  konnectorName,
  now,
}: {
  account: Account;
  view: Exclude<TwoFaDialogView, { kind: 'closed' }>;
  konnectorName: string;
  now: number;
}) {
  const prompt: Prompt | null = view.kind === 'ask' ? view.prompt : account.prompt;
  const text = twoFaText(prompt?.type ?? null, konnectorName);
  const checking = view.kind === 'checking';
  const retry = view.kind === 'ask' && view.retry;
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [trust, setTrust] = useState<boolean>(prompt?.trustDevice?.checked ?? false);
  const [picked, setPicked] = useState<string | null>(null);
  const [resendNote, setResendNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [resending, setResending] = useState(false);
  const inputId = useId();
  const left = prompt ? timeLeftMs(prompt.expiresAt, now) : 0;
  const method = picked ?? prompt?.method ?? null;
  const otherMethod = method !== null && method !== (prompt?.method ?? null);
  const resend = prompt?.resend ? resendLabel(prompt.resend.availableAt, now, otherMethod) : null;
  const methods = prompt?.methods ?? [];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (view.kind !== 'ask' || sending) return;
    const prepared = prepareCode(code, view.prompt.type);
    if (!prepared.ok) {
      setProblem(prepared.problem);
      return;
    }
    setSending(true);
    setProblem(null);
    const { outcome, message } = await api.answerPrompt(
      view.prompt.id,
      prepared.code,
      view.prompt.trustDevice ? trust : undefined,
    );
    setSending(false);
    if (outcome === 'accepted') store.dispatch({ type: 'answered', accountId: account.id, prompt: view.prompt });
    else setProblem(outcome === 'bad_format' && message ? message : answerProblem(outcome));
  };

  const askNewCode = async () => {
    if (view.kind !== 'ask' || resending) return;
    setResending(true);
    setResendNote(null);
    const result = await api.resendPrompt(view.prompt.id, otherMethod && method ? method : undefined);
    setResending(false);
    setResendNote(
      result.outcome === 'sent'
        ? { ok: true, text: 'A new code is on its way.' }
        : {
            ok: false,
            text: result.message ?? 'The website could not be asked for a new code. Try again in a moment.',
          },
    );
    if (result.outcome === 'sent') {
      setPicked(null);
      setCode('');
    }
  };

  const cancel = async () => {
    if (view.kind === 'ask') {
      try {
        await api.cancelPrompt(view.prompt.id);
      } catch {
        // Already over: the account's next update closes the dialog anyway.
      }
      store.dispatch({ type: 'dismiss', promptId: view.prompt.id });
    }
  };

  const later = () => {
    if (view.kind === 'ask') store.dispatch({ type: 'dismiss', promptId: view.prompt.id });
  };

  const details = prompt && !checking && (
    <>
      {prompt.destination && (
        <p className="twofa-destination" data-testid="twofa-destination">
          Sent to <strong>{prompt.destination}</strong>
        </p>
      )}
      <p className={left < URGENT_MS ? 'twofa-timer urgent' : 'twofa-timer'}>
        {prompt.type === 'app' ? 'Time left:' : 'The code expires in'}{' '}
        <span role="timer" aria-label={describeCountdown(left)} data-testid="twofa-time-left">
          {formatCountdown(left)}
        </span>
      </p>
      {prompt.attemptsLeft !== null && (
        <p
          className={prompt.attemptsLeft <= 2 ? 'twofa-attempts urgent' : 'twofa-attempts'}
          data-testid="twofa-attempts-left"
        >
          {attemptsLeftText(prompt.attemptsLeft)}
        </p>
      )}
    </>
  );

  const resendControls = prompt && !checking && prompt.resend && resend && (
    <div className="twofa-resend">
      {methods.length > 1 && (
        <fieldset className="twofa-methods">
          <legend>Where should the code go?</legend>
          {methods.map((m) => (
            <label key={m.id} className="choice">
              <input
                type="radio"
                name="twofa-method"
                value={m.id}
                checked={method === m.id}
                onChange={() => setPicked(m.id)}
                data-testid={`twofa-method-${m.id}`}
              />{' '}
              {m.label}
            </label>
          ))}
        </fieldset>
      )}
      <button
        type="button"
        className="button"
        disabled={resend.waitMs > 0 || resending}
        onClick={() => void askNewCode()}
        data-testid="twofa-resend"
      >
        {resending ? 'Asking the website…' : resend.label}
      </button>
      {resendNote && (
        <p
          className={resendNote.ok ? 'twofa-resend-note' : 'field-error'}
          role="status"
          data-testid="twofa-resend-note"
        >
          {resendNote.text}
        </p>
      )}
    </div>
  );

  return (
    <div className="twofa">
      <p className="twofa-eyebrow">
        {konnectorName} · {account.label}
      </p>
      <h2 id="twofa-title">{text.title}</h2>
      <p id="twofa-help" className="twofa-help">
        {text.help}
      </p>
      {/* A new code asked since the refused one: the refusal is no longer the news. */}
      {retry && !checking && !resendNote?.ok && (
        <p className="twofa-retry" role="alert" data-testid="twofa-retry">
          {RETRY_MESSAGE}
        </p>
      )}
      {details}
      {checking ? (
        <p className="twofa-checking" role="status" data-testid="twofa-checking">
          <span className="spinner" aria-hidden="true" /> Checking…
        </p>
      ) : text.hasInput ? (
        <form onSubmit={(e) => void submit(e)} noValidate>
          <label htmlFor={inputId}>{text.inputLabel}</label>
          <input
            id={inputId}
            name="code"
            className="code-input"
            autoComplete="one-time-code"
            inputMode={codeInputMode(prompt?.type)}
            pattern={codeInputMode(prompt?.type) === 'numeric' ? '[0-9 -]*' : undefined}
            autoCapitalize="off"
            spellCheck={false}
            maxLength={32}
            autoFocus
            value={code}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `${inputId}-problem` : undefined}
            onChange={(e) => {
              setCode(e.target.value.replace(/\s+/g, ''));
              setProblem(null);
            }}
            data-testid="twofa-code"
          />
          {problem && (
            <p id={`${inputId}-problem`} className="field-error" role="alert" data-testid="twofa-problem">
              {problem}
            </p>
          )}
          {prompt?.trustDevice && (
            <label className="choice twofa-trust">
              <input
                type="checkbox"
                checked={trust}
                onChange={(e) => setTrust(e.target.checked)}
                data-testid="twofa-trust-device"
              />{' '}
              {prompt.trustDevice.label}
            </label>
          )}
          {resendControls}
          <div className="dialog-actions">
            <button type="button" className="button" onClick={later} data-testid="twofa-later">
              Later
            </button>
            <button type="button" className="button" onClick={() => void cancel()}>
              Cancel sign-in
            </button>
            <button type="submit" className="button primary" disabled={sending}>
              {sending ? 'Sending…' : 'Verify'}
            </button>
          </div>
        </form>
      ) : (
        <>
          <p className="twofa-checking" role="status">
            <span className="spinner" aria-hidden="true" /> Waiting for your approval…
          </p>
          {resendControls}
          <div className="dialog-actions">
            <button type="button" className="button" onClick={later} data-testid="twofa-later">
              Later
            </button>
            <button type="button" className="button" autoFocus onClick={() => void cancel()}>
              Cancel sign-in
            </button>
          </div>
        </>
      )}
      {!checking && (
        <p className="twofa-later">
          Later (or Escape) puts this aside: the sign-in keeps waiting, and the header shows the code until its time
          runs out.
        </p>
      )}
    </div>
  );
}
