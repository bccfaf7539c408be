import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import { extractCode, type CodeMatcher } from './matching.js';

/** A mailbox as the person authorised it: shown in clear except the password (sealed). */
export type MailboxSettings = { host: string; port: number; tls: boolean; user: string; folder: string };

/** Where a message sits in its folder: its UID, valid while the folder's UIDVALIDITY stays. */
export type MailboxCursor = { uidValidity: string; uid: number };

/** Why a mailbox could not be read, in words a person can act on (never the password). */
export class MailboxError extends Error {
  constructor(
    message: string,
    readonly kind: 'auth' | 'connect' | 'folder',
  ) {
    super(message);
  }
}

/** Longest a connection and login may take. */
const CONNECT_TIMEOUT_MS = 20_000;

/** How often the mailbox is searched again even while IDLE waits (a server without IDLE, a missed push). */
export const MAILBOX_POLL_MS = 5_000;

type Watch = {
  settings: MailboxSettings;
  password: string;
  matcher: CodeMatcher;
  /** Only messages received from then on count (IMAP dates have whole seconds: its second counts). */
  since: number;
  /** Codes already given in this run: never given again. */
  used: ReadonlySet<string>;
  /** The last message a code was taken from (any run): it and those before it are spent. */
  after?: MailboxCursor | undefined;
  onCode(code: string, from: MailboxCursor): void;
  onError(error: MailboxError): void;
  pollMs?: number;
  /** false: search on a timer only, no IDLE (the bench compares both). */
  idle?: boolean;
};

const client = (settings: MailboxSettings, password: string, idle: boolean) =>
  new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.tls,
    auth: { user: settings.user, pass: password },
    logger: false,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    disableAutoIdle: !idle,
    // IDLE again right after each search: imapflow's default waits 15 s, longer than the poll.
    autoIdleDelay: 250,
    // A mailbox on this machine may speak plain IMAP; elsewhere `tls` says TLS from the first byte.
    ...(settings.tls ? {} : { doSTARTTLS: false }),
  });

function mailboxError(error: unknown, settings: MailboxSettings): MailboxError {
  const where = `${settings.user}@${settings.host}:${settings.port}`;
  if ((error as { authenticationFailed?: boolean }).authenticationFailed)
    return new MailboxError(`the mailbox ${where} refused the user name or app password`, 'auth');
  const code = (error as { code?: string }).code;
  return new MailboxError(`could not reach the mailbox ${where}${code ? ` (${code})` : ''}`, 'connect');
}

/** Connects and opens the folder read-only; the error names what failed. */
async function open(settings: MailboxSettings, password: string, idle: boolean): Promise<ImapFlow> {
  const imap = client(settings, password, idle);
  // An error after connecting (the server going away) ends the watch through `close`, not a crash.
  imap.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    // A server may hold a refused login for long (a penalty for failures): past this, it is a failure.
    await Promise.race([
      imap.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
          CONNECT_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    imap.close();
    throw mailboxError(error, settings);
  } finally {
    clearTimeout(timer);
  }
  try {
    await imap.mailboxOpen(settings.folder, { readOnly: true });
  } catch {
    await imap.logout().catch(() => undefined);
    throw new MailboxError(`the mailbox has no folder ${JSON.stringify(settings.folder)}`, 'folder');
  }
  return imap;
}

/** The codes of matching messages received at or after `since`, oldest first, with when each was received. */
async function matchingCodes(
  imap: ImapFlow,
  matcher: CodeMatcher,
  since: number,
  after?: MailboxCursor,
): Promise<{ code: string; at: number; cursor: MailboxCursor }[]> {
  const floor = Math.floor(since / 1000) * 1000;
  // SEARCH SINCE takes a date, not a time: a day back, then each message's own INTERNALDATE decides.
  const uids = await imap.search({ since: new Date(floor - 86_400_000) }, { uid: true });
  if (!uids || uids.length === 0) return [];
  const uidValidity = imap.mailbox ? String(imap.mailbox.uidValidity) : '';
  const spent = after && after.uidValidity === uidValidity ? after.uid : 0;
  const found: { code: string; at: number; cursor: MailboxCursor }[] = [];
  for await (const message of imap.fetch(uids, { uid: true, internalDate: true, source: true }, { uid: true })) {
    const at = message.internalDate ? new Date(message.internalDate).getTime() : 0;
    if (at < floor || message.uid <= spent || !message.source) continue;
    const mail = await simpleParser(message.source);
    const text = mail.text ?? (typeof mail.html === 'string' ? mail.html.replace(/<[^>]+>/g, ' ') : '');
    const code = extractCode({ from: mail.from?.text ?? '', subject: mail.subject ?? '', text }, matcher);
    if (code !== null) found.push({ code, at, cursor: { uidValidity, uid: message.uid } });
  }
  return found.sort((a, b) => a.at - b.at);
}

/**
 * Watches a mailbox for the site's code while a prompt waits: IDLE (new mail pushed by the server),
 * and a search every `pollMs` as the fallback. Gives the first matching, unused code received since
 * `since`, once. Returns a function that stops the watch and logs out.
 */
export function watchMailbox(watch: Watch): () => void {
  let stopped = false;
  let imap: ImapFlow | null = null;
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | null = null;
  let again = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    void imap?.logout().catch(() => undefined);
  };
  const check = (): Promise<void> => {
    if (checking) {
      again = true;
      return checking;
    }
    checking = (async () => {
      do {
        again = false;
        if (stopped || !imap) return;
        const codes = await matchingCodes(imap, watch.matcher, watch.since, watch.after);
        const first = codes.find((candidate) => !watch.used.has(candidate.code));
        if (first && !stopped) {
          stop();
          watch.onCode(first.code, first.cursor);
          return;
        }
      } while (again && !stopped);
    })().finally(() => {
      checking = null;
    });
    return checking;
  };
  const failed = (error: unknown) => {
    if (stopped) return;
    stop();
    watch.onError(error instanceof MailboxError ? error : mailboxError(error, watch.settings));
  };
  void (async () => {
    imap = await open(watch.settings, watch.password, watch.idle ?? true);
    if (stopped) {
      await imap.logout().catch(() => undefined);
      return;
    }
    imap.on('exists', () => void check().catch(failed));
    imap.on('close', () =>
      failed(new MailboxError(`the mailbox ${watch.settings.host} closed the connection`, 'connect')),
    );
    timer = setInterval(() => void check().catch(failed), watch.pollMs ?? MAILBOX_POLL_MS);
    await check();
  })().catch(failed);
  return stop;
}

/**
 * Connects once and finds the newest matching message (Home's "test" button): when it was received,
 * and where it sits (the stack spends it, and those before it, when the mailbox is set).
 */
export async function testMailbox(
  settings: MailboxSettings,
  password: string,
  matcher: CodeMatcher,
): Promise<{ lastMatchAt: number | null; lastMatch: MailboxCursor | null }> {
  const imap = await open(settings, password, false);
  try {
    const codes = await matchingCodes(imap, matcher, Date.now() - 30 * 86_400_000);
    const newest = codes.reduce<MailboxCursor | null>(
      (max, { cursor }) => (max === null || cursor.uid > max.uid ? cursor : max),
      null,
    );
    return { lastMatchAt: codes.at(-1)?.at ?? null, lastMatch: newest };
  } finally {
    await imap.logout().catch(() => undefined);
  }
}
