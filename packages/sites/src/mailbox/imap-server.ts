import { createServer, type Socket } from 'node:net';
import { LF, MAX_COMMAND, readCommand, type Arg } from './imap-parser.js';
import { addressKey, type MailStore, type StoredMessage } from './store.js';

/**
 * A small IMAP4rev1 server (RFC 3501) over plain TCP, enough for a mail client that reads codes:
 * LOGIN, LIST/LSUB, SELECT/EXAMINE of INBOX (always read-only), SEARCH and FETCH (with UID), IDLE
 * (RFC 2177), NOOP, CLOSE, LOGOUT. Anything else is answered BAD, so a client sees at once what is
 * missing instead of a guess. No TLS: it listens on 127.0.0.1 only, for the demo and tests.
 */

/** IDLE is advertised so that a new message is pushed to a waiting client, as real servers do. */
const CAPABILITIES = 'IMAP4rev1 IDLE';
const DELIMITER = '/';

export interface RunningImapServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (`port` 0 picks a free one) and serves the store's mailboxes. */
export async function startImapServer(store: MailStore, port = 0): Promise<RunningImapServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new Session(socket, store);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('the IMAP server has no port');
  return {
    host: '127.0.0.1',
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const text = (arg: Arg | undefined): string | null => (typeof arg === 'string' ? arg : null);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** "01-Dec-2026 14:05:46 +0000": the date-time of RFC 3501, in UTC. */
function imapDateTime(d: Date): string {
  return `${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** A search date ("1-Dec-2026") as the UTC midnight it names, or null. */
function parseDate(value: string | null): number | null {
  const m = value ? /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(value) : null;
  const month = m ? MONTHS.findIndex((name) => name.toLowerCase() === m[2]!.toLowerCase()) : -1;
  return m && month >= 0 ? Date.UTC(Number(m[3]), month, Number(m[1])) : null;
}

/** Whether `n` is in a sequence set ("1:3,7,9:*"); `*` is the largest number in use. */
function inSet(set: string, n: number, largest: number): boolean {
  return set.split(',').some((range) => {
    const [a, b = a] = range.split(':').map((x) => (x === '*' ? largest : Number(x)));
    return n >= Math.min(a!, b!) && n <= Math.max(a!, b!);
  });
}
const isSet = (value: string | null): value is string =>
  !!value && /^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/.test(value);

class Session {
  #buf = Buffer.alloc(0);
  /** Offsets of the current command's synchronizing literals already answered with `+`. */
  #continued = new Set<number>();
  #user: string | null = null;
  #selected = false;
  /** Messages the client was told of (EXISTS); sequence numbers go up to it. */
  #known = 0;
  #idleTag: string | null = null;
  #ended = false;

  constructor(
    private readonly socket: Socket,
    private readonly store: MailStore,
  ) {
    const unsubscribe = store.onDelivered((address) => {
      // New mail is pushed at once only to a client in IDLE; others learn it at their next command,
      // as from dovecot, so that a client polling (NOOP, SEARCH) really finds it by polling.
      if (this.#idleTag !== null && this.#selected && address === this.#user) this.#tellExists();
    });
    socket.on('close', unsubscribe);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => this.#data(chunk));
    this.#send(`* OK [CAPABILITY ${CAPABILITIES}] Gleaner demo mailbox ready`);
  }

  #send(line: string | Buffer): void {
    if (!this.#ended) this.socket.write(typeof line === 'string' ? `${line}\r\n` : line);
  }

  #data(chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    while (!this.#ended && this.#buf.length > 0) {
      if (this.#idleTag !== null) {
        const lf = this.#buf.indexOf(LF);
        if (lf < 0) break;
        const line = this.#buf.subarray(0, lf).toString('latin1').trim();
        this.#buf = this.#buf.subarray(lf + 1);
        const tag = this.#idleTag;
        this.#idleTag = null;
        this.#send(line.toUpperCase() === 'DONE' ? `${tag} OK IDLE terminated` : `${tag} BAD expected DONE`);
        continue;
      }
      const read = readCommand(this.#buf);
      if (read.kind === 'literal') {
        if (read.sync && !this.#continued.has(read.at)) {
          this.#continued.add(read.at);
          this.#send('+ Ready for literal data');
        }
        break;
      }
      if (read.kind === 'more') {
        if (this.#buf.length > MAX_COMMAND) this.#bye('command too long');
        break;
      }
      const line = this.#buf.subarray(0, read.end);
      this.#buf = this.#buf.subarray(read.end);
      this.#continued.clear();
      if (read.kind === 'bad') {
        const tag = /^[^\s(){"%*\]]+/.exec(line.toString('latin1'))?.[0] ?? '*';
        this.#send(`${tag} BAD ${read.message}`);
        continue;
      }
      const [tag, name, ...args] = read.words;
      if (typeof tag !== 'string' || typeof name !== 'string') {
        this.#send(`${typeof tag === 'string' ? tag : '*'} BAD a command needs a tag and a name`);
        continue;
      }
      this.#command(tag, name.toUpperCase(), args);
    }
  }

  #bye(reason: string): void {
    this.#send(`* BYE ${reason}`);
    this.#ended = true;
    this.socket.end();
  }

  #tellExists(): void {
    const count = this.store.inbox(this.#user ?? '').length;
    if (count === this.#known) return;
    this.#known = count;
    this.#send(`* ${count} EXISTS`);
  }

  #command(tag: string, name: string, args: Arg[]): void {
    const ok = (what: string) => this.#send(`${tag} OK ${what}`);
    const bad = (why: string) => this.#send(`${tag} BAD ${why}`);
    const authenticated = this.#user !== null;
    if (this.#selected) this.#tellExists();
    if (name === 'CAPABILITY') {
      this.#send(`* CAPABILITY ${CAPABILITIES}`);
      return ok('CAPABILITY completed');
    }
    if (name === 'NOOP') return ok('NOOP completed');
    if (name === 'LOGOUT') {
      this.#send('* BYE logging out');
      ok('LOGOUT completed');
      this.#ended = true;
      this.socket.end();
      return;
    }
    if (name === 'LOGIN') {
      if (authenticated) return bad('already logged in');
      const [user, password] = [text(args[0]), text(args[1])];
      if (user === null || password === null || args.length !== 2) return bad('LOGIN takes a user name and a password');
      // The password is never repeated back, not even in the refusal.
      if (!this.store.checkPassword(user, password))
        return this.#send(`${tag} NO [AUTHENTICATIONFAILED] wrong user name or app password`);
      this.#user = addressKey(user);
      return ok(`[CAPABILITY ${CAPABILITIES}] logged in`);
    }
    if (!authenticated) return bad(`${name} is unknown, or needs LOGIN first`);
    if (name === 'SELECT' || name === 'EXAMINE') {
      this.#selected = false;
      if (text(args[0])?.toUpperCase() !== 'INBOX')
        return this.#send(`${tag} NO [NONEXISTENT] there is only INBOX here`);
      const inbox = this.store.inbox(this.#user!);
      this.#selected = true;
      this.#known = inbox.length;
      this.#send('* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)');
      this.#send('* OK [PERMANENTFLAGS ()] nothing can be changed here');
      this.#send(`* ${inbox.length} EXISTS`);
      this.#send('* 0 RECENT');
      this.#send(`* OK [UIDVALIDITY ${this.store.uidValidity}] UIDs valid`);
      this.#send(`* OK [UIDNEXT ${(inbox.at(-1)?.uid ?? 0) + 1}] predicted next UID`);
      // Read-only even for SELECT (RFC 3501 allows it): the demo's mail is only ever read.
      return ok(`[READ-ONLY] ${name} completed`);
    }
    if (name === 'LIST' || name === 'LSUB') {
      const [reference, pattern] = [text(args[0]), text(args[1])];
      if (reference === null || pattern === null) return bad(`${name} takes a reference and a mailbox pattern`);
      // LIST "" "" asks only for the hierarchy delimiter (RFC 3501 section 6.3.8).
      if (name === 'LIST' && pattern === '') this.#send(`* LIST (\\Noselect) "${DELIMITER}" ""`);
      else if (matchesInbox(reference + pattern))
        this.#send(`* ${name} (${name === 'LIST' ? '\\HasNoChildren' : ''}) "${DELIMITER}" INBOX`);
      return ok(`${name} completed`);
    }
    if (name === 'IDLE') {
      this.#idleTag = tag;
      this.#send('+ idling');
      return;
    }
    if (!this.#selected) return bad(`${name} is unknown, or needs a mailbox selected first`);
    if (name === 'CLOSE') {
      this.#selected = false;
      return ok('CLOSE completed');
    }
    let byUid = false;
    if (name === 'UID') {
      const sub = text(args[0])?.toUpperCase();
      if (sub !== 'SEARCH' && sub !== 'FETCH') return bad(`UID ${sub ?? ''} is not supported here`);
      byUid = true;
      name = sub;
      args = args.slice(1);
    }
    const view = this.store.inbox(this.#user!).slice(0, this.#known);
    if (name === 'SEARCH') {
      const found = search(view, args, byUid);
      if (typeof found === 'string') return bad(found);
      this.#send(`* SEARCH${found.map((n) => ` ${n}`).join('')}`);
      return ok(`${byUid ? 'UID ' : ''}SEARCH completed`);
    }
    if (name === 'FETCH') {
      const set = text(args[0]);
      const items = fetchItems(args[1], byUid);
      if (!isSet(set) || typeof items === 'string' || args.length !== 2)
        return bad(typeof items === 'string' ? items : 'FETCH takes a sequence set and the items to fetch');
      view.forEach((message, index) => {
        const number = byUid ? message.uid : index + 1;
        const largest = byUid ? (view.at(-1)?.uid ?? 0) : view.length;
        if (inSet(set, number, largest)) this.#send(fetchResponse(index + 1, message, items));
      });
      return ok(`${byUid ? 'UID ' : ''}FETCH completed`);
    }
    bad(`${name} is not supported by this mailbox`);
  }
}

/** Whether a LIST pattern (with the wildcards * and %) names INBOX, whose name has no case. */
function matchesInbox(pattern: string): boolean {
  const re = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/[*%]/g, '.*');
  return new RegExp(`^${re}$`, 'i').test('INBOX');
}

/** The numbers (UIDs or sequence numbers) of the messages matching every key, or why the keys are refused. */
function search(view: StoredMessage[], args: Arg[], byUid: boolean): number[] | string {
  const tests: ((m: StoredMessage, seq: number) => boolean)[] = [];
  const largestUid = view.at(-1)?.uid ?? 0;
  for (let i = 0; i < args.length; i++) {
    const key = text(args[i])?.toUpperCase() ?? null;
    if (key === 'CHARSET' && /^(US-ASCII|UTF-8)$/i.test(text(args[i + 1]) ?? '')) i++;
    else if (key === 'ALL') continue;
    else if (key === 'SINCE' || key === 'BEFORE' || key === 'ON') {
      const day = parseDate(text(args[++i]));
      if (day === null) return `${key} takes a date like 1-Dec-2026`;
      // Dates compare by the day of the INTERNALDATE, the time of day left out (RFC 3501 section 6.4.4).
      const of = (m: StoredMessage) =>
        Date.UTC(m.internalDate.getUTCFullYear(), m.internalDate.getUTCMonth(), m.internalDate.getUTCDate());
      tests.push(key === 'SINCE' ? (m) => of(m) >= day : key === 'BEFORE' ? (m) => of(m) < day : (m) => of(m) === day);
    } else if (key === 'UID' && isSet(text(args[i + 1]))) {
      const set = text(args[++i])!;
      tests.push((m) => inSet(set, m.uid, largestUid));
    } else if (isSet(key)) tests.push((_, seq) => inSet(key, seq, view.length));
    else return `the search key ${JSON.stringify(key ?? '(list)')} is not supported here`;
  }
  return view.flatMap((m, index) => (tests.every((t) => t(m, index + 1)) ? [byUid ? m.uid : index + 1] : []));
}

type Item = 'UID' | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'BODY[]' | 'RFC822';

/** The items a FETCH asks, macros expanded (UID always, for UID FETCH), or why they are refused. */
function fetchItems(arg: Arg | undefined, byUid: boolean): Item[] | string {
  const asked = (Array.isArray(arg) ? arg : [arg]).map((a) => text(a)?.toUpperCase() ?? '(list)');
  const items: Item[] = byUid ? ['UID'] : [];
  for (const name of asked) {
    const expanded =
      name === 'FAST' ? ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'] : name === 'BODY.PEEK[]' ? ['BODY[]'] : [name];
    for (const item of expanded) {
      if (!['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'BODY[]', 'RFC822'].includes(item))
        return `the fetch item ${item} is not supported here`;
      if (!items.includes(item as Item)) items.push(item as Item);
    }
  }
  return items;
}

/** One untagged FETCH response; the message's bytes go as a literal. */
function fetchResponse(seq: number, message: StoredMessage, items: Item[]): Buffer {
  const parts: Buffer[] = [];
  let head = `* ${seq} FETCH (`;
  items.forEach((item, index) => {
    const sep = index === 0 ? '' : ' ';
    if (item === 'UID') head += `${sep}UID ${message.uid}`;
    else if (item === 'FLAGS') head += `${sep}FLAGS ()`;
    else if (item === 'INTERNALDATE') head += `${sep}INTERNALDATE "${imapDateTime(message.internalDate)}"`;
    else if (item === 'RFC822.SIZE') head += `${sep}RFC822.SIZE ${message.raw.length}`;
    else {
      parts.push(Buffer.from(`${head}${sep}${item} {${message.raw.length}}\r\n`, 'latin1'), message.raw);
      head = '';
    }
  });
  parts.push(Buffer.from(`${head})\r\n`, 'latin1'));
  return Buffer.concat(parts);
}
