import { AMAZON_USERS } from '../amazon-site.js';
import { GITHUB_USERS } from '../github-site.js';
import { startImapServer } from './imap-server.js';
import { startSmtpServer } from './smtp-server.js';
import { MailStore } from './store.js';

export { MailStore, type StoredMessage } from './store.js';
export { startImapServer, type RunningImapServer } from './imap-server.js';
export { startSmtpServer, type MailSink, type RunningSmtpServer } from './smtp-server.js';

/**
 * A mailbox for every demo user of the fake sites who has an e-mail address, each with a public app
 * password in the style of the site passwords (bob@example.test: bob-mail-password). Fake people,
 * public on purpose, like their site passwords.
 */
export const DEMO_MAILBOX_USERS: Readonly<Record<string, string>> = Object.fromEntries(
  [...Object.values(AMAZON_USERS), ...Object.values(GITHUB_USERS)]
    .map((user): string | undefined => user.email)
    .filter((email): email is string => !!email)
    .map((email) => [email, `${email.split('@')[0]}-mail-password`]),
);

export interface StartMailboxOptions {
  /** The IMAP port (0, the default, picks a free one); SMTP always takes a free one. */
  port?: number;
  /** Address → app password (default: DEMO_MAILBOX_USERS). */
  users?: Record<string, string>;
}

export interface RunningMailbox {
  imap: { host: string; port: number };
  smtp: { host: string; port: number };
  /** Address → app password. */
  users: Record<string, string>;
  /** The mail itself: tests deliver into it, or change a password. */
  store: MailStore;
  close(): Promise<void>;
}

/** A local mailbox in pure Node: SMTP in, IMAP out (plain, 127.0.0.1), mail kept in memory. */
export async function startMailbox(options: StartMailboxOptions = {}): Promise<RunningMailbox> {
  const users = { ...(options.users ?? DEMO_MAILBOX_USERS) };
  const store = new MailStore(users);
  const imap = await startImapServer(store, options.port ?? 0);
  let smtp;
  try {
    smtp = await startSmtpServer(store, 0);
  } catch (error) {
    await imap.close();
    throw error;
  }
  return {
    imap: { host: imap.host, port: imap.port },
    smtp: { host: smtp.host, port: smtp.port },
    users,
    store,
    close: async () => {
      await Promise.all([imap.close(), smtp.close()]);
    },
  };
}
