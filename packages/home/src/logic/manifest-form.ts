import type { KonnectorInfo, ManifestField } from '@gleaner/contracts';

export interface FormField {
  name: string;
  field: ManifestField;
  label: string;
  /** The `<input type>`: passwords stay hidden. */
  inputType: 'text' | 'email' | 'password' | 'url' | 'number';
  autoComplete: string;
}

const AUTOCOMPLETE: Record<string, string> = {
  login: 'username',
  username: 'username',
  email: 'username',
  password: 'current-password',
};

function humanize(name: string): string {
  const spaced = name
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** The form of a konnector's manifest fields, split into the visible ones and the folded advanced ones. */
export function manifestForm(konnector: Pick<KonnectorInfo, 'fields'>): { basic: FormField[]; advanced: FormField[] } {
  const basic: FormField[] = [];
  const advanced: FormField[] = [];
  for (const [name, field] of Object.entries(konnector.fields)) {
    const entry: FormField = {
      name,
      field,
      label: field.label ?? humanize(name),
      inputType: field.type,
      autoComplete: field.type === 'password' ? 'current-password' : (AUTOCOMPLETE[name] ?? 'off'),
    };
    (field.advanced ? advanced : basic).push(entry);
  }
  return { basic, advanced };
}

/** Initial values: defaults for new accounts; saved non-secret values when editing. Never a password. */
export function initialValues(
  konnector: Pick<KonnectorInfo, 'fields'>,
  saved: Record<string, string> = {},
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, field] of Object.entries(konnector.fields)) {
    values[name] = field.type === 'password' ? '' : (saved[name] ?? field.default ?? '');
  }
  return values;
}

/**
 * Problems by field name, empty when the form may be sent. When editing, a secret that is already
 * saved may stay empty (it is then left unchanged).
 */
export function validateFields(
  konnector: Pick<KonnectorInfo, 'fields'>,
  values: Record<string, string>,
  secretsAlreadySet: readonly string[] = [],
): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const { name, field, label } of [...manifestForm(konnector).basic, ...manifestForm(konnector).advanced]) {
    const value = (values[name] ?? '').trim();
    if (!value) {
      const keptSecret = field.type === 'password' && secretsAlreadySet.includes(name);
      if (field.required && !keptSecret) problems[name] = `${label} is required.`;
      continue;
    }
    if (field.type === 'email' && !/^[^\s@]+@[^\s@]+$/.test(value))
      problems[name] = `${label} must be an e-mail address.`;
    if (field.type === 'url' && !/^https?:\/\/\S+$/.test(value))
      problems[name] = `${label} must start with http:// or https://.`;
    if (field.type === 'number' && Number.isNaN(Number(value))) problems[name] = `${label} must be a number.`;
  }
  return problems;
}

/** The fields to send: empty secrets are dropped when editing (the saved one is kept). */
export function fieldsToSend(
  values: Record<string, string>,
  konnector: Pick<KonnectorInfo, 'fields'>,
  editing: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, field] of Object.entries(konnector.fields)) {
    const value = field.type === 'password' ? (values[name] ?? '') : (values[name] ?? '').trim();
    if (editing && field.type === 'password' && value === '') continue;
    if (!editing && value === '') continue;
    out[name] = value;
  }
  return out;
}

/** A name for an account the person did not name: its login (the first visible non-secret field). */
export function defaultLabel(konnector: Pick<KonnectorInfo, 'fields'>, fields: Record<string, string>): string {
  const first = manifestForm(konnector).basic.find((f) => f.inputType !== 'password' && (fields[f.name] ?? '').trim());
  return first ? (fields[first.name] ?? '').trim().slice(0, 200) : '';
}

/**
 * Whether an edit changes what the site is signed in with (so that saving must sign in again): a
 * secret typed anew, or a non-secret field that differs from the saved one. A new label alone does not.
 */
export function credentialsChanged(
  konnector: Pick<KonnectorInfo, 'fields'>,
  saved: Record<string, string>,
  sent: Record<string, string>,
): boolean {
  return Object.entries(sent).some(([name, value]) =>
    konnector.fields[name]?.type === 'password' ? value !== '' : value !== (saved[name] ?? ''),
  );
}

/**
 * An account of the same konnector signed in with the same non-secret fields (the same login on the
 * same site): adding it again would make two accounts fetch the same documents and ask the same codes.
 */
export function sameLoginAccount<A extends { konnector: string; fields: Record<string, string> }>(
  konnector: Pick<KonnectorInfo, 'slug' | 'fields'>,
  accounts: readonly A[],
  sent: Record<string, string>,
): A | undefined {
  const visible = Object.entries(sent).filter(([name]) => konnector.fields[name]?.type !== 'password');
  if (visible.length === 0) return undefined;
  return accounts.find(
    (account) =>
      account.konnector === konnector.slug &&
      visible.every(
        ([name, value]) => (account.fields[name] ?? '').trim().toLowerCase() === value.trim().toLowerCase(),
      ),
  );
}
