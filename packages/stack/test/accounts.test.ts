import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CANARY_PASSWORD,
  databaseBytes,
  EventRecorder,
  isJobEnded,
  openStack,
  tmpDataDir,
} from './helpers/stack-harness.js';
import { accountAad } from '../src/secrets/index.js';
import { loadKeyring } from '../src/secrets/index.js';

describe('accounts', () => {
  it('create, read, update (a secret sent empty is kept), reset the session, delete', async () => {
    const dataDir = tmpDataDir();
    const stack = await openStack(dataDir);
    const recorder = new EventRecorder(stack);
    try {
      await assert.rejects(stack.accounts.create({ konnector: 'nope', fields: {} }), { code: 'invalid' });
      await assert.rejects(
        stack.accounts.create({ konnector: 'twofa-test', fields: { login: 'ada' } }),
        (e: { code: string; message: string }) => e.code === 'invalid' && e.message.includes('fields.password'),
      );
      await assert.rejects(
        stack.accounts.create({ konnector: 'twofa-test', fields: { login: 'a', password: 'b', extra: 'x' } }),
        { code: 'invalid' },
      );
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        label: 'Mine',
        fields: { login: 'ada', password: CANARY_PASSWORD },
      });
      assert.equal(account.label, 'Mine');
      assert.equal(account.sessionSaved, false);
      assert.equal(account.lastJob, null);
      assert.ok(account.nextRunAt);
      assert.ok(!JSON.stringify(account).includes(CANARY_PASSWORD));

      const updated = await stack.accounts.update(account.id, {
        label: 'Renamed',
        fields: { login: 'bob', password: '' },
      });
      assert.equal(updated.label, 'Renamed');
      assert.equal(updated.fields.login, 'bob');
      const keyring = loadKeyring({ dataDir, env: {} });
      const record = (await stack.storage.accounts.get(account.id))!;
      const fields = JSON.parse(keyring.open(record.credentials, accountAad(account.id, 'credentials'))) as Record<
        string,
        string
      >;
      assert.equal(fields.password, CANARY_PASSWORD, 'kept');
      assert.equal(fields.login, 'bob');
      await stack.accounts.update(account.id, { fields: { password: 'new-Pw-1' } });
      const record2 = (await stack.storage.accounts.get(account.id))!;
      assert.equal(
        (JSON.parse(keyring.open(record2.credentials, accountAad(account.id, 'credentials'))) as Record<string, string>)
          .password,
        'new-Pw-1',
      );

      await stack.storage.accounts.update(account.id, {
        session: keyring.seal('jar', accountAad(account.id, 'session')),
      });
      assert.equal((await stack.accounts.get(account.id)).sessionSaved, true);
      const reset = await stack.accounts.resetSession(account.id);
      assert.equal(reset.sessionSaved, false);
      assert.equal(reset.state, 'RESET_SESSION');

      assert.equal((await stack.accounts.list()).length, 1);
      await stack.accounts.remove(account.id);
      await assert.rejects(stack.accounts.get(account.id), { code: 'not_found' });
      await assert.rejects(stack.accounts.remove(account.id), { code: 'not_found' });
      await stack.events.flush();
      assert.ok(recorder.events.some((e) => e.type === 'account.deleted' && e.accountId === account.id));
      assert.ok(!databaseBytes(dataDir).includes(CANARY_PASSWORD));
    } finally {
      recorder.stop();
      await stack.close(300);
    }
  });

  it('konnectors: listed with their fields; a bad one among good ones is reported, not loaded', async () => {
    const stack = await openStack(tmpDataDir());
    try {
      assert.deepEqual(
        stack.konnectors.list().map((k) => k.slug),
        ['twofa-test'],
      );
      assert.equal(stack.konnectors.get('twofa-test')?.fields.password?.type, 'password');
      assert.equal(stack.konnectors.get('nope'), undefined);
    } finally {
      await stack.close(300);
    }
  });
});

describe('a konnector touches only its own files', () => {
  it('refuses staged paths outside its staging folder, symlinks, and names or folders that climb out', async () => {
    const dataDir = tmpDataDir();
    const stack = await openStack(dataDir);
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: 'pw', scenario: 'escape' },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      const ended = await recorder.waitFor(isJobEnded(job.id), 'the job');
      assert.equal(ended.job.status, 'done');
      const lines = (await stack.jobs.logs(job.id)).map((l) => l.message).filter((m) => m.startsWith('escape:'));
      assert.equal(lines.length, 5, lines.join('\n'));
      assert.ok(
        lines.every((m) => m === 'escape: refused SAVE_FILE_FAILED'),
        lines.join('\n'),
      );
      assert.deepEqual(await stack.files.list(account.id), []);
      assert.equal(ended.job.filesSaved, 0);
    } finally {
      recorder.stop();
      await stack.close(300);
    }
  });
});
