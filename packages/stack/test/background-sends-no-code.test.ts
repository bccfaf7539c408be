import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Job, Prompt, StackEvent } from '@gleaner/contracts';
import { AMAZON_USERS, GITHUB_USERS, startSites, type RunningSites, type SiteControl } from '@gleaner/sites';
import type { GleanerStack } from '../src/create-stack.js';
import { EventRecorder, FIXTURES, isJobEnded, openStack, tmpDataDir } from './helpers/stack-harness.js';

/**
 * The background rule, end to end: the real GitHub and Amazon konnectors under a real stack, the fake
 * sites over HTTP on 127.0.0.1, background jobs as the scheduler starts them. A background run with
 * no session must make no site send anything (no SMS, no e-mail, no push), whatever the user's 2FA.
 */
const REPO = resolve(FIXTURES, '../../../..');
const KONNECTORS = [resolve(REPO, 'konnectors/github'), resolve(REPO, 'konnectors/amazon')];

type SiteName = 'github' | 'amazon';
type User = { site: SiteName; login: string; password: string };

const TWOFA_USERS: User[] = [
  { site: 'github', ...GITHUB_USERS.octocat },
  { site: 'github', ...GITHUB_USERS.monalisa },
  { site: 'amazon', ...AMAZON_USERS.alice },
  { site: 'amazon', ...AMAZON_USERS.bob },
  { site: 'amazon', ...AMAZON_USERS.carol },
  { site: 'amazon', ...AMAZON_USERS.frank },
];

describe('background runs with no session send no code, on every 2FA user of every fake site', () => {
  let sites: RunningSites;
  let stack: GleanerStack;
  let recorder: EventRecorder;

  before(async () => {
    sites = await startSites();
    stack = await openStack(tmpDataDir(), { konnectorDirs: KONNECTORS, concurrency: 6 });
    recorder = new EventRecorder(stack);
  });
  after(async () => {
    recorder.stop();
    await stack.close(2000);
    await sites.close();
  });

  const control = (user: User): SiteControl => sites.controls[user.site];
  /** Everything the site sent this user: codes by SMS or e-mail, and approval pushes. */
  const sent = (user: User) => control(user).outbox(user.login).length + control(user).approvals(user.login).length;

  const createAccount = async (user: User) =>
    stack.accounts.create({
      konnector: user.site,
      fields: { login: user.login, password: user.password, baseUrl: sites[user.site] },
    });

  /** Runs a job to its end; a manual one gets its code (or its approval) from the fake site. */
  const run = async (accountId: string, mode: Job['mode'], user?: User): Promise<Job> => {
    const job = await stack.jobs.start(accountId, mode);
    if (user) {
      const isWaiting = (e: StackEvent): e is Extract<StackEvent, { type: 'prompt.updated' }> =>
        e.type === 'prompt.updated' && e.prompt.jobId === job.id && e.prompt.status === 'waiting';
      const waiting = await recorder.waitFor(isWaiting, `${user.login}'s prompt`);
      await answer(user, waiting.prompt);
    }
    return (await recorder.waitFor(isJobEnded(job.id), `${user?.login ?? 'the'} job`, 30_000)).job;
  };

  const answer = async (user: User, prompt: Prompt): Promise<void> => {
    const site = control(user);
    if (prompt.type === 'app') {
      const push = site.approvals(user.login).find((request) => request.status === 'pending');
      assert.ok(push, `${user.login}: a push to approve`);
      assert.equal(site.answerApproval(push.id, true), true);
      return;
    }
    const code = prompt.type === 'app_code' ? site.currentTotp(user.login) : site.lastCode(user.login);
    assert.ok(code, `${user.login}: a code to type`);
    assert.equal(await stack.prompts.answer(prompt.id, code), 'accepted');
  };

  const promptsOf = async (jobId: string) => stack.storage.prompts.listByJob(jobId);

  it('a new account, never logged in: the run stops before the password, the site sends nothing', async () => {
    await Promise.all(
      TWOFA_USERS.map(async (user) => {
        assert.equal(sent(user), 0, `${user.login}: nothing sent before`);
        const account = await createAccount(user);
        const job = await run(account.id, 'background');
        assert.equal(job.mode, 'background');
        assert.equal(job.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED', `${user.login}: ${job.error}`);
        assert.equal(sent(user), 0, `${user.login}: the site sent nothing`);
        assert.deepEqual(await promptsOf(job.id), [], `${user.login}: nobody was asked`);
        const logs = (await stack.jobs.logs(job.id)).map((line) => line.message).join('\n');
        assert.match(logs, /would send the credentials, and this site asks for a second factor/);
      }),
    );
    // The password never reached GitHub's session endpoint.
    assert.equal(sites.controls.github.requestCount('/session', 'POST'), 0);
  });

  it('after a manual run with 2FA, the session forgotten: the site sends nothing, again', async () => {
    await Promise.all(
      TWOFA_USERS.map(async (user) => {
        const account = await createAccount(user);
        const manual = await run(account.id, 'manual', user);
        assert.equal(manual.status, 'done', `${user.login}: manual run ${manual.error}`);
        assert.equal((await promptsOf(manual.id)).length, 1, `${user.login}: asked once`);
        const before = sent(user);

        // The saved session (and with it any remembered-device cookie) is gone.
        await stack.accounts.resetSession(account.id);
        const background = await run(account.id, 'background');
        assert.equal(background.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED', `${user.login}: ${background.error}`);
        assert.equal(sent(user), before, `${user.login}: the site sent nothing more`);
        assert.deepEqual(await promptsOf(background.id), []);
      }),
    );
  });

  it('an account whose manual run needed no 2FA still logs in in the background, with no session', async () => {
    const dave: User = { site: 'amazon', ...AMAZON_USERS.dave };
    const account = await createAccount(dave);
    const manual = await run(account.id, 'manual');
    assert.equal(manual.status, 'done', `manual run ${manual.error}`);
    assert.deepEqual(await promptsOf(manual.id), []);

    await stack.accounts.resetSession(account.id);
    const background = await run(account.id, 'background');
    assert.equal(background.status, 'done', `background run ${background.error}`);
    assert.equal(background.loginStatus, 'succeeded');
    assert.equal(sent(dave), 0);
    assert.ok((await stack.files.list(account.id)).length > 0, 'its invoices are saved');
  });

  it('a login the konnector declares silent (a remembered device) goes through in the background', async () => {
    // New accounts of users the earlier tests signed in: this account's jar knows no device yet.
    const monalisa: User = { site: 'github', ...GITHUB_USERS.monalisa };
    const frank: User = { site: 'amazon', ...AMAZON_USERS.frank };
    await Promise.all(
      [monalisa, frank].map(async (user) => {
        const account = await createAccount(user);
        const manual = await run(account.id, 'manual', user);
        assert.equal(manual.status, 'done', `${user.login}: manual run ${manual.error}`);
        assert.equal((await promptsOf(manual.id)).length, 1, `${user.login}: the manual run was asked a second factor`);
        const before = sent(user);

        // The site ends the session; the device it verified is still remembered (and so is its cookie).
        control(user).expireSessions(user.login);
        const background = await run(account.id, 'background');
        assert.equal(background.status, 'done', `${user.login}: background run ${background.error}`);
        assert.equal(background.loginStatus, 'succeeded');
        assert.equal(sent(user), before, `${user.login}: nothing more sent`);
        const logs = (await stack.jobs.logs(background.id)).map((line) => line.message).join('\n');
        assert.match(logs, /the konnector says this login asks nothing of a person/);
      }),
    );
  });
});
