import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { Account, StackEvent } from '@gleaner/contracts';
import { MemoryStack } from './api-fixtures/memory-stack.js';
import { SseClient, startTestApi } from './api-fixtures/http.js';

test('SSE: events with id and type lines, resume with Last-Event-ID, heartbeats, cleanup on disconnect', async () => {
  const stack = new MemoryStack();
  const api = await startTestApi(stack, { heartbeatMs: 100 });
  try {
    const session = await api.login();
    const unauthenticated = await SseClient.open(`${api.url}/api/events`, {});
    assert.equal(unauthenticated.status, 401);

    const client = await SseClient.open(`${api.url}/api/events`, { cookie: session.cookie });
    assert.equal(client.status, 200);
    const account = (
      await api.call('/api/accounts', {
        method: 'POST',
        session,
        json: { konnector: 'shop', fields: { login: 'ada', password: 'pw-sse-canary' } },
      })
    ).body as Account;
    await api.call(`/api/accounts/${account.id}/jobs`, { method: 'POST', session });
    stack.setState(account.id, 'HANDLE_LOGIN_SUCCESS');
    const first = await client.waitFor((e) => e.type === 'account.updated');
    assert.equal(first.sseId, String(first.id));
    assert.equal(first.sseType, 'account.updated');
    await client.waitFor((e) => e.type === 'account.updated' && e.account.state === 'HANDLE_LOGIN_SUCCESS');
    await sleep(250);
    assert.ok(
      client.comments.some((c) => c.startsWith('heartbeat')),
      'heartbeat comments',
    );
    const lastSeen = client.events.at(-1)!.id;
    await client.close();
    for (let i = 0; i < 40 && stack.listeners.size > 0; i++) await sleep(25);
    assert.equal(stack.listeners.size, 0, 'the subscription ended with the connection');

    // Missed while disconnected:
    stack.setState(account.id, 'LOGIN_SUCCESS');
    const resumed = await SseClient.open(`${api.url}/api/events`, {
      cookie: session.cookie,
      'last-event-id': String(lastSeen),
    });
    const missed = await resumed.waitFor(
      (e): e is Extract<StackEvent, { type: 'account.updated' }> => e.type === 'account.updated',
    );
    assert.equal(missed.account.state, 'LOGIN_SUCCESS');
    assert.ok(
      resumed.events.every((e) => e.id > lastSeen),
      'only what came after',
    );
    await resumed.close();

    const byQuery = await SseClient.open(`${api.url}/api/events?lastEventId=0`, { cookie: session.cookie });
    await byQuery.waitFor((e) => e.id === 1);
    await byQuery.close();
    assert.ok(!JSON.stringify(stack.eventLog).includes('pw-sse-canary'));
  } finally {
    await api.close();
  }
});

test('closing the API ends open event streams', async () => {
  const stack = new MemoryStack();
  const api = await startTestApi(stack, { heartbeatMs: 60_000 });
  const session = await api.login();
  const client = await SseClient.open(`${api.url}/api/events`, { cookie: session.cookie });
  assert.equal(stack.listeners.size, 1);
  const closing = api.close();
  await Promise.race([closing, sleep(3000).then(() => assert.fail('close hung on an open stream'))]);
  assert.equal(stack.listeners.size, 0);
  await client.close();
});
