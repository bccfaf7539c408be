/**
 * Where the background rule meets the SDK's form posting: `submitForm` (and so `signin`) asks the
 * gate before it sends a form, and the gate throws USER_ACTION_NEEDED.TWOFA_EXPIRED when the form
 * carries the account's credentials in a run where the site would ask a code that nobody can give.
 * `BaseKonnector.run` sets it for its run (one run per process, like the log sink).
 */
export type CredentialGate = (values: Record<string, string>, what: string) => Promise<void>;

let gate: CredentialGate | null = null;

export function setCredentialGate(next: CredentialGate | null): void {
  gate = next;
}

/** Resolves when `values` may be sent; throws the run's error when they may not. */
export async function checkCredentials(values: Record<string, string>, what: string): Promise<void> {
  if (gate) await gate(values, what);
}
