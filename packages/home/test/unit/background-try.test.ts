import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobLogLine } from '@gleaner/contracts';
import { accountStatus } from '../../src/logic/account-status.js';
import { backgroundTryView, codeSourceLine } from '../../src/logic/background-try.js';
import { localTimes } from '../../src/logic/format.js';
import { connectProgress } from '../../src/logic/progress.js';
import { twoFaDialogView } from '../../src/logic/twofa-dialog.js';
import { account, iso, job, prompt, T0 } from './fixtures.js';

const line = (seq: number, message: string): JobLogLine => ({
  jobId: 'job-1',
  seq,
  at: iso(T0 + seq * 1000),
  level: 'info',
  message,
});
const background = (overrides: Parameters<typeof job>[0] = {}) => job({ mode: 'background', ...overrides });

test('a background run ended done says how the code came, from its log, and the files', () => {
  const lines = [line(1, 'signing in'), line(2, 'code read from your mailbox'), line(3, 'saved 2 files')];
  assert.equal(codeSourceLine(lines), 'code read from your mailbox');
  assert.deepEqual(backgroundTryView(background({ status: 'done', filesSaved: 2 }), account(), lines), {
    tone: 'ok',
    headline: 'Done, with nobody asked.',
    detail: 'Code read from your mailbox. 2 new files.',
  });
  const noCode = backgroundTryView(background({ status: 'done', filesSaved: 1 }), account(), [line(1, 'session ok')]);
  assert.equal(noCode.detail, 'No code was needed. 1 new file.');
});

test('a background run that needed a person is told with the background wording, not "no answer in time"', () => {
  const view = backgroundTryView(
    background({ status: 'errored', error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' }),
    account(),
    [],
  );
  assert.equal(view.tone, 'error');
  assert.equal(view.headline, 'The background run stopped: Sign in again to renew the session.');
  assert.match(view.detail ?? '', /a scheduled run cannot sign in alone/);
  assert.equal(
    backgroundTryView(background({ status: 'errored', error: 'JOB_CANCELLED' }), account(), []).headline,
    'You cancelled the background run.',
  );
});

test('a background run the budget of codes stopped says which limit and until when, from its log, in local time', () => {
  const view = backgroundTryView(background({ status: 'errored', error: 'TWOFA_BUDGET_EXCEEDED' }), account(), [
    line(
      1,
      'no new code asked: the last code was sent at 2025-06-01T10:00:00.000Z: the site sends no new one before 2025-06-01T10:00:30.000Z',
    ),
  ]);
  assert.equal(view.headline, 'The background run stopped: No more codes for now.');
  assert.match(view.detail ?? '', /Here: the last code was sent at .+: the site sends no new one before .+\.$/);
  assert.doesNotMatch(view.detail ?? '', /2025-06-01T/);
  assert.equal(localTimes('before 2025-06-01T10:00:30.000Z', 'en-GB', 'UTC'), 'before 1 Jun 2025, 10:00:30');
});

test('while it runs: starting, signing in, waiting for a source (never for the person), signed in', () => {
  assert.equal(
    backgroundTryView(background({ status: 'queued' }), account(), []).headline,
    'Starting the background run…',
  );
  assert.equal(backgroundTryView(background(), account(), []).headline, 'Signing in, as the scheduled run does…');
  const waiting = account({ state: 'TWOFA_NEEDED.EMAIL', prompt: prompt({ type: 'email' }), lastJob: background() });
  assert.deepEqual(backgroundTryView(background(), waiting, []), {
    tone: 'running',
    headline: 'Waiting for the code e-mail in your mailbox…',
    detail: 'Nobody is asked: only the code sources can answer.',
  });
  const signedIn = backgroundTryView(background({ loginStatus: 'succeeded' }), account(), [
    line(1, 'code computed from the stored authenticator secret'),
  ]);
  assert.equal(signedIn.headline, 'Signed in with nobody asked. Fetching your documents…');
  assert.equal(signedIn.detail, 'Code computed from the stored authenticator secret.');
});

test('the 2FA dialog stays closed for a background run’s prompt, and the badge does not say it waits for you', () => {
  const waiting = account({ state: 'TWOFA_NEEDED.EMAIL', prompt: prompt({ type: 'email' }), lastJob: background() });
  assert.deepEqual(twoFaDialogView(waiting, T0 + 10_000), { kind: 'closed', reason: 'background' });
  assert.deepEqual(accountStatus(waiting), { tone: 'running', label: 'Running' });
  assert.equal(connectProgress(waiting, background(), false).headline, 'Waiting for a code from your code sources…');
  const manual = account({ state: 'TWOFA_NEEDED.EMAIL', prompt: prompt({ type: 'email' }), lastJob: job() });
  assert.equal(twoFaDialogView(manual, T0 + 10_000).kind, 'ask');
});
