import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Account, Trigger } from '@gleaner/contracts';
import type { GleanerStack } from '../src/create-stack.js';
import { startTestApi, type Session, type TestApi } from './api-fixtures/http.js';
import { FIXTURES, openStack, runToEnd, tmpDataDir } from './helpers/stack-harness.js';

/** A manual-only konnector (manifest `manualOnly: true`): its accounts are never scheduled. */
describe('manual-only konnectors', () => {
  let stack: GleanerStack;
  let api: TestApi;
  let session: Session;
  let offset = 0;

  before(async () => {
    stack = await openStack(tmpDataDir(), {
      konnectorDirs: [`${FIXTURES}/manual-only-konnector`, `${FIXTURES}/twofa-konnector`],
      clock: { now: () => Date.now() + offset },
    });
    api = await startTestApi(stack);
    session = await api.login();
  });
  after(async () => {
    await api.close();
    await stack.close(2000);
  });

  it('has no schedule, the trigger API refuses one with its reason, and no tick runs it; a manual run works', async () => {
    const info = await api.call('/api/konnectors/manual-only', { session });
    assert.equal((info.body as { manualOnly?: boolean }).manualOnly, true);
    const created = await api.call('/api/accounts', {
      method: 'POST',
      session,
      json: { konnector: 'manual-only', fields: { login: 'ada', password: 'pw-manual-77' } },
    });
    assert.equal(created.status, 201);
    const account = created.body as Account;
    assert.equal(account.nextRunAt, null, 'no next run');
    const trigger = (await api.call(`/api/accounts/${account.id}/trigger`, { session })).body as Trigger;
    assert.equal(trigger.frequency, 'off');
    assert.equal(trigger.nextRunAt, null);

    const put = await api.call(`/api/accounts/${account.id}/trigger`, {
      method: 'PUT',
      session,
      json: { frequency: 'daily', time: '03:00' },
    });
    assert.equal(put.status, 422);
    assert.match(
      (put.body as { message: string }).message,
      /manual-only: its site's session never lasts until the next night, so its accounts are never scheduled; run it yourself when you want fresh data/,
    );
    assert.equal(
      (await api.call(`/api/accounts/${account.id}/trigger`, { method: 'PUT', session, json: { frequency: 'off' } }))
        .status,
      200,
      'off is still accepted',
    );

    // A trigger left from before the konnector became manual-only: due, yet never run.
    await stack.storage.triggers.update(account.id, {
      frequency: 'daily',
      nextRunAt: new Date(Date.now() - 1000).toISOString(),
    });
    offset = 60_000;
    const tick = await stack.scheduler.tick();
    assert.deepEqual(tick.started, []);
    assert.deepEqual(tick.skipped, [{ accountId: account.id, reason: 'MANUAL_ONLY' }]);
    assert.equal((await stack.storage.triggers.get(account.id))?.frequency, 'off');
    assert.equal((await stack.storage.jobs.list({ accountId: account.id })).length, 0);

    const manual = await runToEnd(stack, account.id);
    assert.equal(manual.status, 'done', `manual run: ${manual.error}`);
  });

  it('an ordinary konnector still takes a schedule', async () => {
    const account = await stack.accounts.create({
      konnector: 'twofa-test',
      fields: { login: 'bo', password: 'pw-bo-12' },
    });
    assert.notEqual(account.nextRunAt, null);
    const put = await api.call(`/api/accounts/${account.id}/trigger`, {
      method: 'PUT',
      session,
      json: { frequency: 'weekly', time: '04:00' },
    });
    assert.equal(put.status, 200);
  });
});
