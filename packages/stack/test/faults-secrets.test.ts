import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { forgetSecrets } from '../src/maintenance.js';
import { SecretKeyError } from '../src/secrets/keyring.js';
import { openSqliteStorage } from '../src/storage/sqlite.js';
import { EventRecorder, isJobEnded, openStack, runToEnd, tmpDataDir } from './helpers/stack-harness.js';
import type { GleanerStack } from '../src/create-stack.js';
import { startTestApi } from './api-fixtures/http.js';

const UNREADABLE = 'USER_ACTION_NEEDED.CREDENTIALS_UNREADABLE';
const PASSWORD = 'faults-Pw-5e1d0a7b';

/** A stack whose log lines are kept (JSON objects) to be searched. */
async function openLogged(
  dataDir: string,
): Promise<{ stack: GleanerStack; lines: Record<string, unknown>[]; raw: string[] }> {
  const raw: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void raw.push(line) });
  const stack = await openStack(dataDir, { logger });
  return {
    stack,
    raw,
    get lines() {
      return raw.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}

/** Two accounts on a fresh folder; the stack closed after. */
async function seed(dataDir: string, count = 1): Promise<string[]> {
  const stack = await openStack(dataDir);
  try {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: `user${i}`, password: `${PASSWORD}-${i}`, scenario: 'plain' },
      });
      ids.push(account.id);
    }
    return ids;
  } finally {
    await stack.close(1000);
  }
}

/** Edits sealed columns straight in the database, with no stack running. */
async function editRows(
  dataDir: string,
  edit: (
    rows: Map<string, { credentials: string; session: string | null }>,
  ) => Map<string, { credentials?: string; session?: string | null }>,
): Promise<void> {
  const storage = await openSqliteStorage(join(dataDir, 'gleaner.db'));
  try {
    const rows = new Map(
      (await storage.accounts.list()).map((a) => [a.id, { credentials: a.credentials, session: a.session }]),
    );
    for (const [id, patch] of edit(rows)) await storage.accounts.update(id, patch);
  } finally {
    await storage.close();
  }
}

/** One base64 character of the ciphertext changed: the GCM tag no longer matches. */
function flipByte(sealed: string): string {
  const at = sealed.length - 3;
  return sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
}

/** The stack started, the account shows the state, its job ends with the code and says why, a new password makes it run. */
async function assertUnreadableThenRepaired(
  stack: GleanerStack,
  accountId: string,
  lines: Record<string, unknown>[],
  raw: string[],
  reason: string,
  index: number,
): Promise<void> {
  const marked = await stack.accounts.get(accountId);
  assert.equal(marked.needsAction, true);
  assert.equal(marked.actionNeeded, UNREADABLE);
  const startLine = lines.find((l) => l.accountId === accountId && l.column === 'credentials');
  assert.ok(startLine, 'the start logs which account');
  assert.equal(startLine.reason, reason);
  assert.ok(!raw.join('\n').includes(PASSWORD), 'no password in the log');

  const failed = await runToEnd(stack, accountId);
  assert.equal(failed.status, 'errored');
  assert.equal(failed.error, UNREADABLE);
  const logs = await stack.jobs.logs(failed.id);
  assert.ok(
    logs.some(
      (l) => l.level === 'error' && /saved credentials cannot be read .*enter the password again/.test(l.message),
    ),
    `the job log says why: ${JSON.stringify(logs.map((l) => l.message))}`,
  );

  // A new password, without the old one: re-sealed, the pause lifted, and the run goes through.
  const repaired = await stack.accounts.update(accountId, { fields: { password: `${PASSWORD}-new-${index}` } });
  assert.equal(repaired.actionNeeded, null);
  assert.deepEqual(repaired.fields, { login: `user${index}`, scenario: 'plain' }, 'the login kept in clear stays');
  const ok = await runToEnd(stack, accountId);
  assert.equal(ok.status, 'done', JSON.stringify(await stack.jobs.logs(ok.id)));
}

