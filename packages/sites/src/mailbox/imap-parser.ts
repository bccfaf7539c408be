/** The command reader of the demo's IMAP server: RFC 3501's atoms, quoted strings, literals and lists. */

/** Longest command (and literal) taken: a client reading codes sends short commands; more is an error, not memory. */
export const MAX_COMMAND = 64 * 1024;

/** A command's words: atoms, quoted strings and literals as text; parenthesized lists as arrays. */
export type Arg = string | Arg[];
export type Read =
  | { kind: 'command'; words: Arg[]; end: number }
  | { kind: 'bad'; message: string; end: number }
  /** A literal's data is not all here yet; a synchronizing one (`{n}`) waits for our `+` first. */
  | { kind: 'literal'; at: number; sync: boolean }
  | { kind: 'more' };

const CR = 0x0d;
export const LF = 0x0a;
const SP = 0x20;
const [QUOTE, BACKSLASH, OPEN, CLOSE, BRACE] = ['"', '\\', '(', ')', '{'].map((c) => c.charCodeAt(0));

/** Reads one command line from the start of `buf`, literals included. */
export function readCommand(buf: Buffer): Read {
  const root: Arg[] = [];
  const lists: Arg[][] = [root];
  const bad = (message: string, from: number): Read => {
    const lf = buf.indexOf(LF, from);
    return lf < 0 ? { kind: 'more' } : { kind: 'bad', message, end: lf + 1 };
  };
  let i = 0;
  while (i < buf.length) {
    const c = buf[i]!;
    const top = lists[lists.length - 1]!;
    if (c === CR || c === LF) {
      if (c === CR && i + 1 >= buf.length) return { kind: 'more' };
      if (c === CR && buf[i + 1] !== LF) return bad('a bare CR in the command', i);
      if (lists.length > 1) return bad('a parenthesis is not closed', i);
      return { kind: 'command', words: root, end: i + (c === CR ? 2 : 1) };
    }
    if (c === SP) {
      i++;
    } else if (c === OPEN) {
      const list: Arg[] = [];
      top.push(list);
      lists.push(list);
      i++;
    } else if (c === CLOSE) {
      if (lists.length === 1) return bad('a parenthesis closes that was not opened', i);
      lists.pop();
      i++;
    } else if (c === QUOTE) {
      // A quoted string: only \" and \\ are escapes (RFC 3501 section 9, "quoted-specials").
      const bytes: number[] = [];
      let j = i + 1;
      for (; j < buf.length && buf[j] !== QUOTE; j++) {
        const b = buf[j]!;
        if (b === CR || b === LF) return bad('a quoted string is not closed', j);
        if (b === BACKSLASH) {
          const next = buf[++j];
          if (next === undefined) return { kind: 'more' };
          if (next !== QUOTE && next !== BACKSLASH) return bad('a quoted string has a bad escape', j);
          bytes.push(next);
        } else bytes.push(b);
      }
      if (j >= buf.length) return { kind: 'more' };
      top.push(Buffer.from(bytes).toString('utf8'));
      i = j + 1;
    } else if (c === BRACE) {
      // A literal: {n}CRLF then n bytes ({n+} is the non-synchronizing form of RFC 7888).
      const head = /^\{(\d{1,9})(\+?)\}\r\n/.exec(buf.subarray(i, i + 16).toString('latin1'));
      if (!head) return buf.length - i < 16 && buf.indexOf(LF, i) < 0 ? { kind: 'more' } : bad('a bad literal', i);
      const size = Number(head[1]);
      if (size > MAX_COMMAND) return bad('a literal larger than this server takes', i);
      const start = i + head[0].length;
      if (buf.length < start + size) return { kind: 'literal', at: i, sync: head[2] !== '+' };
      top.push(buf.subarray(start, start + size).toString('utf8'));
      i = start + size;
    } else {
      // An atom; a [section] is part of it even with spaces or parentheses inside (BODY.PEEK[HEADER.FIELDS (FROM)]).
      let j = i;
      let depth = 0;
      for (; j < buf.length; j++) {
        const b = buf[j]!;
        if (b === CR || b === LF || (depth === 0 && (b === SP || b === OPEN || b === CLOSE))) break;
        if (b === 0x5b) depth++;
        else if (b === 0x5d) depth--;
      }
      if (j >= buf.length) return { kind: 'more' };
      top.push(buf.subarray(i, j).toString('latin1'));
      i = j;
    }
  }
  return { kind: 'more' };
}
