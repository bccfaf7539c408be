import { SMTPServer } from 'smtp-server';

/** Where received mail goes: the demo's MailStore, or (in the stack's tests) a real IMAP server. */
export interface MailSink {
  /** Whether mail for `address` is taken here (another is refused 550 before its message is sent). */
  has(address: string): boolean;
  /** Puts the message in the address's INBOX, received `at`; a rejection refuses the message. */
  deliver(address: string, raw: Buffer, at: Date): unknown;
}

/** Largest message taken: the sites' code e-mails are a few hundred bytes. */
const MAX_MESSAGE = 1024 * 1024;

export interface RunningSmtpServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

const refused = (message: string, responseCode: number) => Object.assign(new Error(message), { responseCode });

/**
 * An SMTP server on 127.0.0.1 (`port` 0 picks a free one) that delivers each message to its
 * recipients' INBOX in `sink`. No AUTH and no TLS: only this machine reaches it, and it relays
 * nothing; a recipient with no mailbox here is refused (550) before the message is sent.
 */
export async function startSmtpServer(sink: MailSink, port = 0): Promise<RunningSmtpServer> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: MAX_MESSAGE,
    // A closing demo or test does not wait the default 30 s for a client that keeps its connection.
    closeTimeout: 1000,
    onRcptTo(address, _session, callback) {
      callback(sink.has(address.address) ? null : refused(`no mailbox here for ${address.address}`, 550));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(refused(`a message is at most ${MAX_MESSAGE} bytes here`, 552));
        const raw = Buffer.concat(chunks);
        const at = new Date();
        Promise.all(session.envelope.rcptTo.map(async (to) => sink.deliver(to.address, raw, at))).then(
          () => callback(),
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (typeof address !== 'object' || !address) throw new Error('the SMTP server has no port');
  return {
    host: '127.0.0.1',
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