describe('faults: unreadable secrets are an account state', () => {
  it('a flipped byte in sealed credentials: the stack starts, the account needs its password, a PATCH repairs it', async () => {
    const dataDir = tmpDataDir();
    const [id] = await seed(dataDir);
    await editRows(dataDir, (rows) => new Map([[id!, { credentials: flipByte(rows.get(id!)!.credentials) }]]));
    const { stack, lines, raw } = await openLogged(dataDir);
    try {
      await assertUnreadableThenRepaired(stack, id!, lines, raw, 'tampered', 0);
    } finally {
      await stack.close(1000);
    }
  });

  it('two accounts’ sealed rows swapped: neither opens as the other’s, each is repaired by its own PATCH', async () => {
    const dataDir = tmpDataDir();
    const [a, b] = await seed(dataDir, 2);
    await editRows(
      dataDir,
      (rows) =>
        new Map([
          [a!, { credentials: rows.get(b!)!.credentials }],
          [b!, { credentials: rows.get(a!)!.credentials }],
        ]),
    );
    const { stack, lines, raw } = await openLogged(dataDir);
    try {
      await assertUnreadableThenRepaired(stack, a!, lines, raw, 'tampered', 0);
      await assertUnreadableThenRepaired(stack, b!, lines, raw, 'tampered', 1);
    } finally {
      await stack.close(1000);
    }
  });

  it('a value under an unknown key id: the stack starts (it refused to before), naming the key to restore', async () => {
    const dataDir = tmpDataDir();
    const [id] = await seed(dataDir);
    await editRows(
      dataDir,
      (rows) => new Map([[id!, { credentials: rows.get(id!)!.credentials.replace(/^k1:/, 'k9:') }]]),
    );
    const { stack, lines, raw } = await openLogged(dataDir);
    try {
      const line = lines.find((l) => l.accountId === id);
      assert.equal(line?.keyId, 'k9');
      assert.match(String(line?.msg), /restore keys\/k9\.key/);
      await assertUnreadableThenRepaired(stack, id!, lines, raw, 'unknown key id', 0);
    } finally {
      await stack.close(1000);
    }
  });

  it('an old key file restored: the values it seals open again, the account is no longer paused, re-sealed under the current key', async () => {
    const dataDir = tmpDataDir();
    const [id] = await seed(dataDir);
    // A new current key made while the old one went missing (moved away by mistake).
    const { createKeyFile } = await import('../src/secrets/index.js');
    createKeyFile(dataDir, 'k2');
    const aside = join(dataDir, 'k1.key.moved');
    renameSync(join(dataDir, 'keys', 'k1.key'), aside);
    const first = await openLogged(dataDir);
    try {
      const marked = await first.stack.accounts.get(id!);
      assert.equal(marked.actionNeeded, UNREADABLE);
      assert.ok(first.lines.some((l) => l.accountId === id && l.reason === 'unknown key id' && l.keyId === 'k1'));
    } finally {
      await first.stack.close(1000);
    }
    renameSync(aside, join(dataDir, 'keys', 'k1.key'));
    const second = await openLogged(dataDir);
    try {
      assert.equal((await second.stack.accounts.get(id!)).actionNeeded, null, 'no longer paused');
      assert.ok(second.lines.some((l) => l.accountId === id && /can be read again/.test(String(l.msg))));
      const storage = second.stack.storage;
      assert.match((await storage.accounts.get(id!))!.credentials, /^k2:/, 're-sealed under the current key');
      assert.equal((await runToEnd(second.stack, id!)).status, 'done');
    } finally {
      await second.stack.close(1000);
    }
  });

  it('an unreadable session does not mark the account, and the run goes on without it', async () => {
    const dataDir = tmpDataDir();
    const [id] = await seed(dataDir);
    const storage = await openSqliteStorage(join(dataDir, 'gleaner.db'));
    // A session sealed for another account: it never opens here.
    const { loadKeyring, accountAad } = await import('../src/secrets/index.js');
    const keyring = loadKeyring({ dataDir, env: {} });
    await storage.accounts.update(id!, { session: keyring.seal('cookie-jar', accountAad('other', 'session')) });
    await storage.close();
    const { stack, lines } = await openLogged(dataDir);
    try {
      assert.ok(lines.some((l) => l.accountId === id && l.column === 'session' && l.reason === 'tampered'));
      assert.equal((await stack.accounts.get(id!)).needsAction, false);
      assert.equal((await runToEnd(stack, id!)).status, 'done');
    } finally {
      await stack.close(1000);
    }
  });
});

