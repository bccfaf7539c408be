import { SecretScrubber } from './secret-forms.js';

/**
 * Keeps the secrets a run has seen (credentials, codes, cookie values) and scrubs them out of any
 * text before it is logged, in every form they take (URL- and form-encoded, JSON-escaped, hex,
 * base64: see `secret-forms.ts`, the same scrubber the stack applies to the run's output). One per
 * process: a konnector process runs one account.
 */
export class Redactor {
  /** Secrets shorter than 4 characters would redact ordinary words; codes and passwords are longer. */
  readonly #scrubber = new SecretScrubber(4);

  add(...values: Array<string | null | undefined>): void {
    this.#scrubber.add(...values);
  }

  scrub(text: string): string {
    return this.#scrubber.scrub(text);
  }
}

export const redactor = new Redactor();
