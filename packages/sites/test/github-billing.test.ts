import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { GITHUB_USERS, startGithubSite, type RunningSite } from '../src/index.js';
import { Browser, inputValue } from './support/browser.js';

let site: RunningSite;
before(async () => {
  site = await startGithubSite();
});
after(() => site.close());
beforeEach(() => site.control.reset());

async function signedIn(): Promise<Browser> {
  const b = new Browser(site.url);
  const form = await b.get('/login');
  await b.post('/session', {
    authenticity_token: inputValue(form.text, 'authenticity_token'),
    login: 'octocat',
    password: GITHUB_USERS.octocat.password,
  });
  const app = await b.get('/sessions/two-factor/app');
  const done = await b.post('/sessions/two-factor', {
    authenticity_token: inputValue(app.text, 'authenticity_token'),
    app_otp: site.control.currentTotp('octocat'),
  });
  assert.equal(done.location, '/');
  return b;
}

function receiptLinks(html: string): string[] {
  return [...html.matchAll(/class="receipt-link" href="([^"]+)"/g)].map((m) => m[1] ?? '');
}

void describe('GitHub-like payment history', () => {
  void it('lists 12 monthly receipts in USD, newest first', async () => {
    const b = await signedIn();
    const page = await b.get('/settings/billing/payment_history');
    assert.equal(page.status, 200);
    const dates = [
      ...page.text.matchAll(
        /data-receipt-id="\d+" data-date="(\d{4}-\d\d-\d\d)" data-amount="\d+\.\d\d" data-currency="USD"/g,
      ),
    ].map((m) => m[1]);
    assert.equal(dates.length, 12);
    assert.deepEqual(dates, [...dates].sort().reverse());
    assert.match(page.text, /\$4\.00/);
    assert.equal(receiptLinks(page.text).length, 12);
  });

  void it('serves receipts as PDFs naming the amount in USD', async () => {
    const b = await signedIn();
    const [link] = receiptLinks((await b.get('/settings/billing/payment_history')).text);
    assert.ok(link);
    const pdf = await b.get(link);
    assert.equal(pdf.contentType, 'application/pdf');
    const text = pdf.bytes.toString('latin1');
    assert.ok(text.startsWith('%PDF-'));
    assert.ok(text.endsWith('%%EOF'));
    assert.match(text, /Amount: \$\d+\.\d\d USD/);
  });

  void it('shows a receipt added through control', async () => {
    const b = await signedIn();
    const added = site.control.addDocument('octocat', { amount: 21 });
    const page = await b.get('/settings/billing/payment_history');
    assert.equal(receiptLinks(page.text).length, 13);
    assert.ok(receiptLinks(page.text).includes(`/account/receipts/${added.id}.pdf`));
    assert.match(page.text, /\$21\.00/);
  });

  void it('redirects receipts to /login without a session', async () => {
    const [doc] = site.control.documents('octocat');
    const res = await new Browser(site.url).get(`/account/receipts/${doc?.id ?? ''}.pdf`);
    assert.equal(res.status, 302);
    assert.match(res.location ?? '', /^\/login\?return_to=/);
  });
});
