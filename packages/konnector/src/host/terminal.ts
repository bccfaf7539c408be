import { createInterface } from 'node:readline';
import type { TwoFaType } from '@gleaner/contracts';
import type { CodeReader } from './standalone-host.js';

const where: Record<Exclude<TwoFaType, 'app'>, string> = {
  sms: 'the code sent to you by SMS',
  email: 'the code sent to you by e-mail',
  app_code: 'the code shown by your authenticator app',
};

export function describeTwoFa(type: TwoFaType | undefined, retry: boolean): string {
  if (type === 'app') {
    return `${retry ? 'Not approved yet. ' : ''}Approve the sign-in in the provider's app on your phone (this goes on by itself once approved)`;
  }
  const what = type ? where[type] : 'the code you received';
  return retry ? `Wrong code. Enter ${what} again` : `Enter ${what}`;
}

function timeLeft(expiresAt: number): string {
  const seconds = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')} left`;
}

/**
 * Reads a code from the terminal, showing its kind and the time left (refreshed every second on a
 * TTY, every 30 seconds otherwise). The code is not echoed back into any log.
 */
export function terminalCodeReader(
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): CodeReader {
  return ({ type, retry, expiresAt, signal, details }) =>
    new Promise<string | { resend: { method?: string } }>((resolve, reject) => {
      const tty = (output as NodeJS.WriteStream).isTTY === true;
      // Between questions the input must not keep the process alive (a pipe left open by a parent).
      const handle = input as { ref?: () => void; unref?: () => void };
      handle.ref?.();
      const rl = createInterface({ input, output, terminal: tty });
      const said = [
        details?.destination ? `sent to ${details.destination}` : '',
        details?.attemptsLeft !== undefined
          ? `${details.attemptsLeft} attempts left before the site locks the account`
          : '',
        details?.resend
          ? `"resend"${(details.methods?.length ?? 0) > 1 ? ` or "resend ${details.methods?.map((m) => m.id).join('|')}"` : ''} for a new code`
          : '',
      ].filter(Boolean);
      const question = () => `${describeTwoFa(type, retry)} (${[...said, timeLeft(expiresAt)].join(', ')}): `;
      rl.setPrompt(question());
      rl.prompt();
      const tick = setInterval(
        () => {
          if (tty) {
            rl.setPrompt(question());
            rl.prompt(true);
          } else output.write(`\n${timeLeft(expiresAt)}\n`);
        },
        tty ? 1000 : 30_000,
      );
      const close = () => {
        clearInterval(tick);
        signal.removeEventListener('abort', onAbort);
        rl.close();
        handle.unref?.();
      };
      const onAbort = () => {
        close();
        output.write('\n');
        reject(new Error('aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      rl.once('line', (line) => {
        close();
        // "resend" (or "resend email") asks the site for a new code, when it offers one.
        const asked = /^resend(?:\s+(\S+))?$/i.exec(line.trim());
        if (asked && details?.resend) resolve({ resend: asked[1] ? { method: asked[1] } : {} });
        else resolve(line.trim());
      });
    });
}
