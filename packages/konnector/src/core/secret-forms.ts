/**
 * What a secret becomes on its way into a log line, and a scrubber that finds it in each form.
 *
 * A konnector that prints a password rarely prints it bare: it shows up inside a URL
 * (`encodeURIComponent`, `%xx` in either case, `+` for a space), inside JSON (`\"`, `\u00e9`), as hex,
 * or in base64 inside a longer base64 string (a Basic auth header, a token). The stack and the SDK
 * scrub with the same `SecretScrubber`, so that neither is weaker than the other. Pure: no I/O.
 */

export const REDACTED = '[redacted]';

/** Shorter forms would match ordinary text (a 2-character base64 run is everywhere). */
const MIN_FORM_CHARS = 4;

/**
 * The fixed-text forms of a secret: itself, its UTF-8 bytes in hex (lower and upper case), and its
 * base64 (standard and url-safe) alone and at the three alignments it can take inside a longer
 * base64 string. An embedded secret shares its first and last characters with its neighbours'
 * bytes: those partial edge characters are left out, so that each form is found wherever it sits.
 */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>([secret, bytes.toString('hex'), bytes.toString('hex').toUpperCase()]);
  const standalone = bytes.toString('base64');
  for (const whole of [standalone, standalone.replace(/=+$/, '')]) {
    forms.add(whole);
    forms.add(toUrlSafe(whole));
  }
  for (let offset = 0; offset < 3; offset++) {
    // `offset` bytes of whatever came before share the secret's first 3-byte group.
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64').replace(/=+$/, '');
    const core = shifted.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    forms.add(core);
    forms.add(toUrlSafe(core));
  }
  return [...forms].filter((form) => form.length >= MIN_FORM_CHARS);
}

/**
 * A regular expression source that matches the secret character by character, each character as
 * itself, percent-encoded (any case of hex digit, as `encodeURIComponent`, `encodeURI` or a form
 * encoder writes it), `+` for a space (form encoding), or JSON-escaped (`\"`, `\\`, `\/`, `\n`,
 * `\u00E9`, surrogate pairs): every mix of these, so one pattern covers all URL and JSON encodings.
 */
export function encodedPattern(secret: string): string {
  return [...secret].map((char) => charAlternatives(char)).join('');
}

/** The longest text `encodedPattern(secret)` can match: what a line cut must leave room for. */
function longestEncoded(secret: string): number {
  let total = 0;
  for (const char of secret) {
    const utf8 = Buffer.byteLength(char, 'utf8');
    // Literal; %xx per UTF-8 byte; \uXXXX per UTF-16 unit, each of its 6 characters maybe as %xx.
    total += Math.max(char.length, 3 * utf8, 18 * char.length);
  }
  return total;
}

