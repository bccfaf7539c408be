import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { terminalCodeReader, type CodeRequest } from '../src/host/index.js';

/** Asks once through the terminal reader, types `line`, and returns the answer and what was shown. */
async function ask(line: string, details: CodeRequest['details']) {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (chunk: Buffer) => (shown += chunk.toString()));
  const answer = terminalCodeReader(
    input,
    output,
  )({
    type: 'sms',
    retry: false,
    expiresAt: Date.now() + 600_000,
    signal: new AbortController().signal,
    ...(details ? { details } : {}),
  });
  input.write(`${line}\n`);
  return { answer: await answer, shown };
}

void test('the terminal shows where the code went and the attempts left; "resend email" asks for a new code by e-mail', async () => {
  const details = {
    destination: '+33 6 •• •• •• 78',
    attemptsLeft: 4,
    methods: [
      { id: 'sms', label: 'SMS' },
      { id: 'email', label: 'E-mail' },
    ],
    resend: { cooldownMs: 0 },
  };
  const { answer, shown } = await ask('resend email', details);
  assert.deepEqual(answer, { resend: { method: 'email' } });
  assert.match(
    shown,
    /Enter the code sent to you by SMS \(sent to \+33 6 •• •• •• 78, 4 attempts left before the site locks the account, "resend" or "resend sms\|email" for a new code, (10:00|9:59) left\)/,
  );
  assert.deepEqual((await ask('resend', details)).answer, { resend: {} });
  assert.equal((await ask(' 123456 ', details)).answer, '123456');
  // No resend offered: the word is just what was typed (and the site will refuse it as a code).
  assert.equal((await ask('resend', undefined)).answer, 'resend');
});
