import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { NotificationPayload } from '@gleaner/contracts';
import type { GleanerStack } from '../src/create-stack.js';
import { FIXTURES, openStack, runToEnd, tmpDataDir } from './helpers/stack-harness.js';

/**
 * Session health: the SDK reports the latest lasting cookie's expiry when it saves the jar, a
 * konnector may declare its remembered device's end; the account shows both, and a lapse within
 * 3 days raises one warning (a fake clock moves the stack days ahead).
 */
const DAY = 86_400_000;

describe('session health', () => {
  let stack: GleanerStack;
  let receiver: Server;
  const received: NotificationPayload[] = [];
  let offset = 0;

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push(JSON.parse(body) as NotificationPayload);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    stack = await openStack(tmpDataDir(), {
      konnectorDirs: [`${FIXTURES}/session-konnector`],
      publicUrl: 'http://home.test',
      clock: { now: () => Date.now() + offset },
    });
    await stack.notifications!.create({
      kind: 'webhook',
      name: 'hook',
      settings: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/` },
      secret: 'session-hook-secret',
    });
  });
  after(async () => {
    await stack.close(2000);
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('cookies that expire in 2 days: the account shows the date, and one warning is raised', async () => {
    const account = await stack.accounts.create({
      konnector: 'session-test',
      label: 'Two days',
      fields: { login: 'a', password: 'pw-session-1', cookieDays: '2' },
    });
    const job = await runToEnd(stack, account.id);
    assert.equal(job.status, 'done', `${job.error}`);
    await stack.notifications!.idle();
    const health = (await stack.accounts.get(account.id)).sessionHealth;
    assert.ok(health?.sessionExpiresAt, 'the session end is known');
    const lapses = Date.parse(health.sessionExpiresAt);
    assert.ok(Math.abs(lapses - (Date.now() + 2 * DAY)) < 60_000, `about 2 days from now: ${health.sessionExpiresAt}`);
    assert.equal(health.deviceExpiresAt, null);
    const warnings = received.filter((p) => p.accountId === account.id);
    assert.equal(warnings.length, 1, 'one warning');
    assert.equal(warnings[0]!.event, 'session_lapses');
    assert.match(warnings[0]!.title, /Two days: the saved session ends on /);
    assert.match(warnings[0]!.message, /Reconnect now to avoid it/);
    assert.equal(warnings[0]!.link, `http://home.test/accounts/${account.id}?action=reconnect`);
    assert.equal(await stack.notifications!.checkSessions(), 0, 'told once: the sweep adds nothing');
  });

  it('ten days, with a remembered device declared: no warning today; eight days later (fake clock), each is warned once', async () => {
    const account = await stack.accounts.create({
      konnector: 'session-test',
      label: 'Ten days',
      fields: { login: 'b', password: 'pw-session-2', cookieDays: '10', deviceDays: '9' },
    });
    const job = await runToEnd(stack, account.id);
    assert.equal(job.status, 'done', `${job.error}`);
    const health = (await stack.accounts.get(account.id)).sessionHealth;
    assert.ok(health?.deviceExpiresAt && health.sessionExpiresAt);
    assert.ok(Math.abs(Date.parse(health.deviceExpiresAt) - (Date.now() + 9 * DAY)) < 60_000);
    await stack.notifications!.idle();
    assert.equal(received.filter((p) => p.accountId === account.id).length, 0, 'not yet');

    offset = 8 * DAY;
    assert.equal(await stack.notifications!.checkSessions(), 2);
    await stack.notifications!.idle();
    assert.deepEqual(
      received
        .filter((p) => p.accountId === account.id)
        .map((p) => p.event)
        .sort(),
      ['device_lapses', 'session_lapses'],
    );
    assert.equal(await stack.notifications!.checkSessions(), 0);
  });

  it('renew before it lapses: a manual run at the time the person chose, started once by the scheduler', async () => {
    const account = await stack.accounts.create({
      konnector: 'session-test',
      label: 'Renewed',
      fields: { login: 'c', password: 'pw-session-3', cookieDays: '2' },
    });
    await stack.triggers.set(account.id, { frequency: 'off' });
    const past = new Date(Date.now() + offset - 60_000).toISOString();
    await assert.rejects(
      stack.notifications!.planRenewal(account.id, past),
      /the renewal must be planned in the future/,
    );
    const at = new Date(Date.now() + offset + 3_600_000).toISOString();
    assert.deepEqual(await stack.notifications!.planRenewal(account.id, at), { at });
    assert.equal((await stack.accounts.get(account.id)).sessionHealth?.renewAt, at);
    const early = await stack.scheduler.tick();
    assert.equal(early.started.filter((s) => s.accountId === account.id).length, 0, 'not before its time');

    offset += 2 * 3_600_000;
    const tick = await stack.scheduler.tick();
    const started = tick.started.filter((s) => s.accountId === account.id);
    assert.equal(started.length, 1, 'started at its time');
    const job = await stack.jobs.get(started[0]!.jobId);
    assert.equal(job.mode, 'manual', 'a manual run: the person said they would be there');
    assert.equal((await stack.accounts.get(account.id)).sessionHealth?.renewAt, null);
    assert.equal((await stack.scheduler.tick()).started.filter((s) => s.accountId === account.id).length, 0, 'once');
    await stack.jobs.settled(job.id);
    assert.equal((await stack.jobs.get(job.id)).status, 'done');
  });
});
