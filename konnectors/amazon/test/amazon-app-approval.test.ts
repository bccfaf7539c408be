import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { CodeReader } from '@gleaner/konnector/host';
import { filesOnDisk, newDataDir, runKonnector } from '@gleaner/konnector/testing';
import { AMAZON_USERS, startAmazonSite, type RunningSite } from '@gleaner/sites';
import { AmazonKonnector } from '../src/konnector.js';

const frank = AMAZON_USERS.frank;
const DAY = 24 * 60 * 60_000;

/** The person sees the request (Home's dialog), then taps Approve or Deny on the phone a moment later. */
function personWhoAnswers(site: RunningSite, approve: boolean): CodeReader {
  return ({ signal }) =>
    new Promise<string>((_, reject) => {
      setTimeout(() => {
        const [request] = site.control.approvals(frank.login);
        site.control.answerApproval(request?.id ?? '', approve);
      }, 300);
      // The konnector withdraws the question once the site has the answer.
      signal.addEventListener('abort', () => reject(new Error('withdrawn')));
    });
}

describe('Amazon konnector, approval in the Amazon app (frank)', () => {
  let site: RunningSite;
  beforeEach(async () => {
    site = await startAmazonSite({ prefix: '/amazon' });
  });
  afterEach(() => site.close());
  const fields = () => ({ login: frank.login, password: frank.password, baseUrl: site.url });

  test('the first manual run waits for the approval and saves every invoice; later logins need none (this browser is remembered)', async () => {
    const dataDir = newDataDir();
    const first = await runKonnector(new AmazonKonnector(), {
      dataDir,
      fields: fields(),
      readCode: personWhoAnswers(site, true),
    });
    assert.deepEqual(first.result, { ok: true });
    assert.deepEqual(first.codeRequests, [{ type: 'app', retry: false }]);
    assert.deepEqual(first.states.slice(0, 3), ['HANDLE_LOGIN_SUCCESS', 'TWOFA_NEEDED.APP', 'LOGIN_SUCCESS']);
    assert.equal(filesOnDisk(dataDir).length, site.control.documents(frank.login).length);
    assert.equal(site.control.codesSent(frank.login), 0, 'no code is sent: only a notification');

    // The session expires; a background run logs in again on the remembered browser, asking nobody.
    site.control.advance(91 * DAY);
    const background = await runKonnector(new AmazonKonnector(), { dataDir, fields: fields(), mode: 'background' });
    assert.deepEqual(background.result, { ok: true });
    assert.deepEqual(background.codeRequests, []);
    assert.equal(site.control.approvals(frank.login).length, 1, 'one notification in all');
  });

  test('a denied notification ends USER_ACTION_NEEDED.TWOFA_DENIED; a background run then sends no notification at all', async () => {
    const dataDir = newDataDir();
    const denied = await runKonnector(new AmazonKonnector(), {
      dataDir,
      fields: fields(),
      readCode: personWhoAnswers(site, false),
    });
    assert.deepEqual(denied.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_DENIED' });
    assert.equal(site.control.approvals(frank.login).length, 1);

    const background = await runKonnector(new AmazonKonnector(), { dataDir, fields: fields(), mode: 'background' });
    assert.deepEqual(background.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
    assert.equal(site.control.approvals(frank.login).length, 1, 'the background run made the site send nothing');
  });
});
