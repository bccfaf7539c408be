import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AMAZON_USERS, startAmazonSite, type RunningSite } from '../src/index.js';
import { Browser, inputValue } from './support/browser.js';

let site: RunningSite;
before(async () => {
  site = await startAmazonSite();
});
after(() => site.close());
beforeEach(() => site.control.reset());

async function signedInDave(): Promise<Browser> {
  const b = new Browser(site.url);
  const emailPage = await b.get('/ap/signin');
  const pw = await b.post('/ap/signin', {
    appActionToken: inputValue(emailPage.text, 'appActionToken'),
    workflowState: '',
    email: AMAZON_USERS.dave.login,
  });
  const done = await b.post('/ap/signin', {
    appActionToken: inputValue(pw.text, 'appActionToken'),
    workflowState: inputValue(pw.text, 'workflowState'),
    email: AMAZON_USERS.dave.login,
    password: AMAZON_USERS.dave.password,
  });
  assert.equal(done.location, '/');
  return b;
}

function orderIds(html: string): string[] {
  return [...html.matchAll(/data-order-id="(405-\d{7}-\d{7})"/g)].map((m) => m[1] ?? '');
}

function nextLink(html: string): string | undefined {
  return /<li class="a-last"><a href="([^"]+)"/.exec(html)?.[1]?.replace(/&#38;/g, '&');
}

void describe('Amazon-like order history', () => {
  void it('paginates 25 orders by 10, following the Next link to the end', async () => {
    const b = await signedInDave();
    let path: string | undefined = '/gp/css/order-history';
    const seen: string[] = [];
    let pages = 0;
    while (path) {
      const page = await b.get(path);
      assert.equal(page.status, 200);
      pages += 1;
      assert.match(page.text, new RegExp(`data-current-page="${pages}" data-total-pages="3" data-total-orders="25"`));
      seen.push(...orderIds(page.text));
      path = nextLink(page.text);
    }
    assert.equal(pages, 3);
    assert.equal(seen.length, 25);
    assert.equal(new Set(seen).size, 25);
    const first = await b.get('/gp/css/order-history?page=1');
    assert.equal(orderIds(first.text).length, 10);
    assert.equal(orderIds((await b.get('/gp/css/order-history?page=3')).text).length, 5);
  });

  void it('serves an invoice PDF for each order with the total in EUR', async () => {
    const b = await signedInDave();
    const page = await b.get('/gp/css/order-history');
    const link = /class="invoice-link" href="([^"]+)"/.exec(page.text)?.[1];
    assert.ok(link);
    const pdf = await b.get(link);
    assert.equal(pdf.contentType, 'application/pdf');
    const text = pdf.bytes.toString('latin1');
    assert.ok(text.startsWith('%PDF-'));
    assert.ok(text.endsWith('%%EOF'));
    assert.match(text, /Total: \d+\.\d\d EUR/);
  });

  void it('puts an order added through control on the first page', async () => {
    const b = await signedInDave();
    const added = site.control.addDocument(AMAZON_USERS.dave.login, { date: '2030-01-01' });
    const page = await b.get('/gp/css/order-history');
    assert.equal(orderIds(page.text)[0], added.id);
    assert.match(page.text, /data-total-orders="26"/);
  });
});
