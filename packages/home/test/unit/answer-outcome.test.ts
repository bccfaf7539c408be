import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerOutcome, answerProblem, prepareCode } from '../../src/logic/answer-outcome.js';

test('each answer status has its outcome and a clear message', () => {
  assert.equal(answerOutcome(202), 'accepted');
  assert.equal(answerOutcome(409), 'not_waiting');
  assert.equal(answerOutcome(410), 'expired');
  assert.equal(answerOutcome(422), 'bad_format');
  assert.equal(answerOutcome(429), 'too_many_attempts');
  assert.equal(answerOutcome(500), 'failed');
  assert.equal(answerProblem('accepted'), null);
  for (const outcome of ['not_waiting', 'expired', 'bad_format', 'too_many_attempts', 'failed'] as const) {
    assert.ok((answerProblem(outcome) ?? '').length > 20, outcome);
  }
  assert.match(answerProblem('expired') ?? '', /expired/);
  assert.match(answerProblem('too_many_attempts') ?? '', /Too many attempts/);
});

test('a pasted code loses its spaces and dashes; a bad one is refused before sending', () => {
  assert.deepEqual(prepareCode(' 123 456 '), { ok: true, code: '123456' });
  assert.deepEqual(prepareCode('AB-12-CD'), { ok: true, code: 'AB12CD' });
  assert.equal(prepareCode('').ok, false);
  assert.equal(prepareCode('12').ok, false);
  assert.equal(prepareCode('12345678901234').ok, false);
  assert.equal(prepareCode('12$456').ok, false);
});
