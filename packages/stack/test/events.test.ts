import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StackEvent } from '@gleaner/contracts';
import { pino } from 'pino';
import { join } from 'node:path';
import { EventHub } from '../src/runtime/events.js';
import { openSqliteStorage } from '../src/storage/index.js';
import { tmpDataDir } from './helpers/stack-harness.js';

describe('events', () => {
  it('a subscriber from an id gets the missed events, then the live ones, with no gap and no duplicate', async () => {
    const storage = await openSqliteStorage(join(tmpDataDir(), 'gleaner.db'));
    const hub = new EventHub(storage.events, { logger: pino({ level: 'silent' }), retention: 10_000, now: Date.now });
    try {
      const publish = (n: number) => hub.publish({ type: 'account.deleted', accountId: `a${n}` });
      for (let n = 0; n < 30; n++) void publish(n);
      await hub.flush();
      const seen: StackEvent[] = [];
      const live: StackEvent[] = [];
      hub.subscribe(null, (e) => live.push(e));
      // Subscribe from the 10th while more are being published.
      const stop = hub.subscribe(10, (e) => seen.push(e));
      for (let n = 30; n < 60; n++) void publish(n);
      await hub.flush();
      await new Promise((resolve) => setTimeout(resolve, 50));
      stop();
      const ids = seen.map((e) => e.id);
      assert.deepEqual(
        ids,
        Array.from({ length: 50 }, (_, i) => i + 11),
      );
      assert.deepEqual(
        live.map((e) => e.id),
        Array.from({ length: 30 }, (_, i) => i + 31),
        'null: live ones only',
      );
      const first = seen[0];
      assert.equal(first?.type, 'account.deleted');
      assert.ok(first && 'accountId' in first && first.accountId === 'a10');
    } finally {
      await storage.close();
    }
  });

  it('keeps only the newest events', async () => {
    const storage = await openSqliteStorage(join(tmpDataDir(), 'gleaner.db'));
    const hub = new EventHub(storage.events, { logger: pino({ level: 'silent' }), retention: 50, now: Date.now });
    try {
      for (let n = 0; n < 400; n++) void hub.publish({ type: 'account.deleted', accountId: `a${n}` });
      await hub.flush();
      const kept = await storage.events.listAfter(0, 1000);
      assert.ok(kept.length <= 250, `${kept.length} kept`);
      assert.equal(kept.at(-1)?.id, 400);
    } finally {
      await storage.close();
    }
  });
});
