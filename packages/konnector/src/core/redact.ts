/**
 * Keeps the secrets a run has seen (credentials, codes, cookie values) and scrubs them out of any
 * text before it is logged. One per process: a konnector process runs one account.
 */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Secrets shorter than 4 characters would redact ordinary words; codes and passwords are longer. */
  add(...values: Array<string | null | undefined>): void {
    for (const value of values) if (value && value.length >= 4) this.#secrets.add(value);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) {
      if (out.includes(secret)) out = out.split(secret).join('[redacted]');
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join('[redacted]');
    }
    return out;
  }
}

export const redactor = new Redactor();
