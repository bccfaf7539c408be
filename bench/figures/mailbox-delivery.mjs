import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { notApplicable, notMeasured, sleep } from '../lib/outcome.mjs';
import { REPO_DIR } from '../lib/paths.mjs';
import { progress } from '../lib/progress.mjs';
import { round, summarize } from '../lib/stats.mjs';

const MAILBOX = join(REPO_DIR, 'packages', 'stack', 'dist', 'src', 'code-sources', 'mailbox.js');
const IMAP_SERVER = join(REPO_DIR, 'packages', 'stack', 'dist', 'test', 'helpers', 'imap-server.js');
const IDLE_SAMPLES = 40;
const POLL_SAMPLES = 12;
const USER = 'bench@example.test';
const PASSWORD = 'bench-mailbox-password';

export const name = 'mailbox-delivery';
export const title = '8. Code read from the mailbox (IMAP)';
export const goal = 'IDLE p99 under 1 s';
export const metrics = [
  {
    key: 'idleP50Ms',
    label: 'e-mail in the mailbox → code source gives the code, IDLE, p50',
    unit: 'ms',
    digits: 0,
    better: 'info',
  },
  { key: 'idleP99Ms', label: 'same, IDLE, p99', unit: 'ms', digits: 0, better: 'info', goalText: '< 1000 ms' },
  { key: 'pollP50Ms', label: 'same, polling only (a search every 5 s), p50', unit: 'ms', digits: 0, better: 'info' },
  { key: 'pollP99Ms', label: 'same, polling only, p99', unit: 'ms', digits: 0, better: 'info' },
];
export const notes = [
  `Mailbox delivery: a real dovecot on 127.0.0.1 (the tests' harness); for each sample the stack's mailbox watcher (packages/stack/src/code-sources/mailbox.ts, the one a waiting e-mail prompt starts) is connected first, then a site's code e-mail is APPENDed to the INBOX; the time runs from the APPEND's completion to the watcher handing over the matched code (${IDLE_SAMPLES} samples with IDLE, ${POLL_SAMPLES} with IDLE off, so only the 5 s search finds it). From there the code takes figure 3's path to waitForTwoFaCode. cozy-konnector-libs has no code source: n/a.`,
];

const message = (code) =>
  `From: "Amazon" <account-security-noreply@amazon.example.test>\r\nTo: ${USER}\r\nSubject: Your Amazon verification code\r\n\r\nYour amazon verification code is ${code}. It expires in 10 minutes.\r\n`;

async function measure(imap, watchMailbox, idle, count, label) {
  const settings = { host: imap.host, port: imap.port, tls: false, user: USER, folder: 'INBOX' };
  const samples = [];
  for (let i = 0; i < count; i++) {
    const code = String(100000 + Math.floor(Math.random() * 900000));
    let delivered = 0;
    const got = new Promise((resolve, reject) => {
      const stop = watchMailbox({
        settings,
        password: PASSWORD,
        matcher: { from: 'amazon.example.test', pattern: 'verification code is (\\d{6})' },
        since: Date.now(),
        used: new Set(),
        idle,
        onCode: (found) =>
          found === code ? resolve(performance.now() - delivered) : reject(new Error(`got ${found}, sent ${code}`)),
        onError: (error) => reject(error),
      });
      setTimeout(() => {
        stop();
        reject(new Error('no code within 20 s'));
      }, 20_000).unref();
    });
    // Connected and idling (or between two searches) before the e-mail arrives.
    await sleep(500);
    await imap.deliver(USER, message(code));
    delivered = performance.now();
    samples.push(await got);
    // A second's gap: IMAP dates are whole seconds, each sample's `since` starts after the last message.
    await sleep(1100);
    progress(`  ${label}: ${samples.length}/${count}`);
  }
  return samples;
}

export const runPeer = () => notApplicable('cozy-konnector-libs reads no mailbox');

export async function runGleaner() {
  if (!existsSync(MAILBOX) || !existsSync(IMAP_SERVER)) return notMeasured('stack not built');
  if (!existsSync('/usr/sbin/dovecot')) return notMeasured('dovecot missing (apt-get install -y dovecot-imapd)');
  const { watchMailbox } = await import(MAILBOX);
  const { startImapServer } = await import(IMAP_SERVER);
  const imap = await startImapServer({ [USER]: PASSWORD });
  try {
    const idle = summarize(await measure(imap, watchMailbox, true, IDLE_SAMPLES, 'IDLE'));
    const poll = summarize(await measure(imap, watchMailbox, false, POLL_SAMPLES, 'polling'));
    return {
      metrics: { idleP50Ms: idle.p50, idleP99Ms: idle.p99, pollP50Ms: poll.p50, pollP99Ms: poll.p99 },
      raw: {
        idleMs: Object.fromEntries(Object.entries(idle).map(([k, v]) => [k, round(v, 1)])),
        pollMs: Object.fromEntries(Object.entries(poll).map(([k, v]) => [k, round(v, 1)])),
      },
    };
  } finally {
    await imap.close();
  }
}