describe('faults: unreadable secrets over the HTTP API', () => {
  it('GET shows the state; PATCH with the password answers 200 (it answered 500), without it 422 naming the field', async () => {
    const dataDir = tmpDataDir();
    const [id] = await seed(dataDir);
    await editRows(dataDir, (rows) => new Map([[id!, { credentials: flipByte(rows.get(id!)!.credentials) }]]));
    const stack = await openStack(dataDir);
    const api = await startTestApi(stack);
    try {
      const session = await api.login();
      const shown = await api.call(`/api/accounts/${id}`, { session });
      assert.equal(shown.status, 200);
      assert.equal((shown.body as { actionNeeded: string }).actionNeeded, UNREADABLE);
      const empty = await api.call(`/api/accounts/${id}`, {
        method: 'PATCH',
        session,
        json: { fields: { password: '' } },
      });
      assert.equal(empty.status, 422, JSON.stringify(empty.body));
      assert.match(JSON.stringify(empty.body), /fields\.password: required/);
      const patched = await api.call(`/api/accounts/${id}`, {
        method: 'PATCH',
        session,
        json: { fields: { password: `${PASSWORD}-http` } },
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal((patched.body as { actionNeeded: string | null }).actionNeeded, null);
      assert.ok(!api.bodies.join('\n').includes(PASSWORD), 'no password in any response');
      assert.equal((await runToEnd(stack, id!)).status, 'done');
    } finally {
      await api.close();
      await stack.close(1000);
    }
  });
});

describe('faults: keys are never silently replaced', () => {
  it('the keys folder deleted: the start is refused naming the key; forget-secrets then lets it start over', async () => {
    const dataDir = tmpDataDir();
    const [id] = await seed(dataDir);
    rmSync(join(dataDir, 'keys'), { recursive: true });
    await assert.rejects(openStack(dataDir), (error: Error) => {
      assert.ok(error instanceof SecretKeyError, String(error));
      assert.match(error.message, /sealed with key k1/);
      assert.ok(error.message.includes(join(dataDir, 'keys', 'k1.key')), error.message);
      assert.match(error.message, /restore it .* from your backup/);
      assert.match(error.message, /gleaner forget-secrets/);
      return true;
    });
    assert.ok(!existsSync(join(dataDir, 'keys')), 'no key was made');

    const result = await forgetSecrets(dataDir);
    assert.deepEqual(
      { accounts: result.accounts, keyId: result.keyId, oldKeys: result.oldKeys },
      { accounts: 1, keyId: 'k2', oldKeys: null },
    );
    assert.equal(
      readFileSync(join(dataDir, 'keys', 'current'), 'utf8').trim(),
      'k2',
      'a new id: an old backup never opens under it',
    );
    const { stack, lines, raw } = await openLogged(dataDir);
    try {
      const account = await stack.accounts.get(id!);
      assert.deepEqual(account.secretFieldsSet, [], 'the password is shown as missing');
      assert.equal(account.sessionSaved, false);
      await assertUnreadableThenRepaired(stack, id!, lines, raw, 'forgotten', 0);
    } finally {
      await stack.close(1000);
    }
  });

  it('the current key file gone: refused, naming it; forget-secrets sets the old keys aside under a new id', async () => {
    const dataDir = tmpDataDir();
    await seed(dataDir);
    const stack = await openStack(dataDir);
    await stack.secrets.rotate();
    await stack.close(1000);
    unlinkSync(join(dataDir, 'keys', 'k2.key'));
    await assert.rejects(openStack(dataDir), /sealed with key k2, but .*k2\.key is missing: restore it/);
    const result = await forgetSecrets(dataDir);
    assert.equal(result.keyId, 'k3', 'past the ids of the key files left (k1) and of the lost key (k2)');
    assert.ok(result.oldKeys && existsSync(join(result.oldKeys, 'k1.key')), 'the old keys set aside, not deleted');
    const reopened = await openStack(dataDir);
    await reopened.close(1000);
  });

  it('a fresh folder still gets its first key', async () => {
    const dataDir = tmpDataDir();
    const stack = await openStack(dataDir);
    await stack.close(1000);
    assert.ok(existsSync(join(dataDir, 'keys', 'k1.key')));
  });
});

describe('faults: a prompt locked by malformed codes', () => {
  it('ends its job at once with LOGIN_FAILED.TOO_MANY_ATTEMPTS, and the right code is then refused', async () => {
    const stack = await openStack(tmpDataDir(), { maxCodeAttempts: 3 });
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: 'pw', timeout: '600000' },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      const waiting = await recorder.waitFor(
        (e) => e.type === 'prompt.updated' && e.prompt.accountId === account.id && e.prompt.status === 'waiting',
        'the prompt',
      );
      const promptId = (waiting as Extract<typeof waiting, { type: 'prompt.updated' }>).prompt.id;
      const lockedAt = Date.now();
      for (const code of ['12', 'x-y', '!!']) assert.equal(await stack.prompts.answer(promptId, code), 'bad_format');
      const ended = await recorder.waitFor(isJobEnded(job.id), 'the end of the job', 10_000);
      assert.ok(Date.now() - lockedAt < 10_000, 'at once, not at the ten-minute deadline');
      assert.equal(ended.job.error, 'LOGIN_FAILED.TOO_MANY_ATTEMPTS');
      assert.equal((await stack.storage.prompts.get(promptId))?.status, 'cancelled');
      assert.equal(await stack.prompts.answer(promptId, 'Q7CANARY9'), 'too_many_attempts');
      const logs = await stack.jobs.logs(job.id);
      assert.ok(
        logs.some((l) => /locked after 3 malformed codes/.test(l.message)),
        JSON.stringify(logs),
      );
      const after = await stack.accounts.get(account.id);
      assert.equal(after.state, null, 'no 2FA state left behind');
      assert.equal(after.prompt, null);
    } finally {
      recorder.stop();
      await stack.close(1000);
    }
  });
});
