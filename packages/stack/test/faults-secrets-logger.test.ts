import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, LogSecrets, logSecrets } from '../src/logger.js';
import { EventRecorder, GOOD_CODE, isJobEnded, isPrompt, openStack, tmpDataDir } from './helpers/stack-harness.js';

/** A logger of the stack's kind whose lines are kept. */
function captured(secrets = new LogSecrets()) {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(line) },
    secrets,
  });
  return { logger, secrets, text: () => lines.join('') };
}

describe('faults: the logger redacts secrets, not errno codes', () => {
  it('an errno code survives; a password and a 2FA code under their keys do not', () => {
    const { logger, text } = captured();
    const error = Object.assign(new Error('write failed'), { code: 'ENOSPC', errno: -28 });
    logger.error({ err: error }, 'could not write');
    logger.warn(
      { password: 'hunter2-Pw', twoFaCode: '482913', nested: { otp: '551177' }, fields: { login: 'x' } },
      'x',
    );
    const out = text();
    assert.match(out, /"code":"ENOSPC"/, 'the errno is kept');
    for (const secret of ['hunter2-Pw', '482913', '551177']) assert.ok(!out.includes(secret), `${secret} redacted`);
    assert.match(out, /\[redacted\]/);
  });

  it('a known secret value is redacted wherever it appears (message, error, any key, JSON-escaped), until forgotten', () => {
    const { logger, secrets, text } = captured();
    const quoted = 'pa"ss\\w0rd';
    const forget = secrets.add('Q7CANARY9', quoted, 'ab');
    logger.error({ err: new Error('the site said Q7CANARY9 is wrong'), note: quoted }, 'answered Q7CANARY9');
    const during = text();
    assert.ok(!during.includes('Q7CANARY9'), during);
    assert.ok(!during.includes(JSON.stringify(quoted).slice(1, -1)), during);
    assert.match(during, /answered \[redacted\]/);
    forget();
    logger.info('Q7CANARY9 again, now a plain word');
    assert.match(text(), /Q7CANARY9 again/, 'scoped to the time it is a secret');
  });

  it('a running job adds its password and code to the stack log’s redaction, and removes them when it ends', async () => {
    const password = 'log-canary-Pw-0c9e';
    const stack = await openStack(tmpDataDir());
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({ konnector: 'twofa-test', fields: { login: 'ada', password } });
      const job = await stack.jobs.start(account.id, 'manual');
      const waiting = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the prompt');
      assert.equal(logSecrets.scrub(`x ${password} y`), 'x [redacted] y');
      assert.equal(await stack.prompts.answer(waiting.prompt.id, GOOD_CODE), 'accepted');
      assert.equal((await recorder.waitFor(isJobEnded(job.id), 'the job')).job.status, 'done');
      assert.equal(logSecrets.scrub(`x ${password} ${GOOD_CODE}`), `x ${password} ${GOOD_CODE}`);
    } finally {
      recorder.stop();
      await stack.close(1000);
    }
  });
});
