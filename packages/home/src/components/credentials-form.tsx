import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { MAX_LABEL_CHARS, type KonnectorInfo } from '@gleaner/contracts';
import { fieldsToSend, initialValues, manifestForm, validateFields, type FormField } from '../logic/manifest-form.js';

export interface CredentialsSubmit {
  label: string;
  fields: Record<string, string>;
}

/** The form of a konnector's manifest fields: required ones checked before sending, advanced ones folded. */
export function CredentialsForm({
  konnector,
  saved,
  secretsSet = [],
  label: initialLabel = '',
  editing = false,
  submitLabel,
  busy,
  error,
  extraActions,
  onSubmit,
}: {
  konnector: KonnectorInfo;
  saved?: Record<string, string>;
  secretsSet?: string[];
  label?: string;
  editing?: boolean;
  /** The submit button's label, or a function of the fields it would send (it follows the typing). */
  submitLabel: string | ((fields: Record<string, string>) => string);
  busy: boolean;
  error: string | null;
  extraActions?: ReactNode;
  onSubmit: (value: CredentialsSubmit) => void;
}) {
  const form = manifestForm(konnector);
  const [values, setValues] = useState(() => initialValues(konnector, saved));
  const [label, setLabel] = useState(initialLabel);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [showAdvanced, setShowAdvanced] = useState(() =>
    form.advanced.some((f) => f.field.required && !f.field.default),
  );
  const idBase = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = validateFields(konnector, values, editing ? secretsSet : []);
    // Said, never cut: a pasted name longer than the limit is not silently shortened.
    if (label.trim().length > MAX_LABEL_CHARS)
      found.label = `The name is at most ${MAX_LABEL_CHARS} characters; this one has ${label.trim().length}.`;
    setProblems(found);
    const first = Object.keys(found)[0];
    if (first) {
      if (form.advanced.some((f) => f.name === first)) setShowAdvanced(true);
      setTimeout(() => document.getElementById(`${idBase}-${first}`)?.focus(), 0);
      return;
    }
    onSubmit({ label: label.trim(), fields: fieldsToSend(values, konnector, editing) });
  };

  const input = (f: FormField) => {
    const id = `${idBase}-${f.name}`;
    const problem = problems[f.name];
    const keptSecret = editing && f.inputType === 'password' && secretsSet.includes(f.name);
    const hint = keptSecret ? 'Saved. Leave empty to keep it.' : null;
    return (
      <div className="field" key={f.name}>
        <label htmlFor={id}>
          {f.label}
          {f.field.required && !keptSecret ? (
            <span className="required" aria-hidden="true">
              {' '}
              *
            </span>
          ) : (
            <span className="optional"> (optional)</span>
          )}
        </label>
        <input
          id={id}
          name={f.name}
          type={f.inputType}
          autoComplete={f.autoComplete}
          placeholder={keptSecret ? '••••••••' : f.field.placeholder}
          required={f.field.required && !keptSecret}
          aria-invalid={problem ? true : undefined}
          aria-describedby={
            [problem ? `${id}-problem` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined
          }
          value={values[f.name] ?? ''}
          onChange={(e) => {
            const value = e.target.value;
            setValues((v) => ({ ...v, [f.name]: value }));
            if (problem) setProblems(({ [f.name]: _gone, ...rest }) => rest);
          }}
        />
        {hint && (
          <p id={`${id}-hint`} className="hint">
            {hint}
          </p>
        )}
        {problem && (
          <p id={`${id}-problem`} className="field-error">
            {problem}
          </p>
        )}
      </div>
    );
  };

  return (
    <form className="form" onSubmit={submit} noValidate>
      {form.basic.map(input)}
      <div className="field">
        <label htmlFor={`${idBase}-label`}>
          Name for this account <span className="optional">(optional)</span>
        </label>
        <input
          id={`${idBase}-label`}
          name="label"
          type="text"
          autoComplete="off"
          placeholder={`e.g. Personal ${konnector.name}`}
          value={label}
          aria-invalid={problems.label ? true : undefined}
          aria-describedby={problems.label ? `${idBase}-label-problem` : undefined}
          onChange={(e) => {
            setLabel(e.target.value);
            if (problems.label) setProblems(({ label: _gone, ...rest }) => rest);
          }}
        />
        {problems.label && (
          <p id={`${idBase}-label-problem`} className="field-error">
            {problems.label}
          </p>
        )}
      </div>
      {form.advanced.length > 0 && (
        <details
          className="advanced"
          open={showAdvanced}
          onToggle={(e) => setShowAdvanced((e.target as HTMLDetailsElement).open)}
        >
          <summary>Advanced settings</summary>
          {form.advanced.map(input)}
        </details>
      )}
      {Object.keys(problems).length > 0 && (
        <p className="form-error" role="alert">
          Please correct the highlighted fields.
        </p>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        {extraActions}
        <button type="submit" className="button primary" disabled={busy}>
          {busy
            ? 'Please wait…'
            : typeof submitLabel === 'string'
              ? submitLabel
              : submitLabel(fieldsToSend(values, konnector, editing))}
        </button>
      </div>
    </form>
  );
}
