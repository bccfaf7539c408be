import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostMessage } from '@gleaner/contracts';
import { parseHostMessage } from '../src/host/host-message.js';

// The konnector's zod-free check must accept exactly what the contract's schema accepts.
const samples: unknown[] = [
  { kind: 'response', id: 1, ok: true, result: { code: '123456' } },
  { kind: 'response', id: 2, ok: true, result: null },
  { kind: 'response', id: 3, ok: true },
  { kind: 'response', id: 4, ok: false, error: { code: 'LOGIN_FAILED', message: 'LOGIN_FAILED' } },
  { kind: 'cancel', reason: 'JOB_TIMEOUT' },
  { kind: 'cancel', reason: 'JOB_CANCELLED' },
  { kind: 'cancel', reason: 'JOB_INTERRUPTED' },
  // and what it refuses
  { kind: 'cancel', reason: 'NOPE' },
  { kind: 'cancel', reason: 'JOB_TIMEOUT', extra: 1 },
  { kind: 'response', id: 1.5, ok: true, result: 1 },
  { kind: 'response', id: '1', ok: true, result: 1 },
  { kind: 'response', id: 1, ok: 'yes', result: 1 },
  { kind: 'response', id: 1, ok: true, result: 1, error: { code: 'x', message: 'y' } },
  { kind: 'response', id: 1, ok: false },
  { kind: 'response', id: 1, ok: false, error: { code: 'x' } },
  { kind: 'response', id: 1, ok: false, error: { code: 'x', message: 'y', stack: 'z' } },
  { kind: 'response', id: 1, ok: false, error: 'LOGIN_FAILED' },
  { kind: 'request', id: 1, method: 'start', params: {} },
  { kind: 'response' },
  [],
  null,
  'cancel',
  42,
];

void test('parseHostMessage accepts exactly what the HostMessage schema accepts', () => {
  for (const sample of samples) {
    const schema = HostMessage.safeParse(sample).success;
    assert.equal(parseHostMessage(sample) !== null, schema, `${JSON.stringify(sample)}: schema says ${schema}`);
  }
  assert.ok(samples.filter((s) => HostMessage.safeParse(s).success).length >= 6, 'both kinds of sample are there');
});
