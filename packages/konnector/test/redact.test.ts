import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { test } from 'node:test';
import { Secret } from '@gleaner/contracts';
import { Redactor } from '../src/core/redact.js';

test('registered secrets are scrubbed, URL-encoded forms too; short values are left alone', () => {
  const redactor = new Redactor();
  redactor.add('hunter2 and more', '123456', 'ab', null);
  assert.equal(
    redactor.scrub('password=hunter2%20and%20more code 123456 ab'),
    'password=[redacted] code [redacted] ab',
  );
});

test('a Secret prints as [redacted] in JSON, strings and inspect', () => {
  const secret = new Secret('s3cr3t-value');
  assert.equal(JSON.stringify({ secret }), '{"secret":"[redacted]"}');
  assert.equal(`${secret}`, '[redacted]');
  assert.ok(!inspect({ secret }).includes('s3cr3t'));
  assert.equal(secret.reveal(), 's3cr3t-value');
});