const JSON_SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function charAlternatives(char: string): string {
  const alternatives = [escapeRegExp(char), percentPattern(char)];
  if (char === ' ') alternatives.push('\\+');
  // A JSON escape, whose own characters may be percent-encoded too (JSON inside a URL).
  const short = JSON_SHORT_ESCAPES[char];
  if (short) alternatives.push([...short].map((c) => literalOrPercent(c, false)).join(''));
  const units: string[] = [];
  for (let i = 0; i < char.length; i++) {
    const escape = `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
    units.push([...escape].map((c, at) => literalOrPercent(c, at >= 2)).join(''));
  }
  alternatives.push(units.join(''));
  return `(?:${alternatives.join('|')})`;
}

/** The character's UTF-8 bytes as `%xx`, any case of hex digit. */
function percentPattern(char: string): string {
  return [...Buffer.from(char, 'utf8')].map((byte) => `%${hexPattern(byte, 2)}`).join('');
}

/** One character of an escape: itself (a hex digit in either case) or percent-encoded. */
function literalOrPercent(char: string, hexDigit: boolean): string {
  const literal = hexDigit && /[a-f]/.test(char) ? `[${char}${char.toUpperCase()}]` : escapeRegExp(char);
  return `(?:${literal}|${percentPattern(char)})`;
}

/** `n` hex digits of `value`, each letter in either case. */
function hexPattern(value: number, digits: number): string {
  return [...value.toString(16).padStart(digits, '0')]
    .map((digit) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit))
    .join('');
}

function toUrlSafe(base64: string): string {
  return base64.replace(/\+/g, '-').replace(/\//g, '_');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** What an encoded form needs: a percent sign, a backslash (JSON) or a plus (a form's space). */
const ESCAPES = /[%\\+]/;

/**
 * The secrets of one run, and a scrubber for every form they take (see `secretForms` and
 * `encodedPattern`). Secrets shorter than `minLength` are not kept: they would redact ordinary words.
 *
 * @example
 * const scrubber = new SecretScrubber(4)
 * scrubber.add('hunter2 x')
 * scrubber.scrub('?p=hunter2%20x&b=aHVudGVyMiB4') // '?p=[redacted]&b=[redacted]'
 */
export class SecretScrubber {
  readonly #minLength: number;
  /**
   * Each kept secret, longest first: its fixed forms (itself included), its character-by-character
   * pattern, and the expression of both, compiled when first needed. One expression per secret:
   * a union of many runs far slower in V8 than each of them in turn.
   */
  #entries: Array<{ secret: string; fixed: string[]; pattern: string; all: RegExp | null }> = [];
  /** Every fixed form of every secret, longest first: replaced whole before any shorter one. */
  #fixed: string[] = [];
  #longest = 0;

  constructor(minLength = 4) {
    this.#minLength = minLength;
  }

  add(...values: Array<string | null | undefined>): void {
    for (const value of values) {
      if (!value || value.length < this.#minLength || this.#entries.some((entry) => entry.secret === value)) continue;
      // The secret itself even when it is shorter than the shortest form worth a search.
      const fixed = [...new Set([value, ...secretForms(value)])].sort((a, b) => b.length - a.length);
      this.#entries = [...this.#entries, { secret: value, fixed, pattern: encodedPattern(value), all: null }].sort(
        (a, b) => b.secret.length - a.secret.length,
      );
      this.#fixed = [...new Set([...this.#fixed, ...fixed])].sort((a, b) => b.length - a.length);
      this.#longest = Math.max(this.#longest, longestEncoded(value), ...fixed.map((form) => form.length));
    }
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The longest text any kept secret can take in any form (0 with none). */
  get longestForm(): number {
    return this.#longest;
  }

  /** `text` with every form of every kept secret replaced by `[redacted]`. */
  scrub(text: string): string {
    let out = text;
    // Without a `%`, a backslash or a `+`, no encoded form can be there: plain searches are enough,
    // and they are what almost every line needs.
    if (ESCAPES.test(text)) {
      for (const entry of this.#entries) out = out.replace(SecretScrubber.#expression(entry), REDACTED);
      return out;
    }
    for (const form of this.#fixed) if (out.includes(form)) out = out.split(form).join(REDACTED);
    return out;
  }

  /**
   * Like `scrub`, for a text that may be the head of a longer one (a line cut somewhere): its last
   * `longestForm` characters may hold the start of a secret whose rest was cut off, so they are
   * dropped, except where a whole secret is found there. What is left holds no part of a secret
   * that `scrub` would have caught in the whole text.
   */
  scrubHead(text: string): string {
    const limit = Math.max(0, text.length - this.#longest);
    const found: Array<[number, number]> = [];
    for (const entry of this.#entries) {
      for (const match of text.matchAll(SecretScrubber.#expression(entry))) {
        if (match.index < limit) found.push([match.index, match.index + match[0].length]);
      }
    }
    found.sort((a, b) => a[0] - b[0]);
    let out = '';
    let at = 0;
    for (const [start, end] of found) {
      // Overlapping finds of two secrets are one redaction.
      if (end <= at) continue;
      if (start >= at) out += text.slice(at, start) + REDACTED;
      at = end;
    }
    return out + text.slice(at, Math.max(at, limit));
  }

  static #expression(entry: { secret: string; fixed: string[]; pattern: string; all: RegExp | null }): RegExp {
    // Fixed forms first, longest first, so that the widest match wins at each place; the secret
    // itself is in the pattern.
    entry.all ??= new RegExp(
      [...entry.fixed.filter((form) => form !== entry.secret).map(escapeRegExp), entry.pattern].join('|'),
      'g',
    );
    return entry.all;
  }
}
