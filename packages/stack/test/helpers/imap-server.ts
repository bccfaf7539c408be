import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { startSmtpServer } from '@gleaner/sites';

export const DOVECOT = '/usr/sbin/dovecot';
/** The line that installs what this harness needs (scripts/test.mjs runs it as root). */
export const DOVECOT_INSTALL = 'sudo apt-get install -y dovecot-imapd';

export type ImapServer = {
  host: string;
  port: number;
  /**
   * Puts a raw RFC 5322 message in the user's INBOX, as a delivery would (its INTERNALDATE `at`, default now);
   * resolves with the moment the APPEND completed (performance.timeOrigin + performance.now()), which the bench times from.
   */
  deliver(user: string, raw: string, at?: Date): Promise<number>;
  /** Changes a user's password; resolves once dovecot takes the new one (it reads its passwd file again within a second or so). */
  setPassword(user: string, password: string): Promise<void>;
  close(): Promise<void>;
};

const freePort = () =>
  new Promise<number>((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });

async function logsIn(port: number, user: string, password: string): Promise<boolean> {
  const imap = new ImapFlow({ host: '127.0.0.1', port, secure: false, logger: false, auth: { user, pass: password } });
  imap.on('error', () => undefined);
  try {
    await imap.connect();
    await imap.logout();
    return true;
  } catch {
    return false;
  }
}

/**
 * A real IMAP server for the tests: Debian's dovecot on 127.0.0.1, plain IMAP, a throwaway
 * maildir per user (`users`: name → password), stopped with `close`. Fails with the install line
 * when dovecot is missing. `capabilities` replaces what dovecot advertises after login (its
 * `imap_capability`): the bench leaves IDLE out of it to measure a server without IDLE.
 */
export async function startImapServer(
  users: Record<string, string>,
  options: { capabilities?: string } = {},
): Promise<ImapServer> {
  if (!existsSync(DOVECOT)) throw new Error(`missing: dovecot (${DOVECOT}). Install it: ${DOVECOT_INSTALL}`);
  const root = mkdtempSync(join(tmpdir(), 'gleaner-imap-'));
  chmodSync(root, 0o755);
  const mail = join(root, 'mail');
  mkdirSync(mail);
  // Mail is kept as nobody: dovecot refuses root as a mail user.
  chownSync(mail, 65534, 65534);
  users = { ...users };
  const port = await freePort();
  let writes = 0;
  const writeUsers = () => {
    const file = join(root, 'passwd');
    writeFileSync(
      file,
      Object.entries(users)
        .map(([user, password]) => `${user}:{PLAIN}${password}::::::`)
        .join('\n') + '\n',
    );
    // dovecot reads the file again when its mtime changes, to the second: a change within the
    // second of the last read would go unseen, so each write moves the mtime to a second of its own.
    const at = Math.floor(Date.now() / 1000) + 2 * ++writes;
    utimesSync(file, at, at);
  };
  writeUsers();
  const config = join(root, 'dovecot.conf');
  writeFileSync(
    config,
    `base_dir = ${root}/run
state_dir = ${root}/state
log_path = ${root}/dovecot.log
instance_name = gleaner-${port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A refused password answers at once, and refusals do not slow later logins (the tests make some).
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
${options.capabilities === undefined ? '' : `imap_capability = ${options.capabilities}\n`}first_valid_uid = 1
mail_location = maildir:${mail}/%u/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${root}/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=${mail}/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
  unix_listener stats-writer {
    mode = 0600
  }
}
`,
  );
  const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dovecot exited ${child.exitCode}: ${stderr}`);
    const ok = await new Promise<boolean>((resolveOk) => {
      const probe = new ImapFlow({
        host: '127.0.0.1',
        port,
        secure: false,
        logger: false,
        auth: { user: 'probe', pass: 'x' },
      });
      probe.on('error', () => undefined);
      probe.connect().then(
        () => resolveOk(true),
        (error: { authenticationFailed?: boolean }) => resolveOk(error.authenticationFailed === true),
      );
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`dovecot did not listen on ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: '127.0.0.1',
    port,
    async deliver(user, raw, at) {
      const password = users[user];
      if (password === undefined) throw new Error(`no mailbox for ${user}`);
      const imap = new ImapFlow({
        host: '127.0.0.1',
        port,
        secure: false,
        logger: false,
        auth: { user, pass: password },
      });
      imap.on('error', () => undefined);
      await imap.connect();
      try {
        await imap.append('INBOX', raw, [], at ?? new Date());
        return performance.timeOrigin + performance.now();
      } finally {
        await imap.logout();
      }
    },
    async setPassword(user, password) {
      users[user] = password;
      writeUsers();
      const until = Date.now() + 10_000;
      while (!(await logsIn(port, user, password))) {
        if (Date.now() > until) throw new Error(`dovecot did not take ${user}'s new password`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * An SMTP server on 127.0.0.1 (port 0) that delivers what it receives into the IMAP server, each
 * recipient's INBOX: the fake sites send their e-mails through it, as through a provider's MX. It is
 * the fake sites' own SMTP server, with dovecot as its sink (any recipient taken; dovecot refuses
 * an unknown one at delivery).
 */
export async function startMailRelay(imap: ImapServer): Promise<{ port: number; close(): Promise<void> }> {
  const smtp = await startSmtpServer({
    has: () => true,
    deliver: (address, raw) => imap.deliver(address, raw.toString('utf8')),
  });
  return { port: smtp.port, close: () => smtp.close() };
}
