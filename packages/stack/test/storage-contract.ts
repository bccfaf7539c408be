import assert from 'node:assert/strict';
import { describe, it as caseOf } from 'node:test';
import type { AccountRecord, CodeSourceKind, CodeSourceRecord, JobRecord, PromptRecord, Storage } from '../src/storage/index.js';

/**
 * What every storage adapter must do. Run it with a factory that gives a fresh, migrated storage:
 * `storageContract('sqlite', () => openSqliteStorage(tmpFile()))`. Each case has a storage of its
 * own, so the cases run at once.
 */
export function storageContract(name: string, factory: () => Promise<Storage>): void {
  describe(`storage contract: ${name}`, { concurrency: true }, () => {
    /** A case on a fresh storage, closed after it whatever happens. */
    const it = (title: string, fn: (s: Storage) => Promise<void>): void => {
      void caseOf(title, async () => {
        const s = await factory();
        try {
          await fn(s);
        } finally {
          await s.close();
        }
      });
    };

    const t0 = '2030-01-01T00:00:00.000Z';
    const account = (id: string, patch: Partial<AccountRecord> = {}): AccountRecord => ({
      id,
      konnector: 'demo',
      label: `label ${id}`,
      state: null,
      fieldsClear: { login: 'ada' },
      secretFieldsSet: ['password'],
      credentials: 'k1:sealed',
      session: null,
      data: null,
      pausedBy: null,
      createdAt: t0,
      updatedAt: t0,
      ...patch,
    });
    const job = (id: string, accountId: string, patch: Partial<JobRecord> = {}): JobRecord => ({
      id,
      accountId,
      konnector: 'demo',
      konnectorVersion: null,
      workerId: null,
      mode: 'manual',
      status: 'queued',
      loginStatus: 'pending',
      error: null,
      filesSaved: 0,
      createdAt: t0,
      startedAt: null,
      endedAt: null,
      ...patch,
    });
    const prompt = (id: string, patch: Partial<PromptRecord> = {}): PromptRecord => ({
      id,
      jobId: 'j1',
      accountId: 'a1',
      type: 'sms',
      retry: false,
      status: 'waiting',
      attempts: 0,
      createdAt: t0,
      expiresAt: '2030-01-01T00:03:00.000Z',
      destination: null,
      attemptsLeft: null,
      methods: [],
      method: null,
      trustDevice: null,
      resendAvailableAt: null,
      ...patch,
    });

    it('accounts: insert, get, list, update, delete', async (s) => {
      await s.accounts.insert(account('a1'));
      await s.accounts.insert(account('a2', { createdAt: '2030-01-02T00:00:00.000Z' }));
      assert.deepEqual(await s.accounts.get('a1'), account('a1'));
      assert.equal(await s.accounts.get('nope'), undefined);
      assert.deepEqual(
        (await s.accounts.list()).map((a) => a.id),
        ['a1', 'a2'],
      );
      assert.equal(
        await s.accounts.update('a1', { state: 'TWOFA_NEEDED.SMS', session: 'k1:s', pausedBy: 'LOGIN_FAILED' }),
        true,
      );
      assert.equal(await s.accounts.update('nope', { label: 'x' }), false);
      const a1 = await s.accounts.get('a1');
      assert.equal(a1?.state, 'TWOFA_NEEDED.SMS');
      assert.equal(a1?.session, 'k1:s');
      assert.equal(a1?.pausedBy, 'LOGIN_FAILED');
      assert.deepEqual(
        (await s.accounts.listWithStates(['TWOFA_NEEDED.SMS'])).map((a) => a.id),
        ['a1'],
      );
      assert.equal(await s.accounts.update('a1', { state: null, session: null }), true);
      assert.equal((await s.accounts.get('a1'))?.state, null);
      assert.equal(await s.accounts.delete('a1'), true);
      assert.equal(await s.accounts.delete('a1'), false);
    });

    it('jobs: one active job per account, guarded transitions, newest first', async (s) => {
      assert.equal(await s.jobs.insertIfNoActive(job('j1', 'a1')), true);
      assert.equal(await s.jobs.insertIfNoActive(job('j2', 'a1')), false, 'a second active job is refused');
      assert.equal(await s.jobs.insertIfNoActive(job('j3', 'a2')), true, 'other accounts are independent');
      assert.equal((await s.jobs.active('a1'))?.id, 'j1');
      assert.equal(await s.jobs.get('j1').then((j) => j?.konnectorVersion), null, 'no version before it runs');
      assert.equal(
        await s.jobs.transition('j1', ['queued'], { status: 'running', startedAt: t0, konnectorVersion: '0.2.0' }),
        true,
      );
      assert.equal((await s.jobs.get('j1'))?.konnectorVersion, '0.2.0', 'the version it ran is kept');
      assert.equal(await s.jobs.transition('j1', ['queued'], { status: 'running' }), false, 'not queued any more');
      await s.jobs.incrementFilesSaved('j1');
      await s.jobs.incrementFilesSaved('j1');
      assert.equal(
        await s.jobs.transition('j1', ['running'], {
          status: 'errored',
          error: 'LOGIN_FAILED',
          loginStatus: 'failed',
          endedAt: t0,
        }),
        true,
      );
      const j1 = await s.jobs.get('j1');
      assert.equal(j1?.filesSaved, 2);
      assert.equal(j1?.error, 'LOGIN_FAILED');
      assert.equal(await s.jobs.active('a1'), undefined);
      assert.equal(await s.jobs.insertIfNoActive(job('j4', 'a1', { createdAt: '2030-01-01T00:00:01.000Z' })), true);
      assert.deepEqual(
        (await s.jobs.list({ accountId: 'a1' })).map((j) => j.id),
        ['j4', 'j1'],
      );
      assert.deepEqual(
        (await s.jobs.list({ statuses: ['errored'] })).map((j) => j.id),
        ['j1'],
      );
      assert.deepEqual(
        (await s.jobs.list({ statuses: [] })).map((j) => j.id),
        [],
      );
      assert.equal((await s.jobs.latest('a1'))?.id, 'j4');
      assert.deepEqual((await s.jobs.list({ limit: 1 })).length, 1);
    });

    it('logs: appended in order, counted, listed per job', async (s) => {
      for (let seq = 0; seq < 3; seq++)
        await s.logs.append({ jobId: 'j1', seq, level: 'info', message: `line ${seq}`, at: t0 });
      await s.logs.append({ jobId: 'j2', seq: 0, level: 'warn', message: 'other', at: t0 });
      assert.deepEqual(
        (await s.logs.list('j1')).map((l) => l.message),
        ['line 0', 'line 1', 'line 2'],
      );
      assert.equal(await s.logs.count('j1'), 3);
      assert.equal(await s.logs.count('nope'), 0);
    });

    it('prompts: an attempt is counted only while waiting, unexpired and under the limit; one answer wins', async (s) => {
      await s.prompts.insert(prompt('p1'));
      const now = '2030-01-01T00:01:00.000Z';
      assert.equal(await s.prompts.recordAttempt('p1', { now, maxAttempts: 2, answer: false }), true);
      assert.equal((await s.prompts.get('p1'))?.attempts, 1);
      const both = await Promise.all([
        s.prompts.recordAttempt('p1', { now, maxAttempts: 5, answer: true }),
        s.prompts.recordAttempt('p1', { now, maxAttempts: 5, answer: true }),
      ]);
      assert.deepEqual(both.filter(Boolean).length, 1, 'exactly one of two answers wins');
      const p1 = await s.prompts.get('p1');
      assert.equal(p1?.status, 'answered');
      assert.equal(p1?.attempts, 2);
      assert.equal(p1?.retry, false);

      await s.prompts.insert(prompt('p2', { retry: true, type: null }));
      assert.equal(
        await s.prompts.recordAttempt('p2', { now: '2030-01-01T00:03:00.000Z', maxAttempts: 5, answer: true }),
        false,
        'expired',
      );
      await s.prompts.insert(prompt('p3', { attempts: 5 }));
      assert.equal(
        await s.prompts.recordAttempt('p3', { now, maxAttempts: 5, answer: true }),
        false,
        'too many attempts',
      );
      assert.equal((await s.prompts.waitingFor('a1'))?.status, 'waiting');
      assert.equal((await s.prompts.listWaiting()).length, 2);
      assert.equal(await s.prompts.closeIfWaiting('p2', 'expired'), true);
      assert.equal(await s.prompts.closeIfWaiting('p2', 'interrupted'), false);
      assert.deepEqual(
        (await s.prompts.listByJob('j1')).map((p) => [p.id, p.status]),
        [
          ['p1', 'answered'],
          ['p2', 'expired'],
          ['p3', 'waiting'],
        ],
      );
      const p2 = await s.prompts.get('p2');
      assert.equal(p2?.type, null);
      assert.equal(p2?.retry, true);
    });

    it("prompts: what the site said is kept whole; one resend per cooldown, only while waiting; a new code's details update a waiting prompt only", async (s) => {
      const methods = [
        { id: 'sms', label: 'Text me at +33 6 •• •• •• 78', type: 'sms' as const },
        { id: 'email', label: 'Email me at a••••@example.test' },
      ];
      await s.prompts.insert(
        prompt('d1', {
          destination: '+33 6 •• •• •• 78',
          attemptsLeft: 4,
          methods,
          method: 'sms',
          trustDevice: { label: "Don't ask again", checked: false },
          resendAvailableAt: '2030-01-01T00:00:30.000Z',
        }),
      );
      await s.prompts.insert(prompt('d2'));
      const d1 = await s.prompts.get('d1');
      assert.equal(d1?.destination, '+33 6 •• •• •• 78');
      assert.equal(d1?.attemptsLeft, 4);
      assert.deepEqual(d1?.methods, methods);
      assert.equal(d1?.method, 'sms');
      assert.deepEqual(d1?.trustDevice, { label: "Don't ask again", checked: false });
      assert.equal(d1?.resendAvailableAt, '2030-01-01T00:00:30.000Z');
      const d2 = await s.prompts.get('d2');
      assert.deepEqual(
        [d2?.destination, d2?.attemptsLeft, d2?.methods, d2?.method, d2?.trustDevice, d2?.resendAvailableAt],
        [null, null, [], null, null, null],
        'a prompt the site said nothing about',
      );

      const nextAt = '2030-01-01T00:01:00.000Z';
      assert.equal(
        await s.prompts.claimResend('d1', { now: '2030-01-01T00:00:10.000Z', nextAt }),
        false,
        'cooling down',
      );
      assert.equal(
        await s.prompts.claimResend('d2', { now: '2030-01-01T00:00:40.000Z', nextAt }),
        false,
        'none offered',
      );
      const both = await Promise.all([
        s.prompts.claimResend('d1', { now: '2030-01-01T00:00:40.000Z', nextAt }),
        s.prompts.claimResend('d1', { now: '2030-01-01T00:00:40.000Z', nextAt }),
      ]);
      assert.equal(both.filter(Boolean).length, 1, 'of two presses at once, one sends');
      assert.equal((await s.prompts.get('d1'))?.resendAvailableAt, nextAt);
      assert.equal(
        await s.prompts.claimResend('d1', { now: '2030-01-01T00:03:30.000Z', nextAt: '2030-01-01T00:04:00.000Z' }),
        false,
        'expired',
      );

      assert.equal(
        await s.prompts.updateDetails('d1', {
          type: 'email',
          destination: 'a••••@example.test',
          method: 'email',
          attemptsLeft: 3,
          expiresAt: '2030-01-01T00:10:00.000Z',
          resendAvailableAt: '2030-01-01T00:02:00.000Z',
        }),
        true,
      );
      const updated = await s.prompts.get('d1');
      assert.deepEqual(
        [
          updated?.type,
          updated?.destination,
          updated?.method,
          updated?.attemptsLeft,
          updated?.expiresAt,
          updated?.resendAvailableAt,
        ],
        ['email', 'a••••@example.test', 'email', 3, '2030-01-01T00:10:00.000Z', '2030-01-01T00:02:00.000Z'],
      );
      assert.equal(await s.prompts.closeIfWaiting('d1', 'answered'), true);
      assert.equal(await s.prompts.updateDetails('d1', { destination: 'x' }), false, 'closed: left as it was');
      assert.equal((await s.prompts.get('d1'))?.destination, 'a••••@example.test');
    });

    it("what an account's site asked for: distinct prompt types of the account, and whether a job ever logged in", async (s) => {
      assert.deepEqual(await s.prompts.typesAsked('a1'), []);
      assert.equal(await s.jobs.everLoggedIn('a1'), false);
      await s.prompts.insert(prompt('p1', { type: 'sms', status: 'answered' }));
      await s.prompts.insert(prompt('p2', { type: 'sms', retry: true, status: 'expired' }));
      await s.prompts.insert(prompt('p3', { type: null, status: 'cancelled' }));
      await s.prompts.insert(prompt('p4', { type: 'app', status: 'interrupted' }));
      await s.prompts.insert(prompt('p5', { accountId: 'a2', type: 'email' }));
      assert.deepEqual(
        [...(await s.prompts.typesAsked('a1'))].sort((a, b) => String(a).localeCompare(String(b))),
        ['app', null, 'sms'],
        'each kind once, whatever became of its prompt; null for one that named none',
      );
      assert.deepEqual(await s.prompts.typesAsked('a2'), ['email']);

      await s.jobs.insertIfNoActive(job('j1', 'a1', { status: 'errored', loginStatus: 'failed' }));
      await s.jobs.insertIfNoActive(job('j2', 'a2', { status: 'done', loginStatus: 'succeeded' }));
      assert.equal(await s.jobs.everLoggedIn('a1'), false, 'a failed login is not a login');
      assert.equal(await s.jobs.everLoggedIn('a2'), true);
      await s.jobs.insertIfNoActive(job('j3', 'a1', { status: 'done', loginStatus: 'succeeded' }));
      assert.equal(await s.jobs.everLoggedIn('a1'), true);
    });

    it("the budget of codes reads an account's prompts since a time, oldest first", async (s) => {
      await s.prompts.insert(prompt('p2', { createdAt: '2030-01-02T10:00:00.000Z', status: 'answered' }));
      await s.prompts.insert(prompt('p1', { createdAt: '2030-01-02T08:00:00.000Z', status: 'expired' }));
      await s.prompts.insert(prompt('p0', { createdAt: '2030-01-01T08:00:00.000Z' }));
      await s.prompts.insert(prompt('p9', { accountId: 'a2', createdAt: '2030-01-02T09:00:00.000Z' }));
      assert.deepEqual(
        (await s.prompts.listByAccountSince('a1', '2030-01-02T08:00:00.000Z')).map((p) => [p.id, p.status]),
        [
          ['p1', 'expired'],
          ['p2', 'answered'],
        ],
        'the bound included, the older one and the other account left out',
      );
      assert.deepEqual(await s.prompts.listByAccountSince('a1', '2030-01-03T00:00:00.000Z'), []);
    });

    it('notifications: channels, one claim per account and cause until resolved, session health', async (s) => {
      const channel = {
        id: 'c1',
        kind: 'webhook' as const,
        name: 'Ops',
        enabled: true,
        settings: { url: 'http://127.0.0.1:9/hook' },
        secret: 'k1:sealed-secret',
        createdAt: t0,
        updatedAt: t0,
      };
      await s.notifications.insertChannel(channel);
      await s.notifications.insertChannel({ ...channel, id: 'c2', kind: 'ntfy', secret: null, createdAt: '2030-01-02T00:00:00.000Z' });
      assert.deepEqual(await s.notifications.getChannel('c1'), channel);
      assert.equal(await s.notifications.updateChannel('c1', { enabled: false, name: 'Ops 2', updatedAt: t0 }), true);
      assert.deepEqual(
        (await s.notifications.listChannels()).map((c) => [c.id, c.name, c.enabled]),
        [
          ['c1', 'Ops 2', false],
          ['c2', 'Ops', true],
        ],
      );
      assert.equal(await s.notifications.updateChannel('nope', { enabled: true }), false);
      assert.equal(await s.notifications.deleteChannel('c2'), true);
      assert.equal(await s.notifications.deleteChannel('c2'), false);

      const claims = await Promise.all([
        s.notifications.claimCause('a1', 'needs_person', t0),
        s.notifications.claimCause('a1', 'needs_person', t0),
      ]);
      assert.equal(claims.filter(Boolean).length, 1, 'of two claims at once exactly one wins');
      assert.equal(await s.notifications.claimCause('a1', 'failed_nights', t0), true);
      assert.equal(await s.notifications.claimCause('a2', 'needs_person', t0), true, 'per account');
      assert.deepEqual(await s.notifications.openCauses('a1'), ['failed_nights', 'needs_person']);
      assert.deepEqual(await s.notifications.resolveCauses('a1', ['needs_person', 'code_unanswered']), ['needs_person']);
      assert.equal(await s.notifications.claimCause('a1', 'needs_person', t0), true, 'resolved: it may be told again');

      assert.equal(await s.notifications.getSessionHealth('a1'), undefined);
      await s.notifications.setSessionHealth('a1', { sessionExpiresAt: '2030-03-12T00:00:00.000Z', updatedAt: t0 });
      await s.notifications.setSessionHealth('a1', { deviceExpiresAt: '2030-04-01T00:00:00.000Z', updatedAt: t0 });
      assert.deepEqual(await s.notifications.getSessionHealth('a1'), {
        accountId: 'a1',
        sessionExpiresAt: '2030-03-12T00:00:00.000Z',
        deviceExpiresAt: '2030-04-01T00:00:00.000Z',
        renewAt: null,
        updatedAt: t0,
      });
      assert.equal((await s.notifications.listSessionHealth()).length, 1);
      await s.notifications.setRenewAt('a1', '2030-03-11T18:00:00.000Z', t0);
      await s.notifications.setRenewAt('a3', '2030-03-11T19:00:00.000Z', t0);
      assert.equal((await s.notifications.getSessionHealth('a1'))?.sessionExpiresAt, '2030-03-12T00:00:00.000Z', 'kept');
      assert.deepEqual(await s.notifications.dueRenewals('2030-03-11T17:59:59.000Z', 10), []);
      assert.deepEqual(await s.notifications.dueRenewals('2030-03-11T19:00:00.000Z', 10), [
        { accountId: 'a1', renewAt: '2030-03-11T18:00:00.000Z' },
        { accountId: 'a3', renewAt: '2030-03-11T19:00:00.000Z' },
      ]);
      const takes = await Promise.all([
        s.notifications.takeRenewal('a1', '2030-03-11T18:00:00.000Z'),
        s.notifications.takeRenewal('a1', '2030-03-11T18:00:00.000Z'),
      ]);
      assert.equal(takes.filter(Boolean).length, 1, 'a renewal is taken once');
      assert.equal((await s.notifications.getSessionHealth('a1'))?.renewAt, null);
      await s.notifications.setRenewAt('a3', null, t0);
      assert.deepEqual(await s.notifications.dueRenewals('2030-03-12T00:00:00.000Z', 10), []);
      await s.notifications.deleteForAccount('a1');
      assert.equal(await s.notifications.getSessionHealth('a1'), undefined);
      assert.deepEqual(await s.notifications.openCauses('a1'), []);
      assert.deepEqual(await s.notifications.openCauses('a2'), ['needs_person']);
    });

    it('files: upsert keeps one record per account, folder and name', async (s) => {
      const file = {
        id: 'f1',
        accountId: 'a1',
        jobId: 'j1',
        name: 'a.pdf',
        folder: '2030',
        size: 10,
        sha256: 'abc',
        attributes: { vendorRef: 'R1' },
        bill: { amount: 12.5, currency: 'EUR', date: '2030-01-01', vendor: 'Shop' },
        savedAt: t0,
      };
      assert.deepEqual(await s.files.upsert(file), file);
      const again = await s.files.upsert({ ...file, id: 'f2', size: 20, bill: null });
      assert.equal(again.id, 'f1');
      assert.deepEqual(await s.files.get('f1'), { ...file, size: 20, bill: null });
      await s.files.upsert({ ...file, id: 'f3', name: 'b.pdf' });
      assert.deepEqual(
        (await s.files.list('a1')).map((f) => f.name),
        ['a.pdf', 'b.pdf'],
      );
      await s.files.deleteForAccount('a1');
      assert.deepEqual(await s.files.list('a1'), []);
    });

    it('kept accounts: an account deleted with its documents kept is listed newest first, once, until forgotten', async (s) => {
      const kept = (accountId: string, deletedAt: string) => ({
        accountId,
        konnector: 'demo',
        label: `Kept ${accountId}`,
        deletedAt,
      });
      await s.accounts.insert(account('a1'));
      await s.kept.insert(kept('a1', '2030-01-02T00:00:00.000Z'));
      await s.kept.insert(kept('a2', '2030-01-03T00:00:00.000Z'));
      await assert.rejects(s.kept.insert(kept('a1', t0)), 'one record per deleted account');
      assert.deepEqual(
        (await s.kept.list()).map((k) => k.accountId),
        ['a2', 'a1'],
      );
      assert.deepEqual(await s.kept.get('a1'), kept('a1', '2030-01-02T00:00:00.000Z'));
      assert.equal(await s.kept.delete('a1'), true);
      assert.equal(await s.kept.delete('a1'), false);
      assert.equal(await s.kept.get('a1'), undefined);
      assert.deepEqual(
        (await s.kept.list()).map((k) => k.accountId),
        ['a2'],
      );
    });

    it('code sources: one per account and kind, listed in the order they are tried, found by webhook id, touched, removed; a prompt says who answered it', async (s) => {
      const source = (accountId: string, kind: CodeSourceKind, patch: Partial<CodeSourceRecord> = {}): CodeSourceRecord => ({
        accountId,
        kind,
        settings: kind === 'email' ? { host: '127.0.0.1', port: 993, tls: true, user: 'ada', folder: 'INBOX' } : {},
        sealed: `sealed-${accountId}-${kind}`,
        hookId: kind === 'sms' ? `hook-${accountId}` : null,
        createdAt: t0,
        lastCodeAt: null,
        lastMessageAt: null,
        lastError: null,
        ...patch,
      });
      await s.codeSources.put(source('a1', 'sms'));
      await s.codeSources.put(source('a1', 'email'));
      await s.codeSources.put(source('a1', 'app_code'));
      await s.codeSources.put(source('a2', 'sms'));
      assert.deepEqual(
        (await s.codeSources.list('a1')).map((c) => c.kind),
        ['app_code', 'email', 'sms'],
      );
      assert.deepEqual(await s.codeSources.get('a1', 'email'), source('a1', 'email'));
      await s.codeSources.put(source('a1', 'app_code', { sealed: 'replaced' }));
      assert.equal((await s.codeSources.get('a1', 'app_code'))?.sealed, 'replaced', 'a new secret replaces the old one');
      assert.equal((await s.codeSources.list('a1')).length, 3);
      assert.equal((await s.codeSources.byHook('hook-a2'))?.accountId, 'a2');
      assert.equal(await s.codeSources.byHook('nope'), undefined);
      await assert.rejects(s.codeSources.put(source('a3', 'sms', { hookId: 'hook-a2' })), 'a webhook id is unique');
      assert.equal(
        await s.codeSources.touch('a1', 'email', { lastError: 'the mailbox refused the password', lastMessageAt: t0 }),
        true,
      );
      const email = await s.codeSources.get('a1', 'email');
      assert.deepEqual([email?.lastError, email?.lastMessageAt], ['the mailbox refused the password', t0]);
      assert.equal(await s.codeSources.touch('a9', 'email', { lastError: null }), false);
      assert.equal(await s.codeSources.remove('a1', 'sms'), true);
      assert.equal(await s.codeSources.remove('a1', 'sms'), false);
      await s.codeSources.deleteForAccount('a1');
      assert.deepEqual(await s.codeSources.list('a1'), []);
      assert.equal((await s.codeSources.list('a2')).length, 1);

      await s.prompts.insert(prompt('s1'));
      await s.prompts.insert(prompt('s2'));
      assert.equal((await s.prompts.get('s1'))?.answeredBy, null, 'nobody answered yet');
      const now = '2030-01-01T00:01:00.000Z';
      assert.equal(await s.prompts.recordAttempt('s1', { now, maxAttempts: 5, answer: true, answeredBy: 'email' }), true);
      assert.equal(await s.prompts.recordAttempt('s2', { now, maxAttempts: 5, answer: true }), true);
      assert.equal((await s.prompts.get('s1'))?.answeredBy, 'email');
      assert.equal((await s.prompts.get('s2'))?.answeredBy, 'person');
    });

    it('events: increasing ids, listed after an id, pruned to the newest', async (s) => {
      const ids: number[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(await s.events.append({ type: 'job.updated', at: t0, payload: `{"n":${i}}` }));
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!);
      assert.equal(await s.events.lastId(), ids[4]);
      assert.deepEqual(
        (await s.events.listAfter(ids[2]!, 10)).map((e) => e.payload),
        ['{"n":3}', '{"n":4}'],
      );
      await s.events.prune(2);
      assert.deepEqual(
        (await s.events.listAfter(0, 10)).map((e) => e.id),
        [ids[3], ids[4]],
      );
      const next = await s.events.append({ type: 'x', at: t0, payload: '{}' });
      assert.ok(next > ids[4]!, 'ids keep growing after a prune');
    });

    it('events appended at once become visible in id order: a reader after the last id it saw misses none', async (s) => {
      const seen: number[] = [];
      let writing = true;
      const reader = (async () => {
        let last = 0;
        while (writing || (await s.events.listAfter(last, 1000)).length > 0) {
          for (const e of await s.events.listAfter(last, 1000)) {
            seen.push(e.id);
            last = e.id;
          }
        }
      })();
      const ids = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          i % 3 === 0
            ? s.transaction((tx) => tx.events.append({ type: 'x', at: t0, payload: `{"n":${i}}` }))
            : s.events.append({ type: 'x', at: t0, payload: `{"n":${i}}` }),
        ),
      );
      writing = false;
      await reader;
      assert.deepEqual(seen, [...ids].sort((a, b) => a - b), 'every id seen once, in order');
    });

    it('prompt messages: one per prompt (a later one supersedes), taken by exactly one taker, pruned when old', async (s) => {
      await s.promptMessages.put({ promptId: 'p1', kind: 'resend', sealed: 'k1:resend', at: t0 });
      await s.promptMessages.put({ promptId: 'p1', kind: 'code', sealed: 'k1:sealed', at: t0 });
      await s.promptMessages.put({ promptId: 'p2', kind: 'cancelled', sealed: null, at: '2030-01-01T01:00:00.000Z' });
      const takes = await Promise.all([s.promptMessages.take('p1'), s.promptMessages.take('p1')]);
      assert.deepEqual(
        takes.filter((t) => t !== undefined),
        [{ promptId: 'p1', kind: 'code', sealed: 'k1:sealed', at: t0 }],
      );
      assert.equal(await s.promptMessages.take('p1'), undefined);
      assert.equal(await s.promptMessages.prune('2030-01-01T00:30:00.000Z'), 0);
      assert.equal(await s.promptMessages.prune('2030-01-01T02:00:00.000Z'), 1);
      assert.equal(await s.promptMessages.take('p2'), undefined);
    });

    it('triggers: due, guarded advance, update', async (s) => {
      await s.triggers.upsert({
        accountId: 'a1',
        frequency: 'daily',
        time: '02:10',
        weekday: 0,
        nextRunAt: t0,
        lastSkippedAt: null,
        skipReason: null,
      });
      await s.triggers.upsert({
        accountId: 'a2',
        frequency: 'off',
        time: '02:10',
        weekday: 0,
        nextRunAt: t0,
        lastSkippedAt: null,
        skipReason: null,
      });
      await s.triggers.upsert({
        accountId: 'a3',
        frequency: 'weekly',
        time: '03:00',
        weekday: 2,
        nextRunAt: '2030-01-05T00:00:00.000Z',
        lastSkippedAt: null,
        skipReason: null,
      });
      assert.deepEqual(
        (await s.triggers.due('2030-01-02T00:00:00.000Z', 10)).map((t) => t.accountId),
        ['a1'],
      );
      assert.equal(await s.triggers.advance('a1', t0, '2030-01-02T02:10:00.000Z'), true);
      assert.equal(await s.triggers.advance('a1', t0, '2030-01-02T02:10:00.000Z'), false, 'already advanced');
      assert.equal(await s.triggers.update('a1', { lastSkippedAt: t0, skipReason: 'LOGIN_FAILED' }), true);
      const a1 = await s.triggers.get('a1');
      assert.equal(a1?.nextRunAt, '2030-01-02T02:10:00.000Z');
      assert.equal(a1?.skipReason, 'LOGIN_FAILED');
      await s.triggers.upsert({ ...a1, frequency: 'weekly', weekday: 3 });
      assert.equal((await s.triggers.get('a1'))?.weekday, 3);
      await s.triggers.delete('a1');
      assert.equal(await s.triggers.get('a1'), undefined);
    });

    it('settings: set, overwrite, delete', async (s) => {
      assert.equal(await s.settings.get('k'), undefined);
      await s.settings.set('k', 'v1');
      await s.settings.set('k', 'v2');
      assert.equal(await s.settings.get('k'), 'v2');
      await s.settings.delete('k');
      assert.equal(await s.settings.get('k'), undefined);
    });

    it('transactions: committed together or rolled back together', async (s) => {
      await s.transaction(async (tx) => {
        await tx.accounts.insert(account('a1'));
        await tx.jobs.insertIfNoActive(job('j1', 'a1'));
      });
      assert.ok(await s.accounts.get('a1'));
      await assert.rejects(
        s.transaction(async (tx) => {
          await tx.accounts.update('a1', { label: 'changed' });
          await tx.prompts.insert(prompt('p1'));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal((await s.accounts.get('a1'))?.label, 'label a1');
      assert.equal(await s.prompts.get('p1'), undefined);
    });

    it('a refused second job inside a transaction leaves the transaction usable, and it commits', async (s) => {
      await s.accounts.insert(account('a1'));
      await s.jobs.insertIfNoActive(job('j1', 'a1'));
      const refused = await s.transaction(async (tx) => {
        const inserted = await tx.jobs.insertIfNoActive(job('j2', 'a1'));
        await tx.accounts.update('a1', { label: 'after the refusal' });
        return !inserted;
      });
      assert.equal(refused, true);
      assert.equal((await s.accounts.get('a1'))?.label, 'after the refusal');
      assert.equal(await s.jobs.get('j2'), undefined);
      await assert.rejects(
        s.jobs.insertIfNoActive(job('j1', 'a2')),
        'the same job id twice is an error, not a refusal',
      );
    });

    it('at once: of many jobs for one account exactly one is inserted; upserts of one path and one setting keep one row', async (s) => {
      const inserted = await Promise.all(
        Array.from({ length: 8 }, (_, n) => s.jobs.insertIfNoActive(job(`j${n}`, 'a1'))),
      );
      assert.equal(inserted.filter(Boolean).length, 1, `inserted: ${inserted.join(', ')}`);
      assert.equal((await s.jobs.list({ accountId: 'a1' })).length, 1);

      const file = (n: number) => ({
        id: `f${n}`,
        accountId: 'a1',
        jobId: `j${n}`,
        name: 'same.pdf',
        folder: '2030',
        size: n,
        sha256: `h${n}`,
        attributes: {},
        bill: null,
        savedAt: t0,
      });
      const saved = await Promise.all(Array.from({ length: 8 }, (_, n) => s.files.upsert(file(n))));
      const rows = await s.files.list('a1');
      assert.equal(rows.length, 1);
      assert.ok(
        saved.every((f) => f.id === rows[0]!.id),
        'every upsert returns the one record',
      );

      await Promise.all(Array.from({ length: 8 }, (_, n) => s.settings.set('k', `v${n}`)));
      assert.match((await s.settings.get('k')) ?? '', /^v[0-7]$/);
    });

    it('text sorts byte by byte, whatever the database locale; large sizes and odd text come back whole', async (s) => {
      for (const name of ['a.pdf', 'B.pdf', '_x.pdf', 'é.pdf', 'a-b.pdf', 'ab.pdf'])
        await s.files.upsert({
          id: `f-${name}`,
          accountId: 'a1',
          jobId: null,
          name,
          folder: '',
          size: 5 * 2 ** 32,
          sha256: 'h',
          attributes: { note: 'quote \' "json" ✓ and a NUL \u0000 that JSON escapes' },
          bill: null,
          savedAt: t0,
        });
      const files = await s.files.list('a1');
      assert.deepEqual(
        files.map((f) => f.name),
        ['B.pdf', '_x.pdf', 'a-b.pdf', 'a.pdf', 'ab.pdf', 'é.pdf'],
      );
      assert.equal(files[0]?.size, 5 * 2 ** 32);
      assert.deepEqual(files[0]?.attributes, { note: 'quote \' "json" ✓ and a NUL \u0000 that JSON escapes' });
    });

    it('workers: registered, beaten, listed, deleted (a beat on a deleted row says so); jobs running on given workers', async (s) => {
      const w = { id: 'w1', host: 'node-a', pid: 42, startedAt: t0, heartbeatAt: t0 };
      await s.workers.insert(w);
      await s.workers.insert({ ...w, id: 'w2', pid: 43, startedAt: '2030-01-01T00:00:01.000Z' });
      assert.equal(await s.workers.beat('w1', '2030-01-01T00:00:02.000Z'), true);
      assert.equal((await s.workers.get('w1'))?.heartbeatAt, '2030-01-01T00:00:02.000Z');
      assert.deepEqual(
        (await s.workers.list()).map((x) => [x.id, x.pid]),
        [
          ['w1', 42],
          ['w2', 43],
        ],
      );
      assert.equal(await s.workers.delete('w2'), true);
      assert.equal(await s.workers.delete('w2'), false);
      assert.equal(await s.workers.beat('w2', t0), false, 'a worker declared dead learns it at its next beat');

      await s.jobs.insertIfNoActive(job('j1', 'a1'));
      await s.jobs.insertIfNoActive(job('j2', 'a2'));
      await s.jobs.insertIfNoActive(job('j3', 'a3'));
      assert.equal(await s.jobs.transition('j1', ['queued'], { status: 'running', workerId: 'w1' }), true);
      assert.equal(await s.jobs.transition('j2', ['queued'], { status: 'running', workerId: 'w2' }), true);
      assert.equal((await s.jobs.get('j1'))?.workerId, 'w1');
      assert.equal((await s.jobs.get('j3'))?.workerId, null);
      assert.deepEqual(
        (await s.jobs.runningOn(['w1', 'w9'])).map((j) => j.id),
        ['j1'],
      );
      assert.deepEqual(await s.jobs.runningOn([]), []);
      await s.jobs.transition('j1', ['running'], { status: 'done' });
      assert.deepEqual(await s.jobs.runningOn(['w1']), [], 'an ended job is not running there any more');
    });

    it('a NUL in a log line or a label is stored as U+FFFD on every backend', async (s) => {
      await s.accounts.insert(account('a1', { label: 'nul\u0000label' }));
      await s.logs.append({ jobId: 'j1', seq: 0, level: 'info', message: 'before\u0000after', at: t0 });
      assert.equal((await s.accounts.get('a1'))?.label, 'nul\uFFFDlabel');
      assert.equal((await s.logs.list('j1'))[0]?.message, 'before\uFFFDafter');
      await s.accounts.update('a1', { label: '\u0000' });
      assert.equal((await s.accounts.get('a1'))?.label, '\uFFFD');
    });
  });
}
