import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { Secret } from '@gleaner/contracts';
import { createLogger } from '../src/logger.js';
import { PgPromptBus, promptCodeAad, type PromptMessage } from '../src/runtime/prompt-bus.js';
import { Keyring } from '../src/secrets/keyring.js';
import { PgNotifier } from '../src/storage/pg-notify.js';
import { openPostgresStorage } from '../src/storage/postgres.js';
import type { Storage } from '../src/storage/stores.js';
import { postgresForFile } from './helpers/postgres.js';

/** PgPromptBus alone: two nodes' buses on one database, what crosses and what is stored. */
const server = postgresForFile();

describe('the PostgreSQL prompt bus', { concurrency: true }, () => {
  let storage: Storage;
  let database: string;
  let notifiers: PgNotifier[];
  let spy: pg.Client;
  const payloads: string[] = [];
  const keyring = new Keyring(new Map([['k1', randomBytes(32)]]), 'k1');
  const bus = (notifier: PgNotifier) =>
    new PgPromptBus({
      store: storage.promptMessages,
      notifier,
      keyring: () => keyring,
      logger: createLogger({ level: 'silent' }),
      now: () => Date.now(),
    });

  before(async () => {
    database = await (await server()).createDatabase();
    storage = await openPostgresStorage(database);
    notifiers = await Promise.all([PgNotifier.open(database), PgNotifier.open(database)]);
    spy = new pg.Client({ connectionString: database });
    await spy.connect();
    spy.on('notification', (message) => payloads.push(message.payload ?? ''));
    await spy.query('listen gleaner_prompts');
  });
  after(async () => {
    await spy.end();
    for (const notifier of notifiers) await notifier.close();
    await storage.close();
  });

  test('a code sent on node B reaches the waiter on node A once; the payload is the prompt id only', async () => {
    const [onA, onB] = [bus(notifiers[0]!), bus(notifiers[1]!)];
    const got: PromptMessage[] = [];
    const delivered = new Promise<void>((resolve) =>
      onA.listen('prompt-1', (message) => {
        got.push(message);
        resolve();
      }),
    );
    await onB.send('prompt-1', { kind: 'code', code: new Secret('code-canary-4821') });
    await delivered;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(got.length, 1);
    assert.equal(got[0]?.kind === 'code' && got[0].code.reveal(), 'code-canary-4821');
    assert.ok(payloads.includes('prompt-1'));
    assert.ok(!payloads.some((p) => p.includes('code-canary-4821')), 'never the code in a payload');
    assert.equal(await storage.promptMessages.take('prompt-1'), undefined, 'taken from the mailbox');
    await onA.close();
    await onB.close();
  });

  test('untaken, the code stays in the mailbox sealed under the shared key, bound to its prompt', async () => {
    const onB = bus(notifiers[1]!);
    await onB.send('prompt-2', { kind: 'code', code: new Secret('code-canary-9313') });
    const row = (
      await spy.query<{ kind: string; sealed: string }>("select * from prompt_messages where prompt_id = 'prompt-2'")
    ).rows[0];
    assert.equal(row?.kind, 'code');
    assert.ok(row && !row.sealed.includes('code-canary-9313'));
    assert.deepEqual(JSON.parse(keyring.open(row.sealed, promptCodeAad('prompt-2'))), { kind: 'code', code: 'code-canary-9313' });
    assert.throws(() => keyring.open(row.sealed, promptCodeAad('prompt-3')), 'it opens for its own prompt only');
    await onB.close();
  });

  test('a LISTEN connection ended under a node: one connection again (even when a notify reconnects first), each notification once, onReconnect run', async () => {
    const url = new URL(database);
    url.searchParams.set('application_name', 'gleaner-dropped');
    const notifier = await PgNotifier.open(url.href);
    try {
      const heard: string[] = [];
      notifier.listen('gleaner_jobs', (payload) => heard.push(payload));
      let reconnected = 0;
      notifier.onReconnect(() => reconnected++);
      const connections = async () =>
        (
          await spy.query<{ pid: number }>(
            "select pid from pg_stat_activity where application_name = 'gleaner-dropped'",
          )
        ).rows;
      const [first] = await connections();
      await spy.query('select pg_terminate_backend($1)', [first!.pid]);
      while ((await connections()).length) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 20));
      // Sent through the same notifier while it is down: it reconnects for it, before its retry does.
      await notifier.notify('gleaner_jobs', 'while-down');
      const deadline = Date.now() + 5000;
      while (reconnected === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(reconnected, 1, 'onReconnect ran once');
      assert.equal((await connections()).length, 1, 'one connection, not two');
      await spy.query("select pg_notify('gleaner_jobs', 'after')");
      const until = Date.now() + 2000;
      while (!heard.includes('after') && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(heard.filter((p) => p === 'after').length, 1, 'heard once');
    } finally {
      await notifier.close();
    }
  });

  test('a cancel and a lock cross as they are, with no code', async () => {
    const [onA, onB] = [bus(notifiers[0]!), bus(notifiers[1]!)];
    const kinds = await Promise.all(
      (['cancelled', 'locked'] as const).map(async (kind) => {
        const got = new Promise<string>((resolve) => onA.listen(`prompt-${kind}`, (m) => resolve(m.kind)));
        await onB.send(`prompt-${kind}`, { kind });
        return got;
      }),
    );
    assert.deepEqual(kinds, ['cancelled', 'locked']);
    await onA.close();
    await onB.close();
  });

  test('a resend crosses with its method, and a code with its "trust this device" box', async () => {
    const [onA, onB] = [bus(notifiers[0]!), bus(notifiers[1]!)];
    const got: PromptMessage[] = [];
    const two = new Promise<void>((resolve) =>
      onA.listen('prompt-resend', (message) => {
        got.push(message);
        if (got.length === 2) resolve();
      }),
    );
    await onB.send('prompt-resend', { kind: 'resend', method: 'email' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await onB.send('prompt-resend', { kind: 'code', code: new Secret('482913'), trustDevice: true });
    await two;
    assert.deepEqual(got[0], { kind: 'resend', method: 'email' });
    assert.equal(got[1]?.kind, 'code');
    assert.equal(got[1]?.kind === 'code' && got[1].code.reveal(), '482913');
    assert.equal(got[1]?.kind === 'code' && got[1].trustDevice, true);
    await onA.close();
    await onB.close();
  });
});
