import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTestSite, type RunningSite } from '../src/index.js';
import { Browser, inputValue } from './support/browser.js';

let site: RunningSite;
before(async () => {
  site = await startTestSite();
});
after(() => site.close());
beforeEach(() => site.control.reset());

async function signedInDave(): Promise<Browser> {
  const b = new Browser(site.url);
  const form = await b.get('/login');
  await b.post('/login', { _csrf: inputValue(form.text, '_csrf'), login: 'dave', password: 'dave-password' });
  return b;
}

function billLinks(html: string): string[] {
  return [...html.matchAll(/class="bill-pdf" href="([^"]+)"/g)].map((m) => m[1] ?? '');
}

void describe('test site bills', () => {
  void it('lists five bills with id, date, amount, currency and a PDF link', async () => {
    const b = await signedInDave();
    const page = await b.get('/bills');
    assert.equal(page.status, 200);
    assert.match(page.contentType, /^text\/html/);
    const rows = [
      ...page.text.matchAll(
        /<tr class="bill" data-id="([^"]+)" data-date="(\d{4}-\d\d-\d\d)" data-amount="(\d+\.\d\d)" data-currency="EUR">/g,
      ),
    ];
    assert.equal(rows.length, 5);
    assert.equal(billLinks(page.text).length, 5);
  });

  void it('serves each bill as a valid, deterministic PDF naming vendor, date and amount', async () => {
    const b = await signedInDave();
    const [doc] = site.control.documents('dave');
    assert.ok(doc);
    const pdf = await b.get(`/bills/${doc.id}.pdf`);
    assert.equal(pdf.status, 200);
    assert.equal(pdf.contentType, 'application/pdf');
    const text = pdf.bytes.toString('latin1');
    assert.ok(text.startsWith('%PDF-'));
    assert.ok(text.endsWith('%%EOF'));
    assert.match(text, /Vendor: Test Site/);
    assert.ok(text.includes(`Date: ${doc.date}`));
    assert.ok(text.includes(`Amount: ${doc.amount.toFixed(2)} EUR`));
    const startxref = Number(/startxref\n(\d+)\n/.exec(text)?.[1]);
    assert.equal(text.slice(startxref, startxref + 4), 'xref', 'startxref points at the xref table');
    const again = await b.get(`/bills/${doc.id}.pdf`);
    assert.deepEqual(again.bytes, pdf.bytes);
  });

  void it("does not serve another user's bill, nor any bill without a session", async () => {
    const b = await signedInDave();
    const [aliceBill] = site.control.documents('alice');
    assert.ok(aliceBill);
    assert.equal((await b.get(`/bills/${aliceBill.id}.pdf`)).status, 404);
    assert.equal((await new Browser(site.url).get(`/bills/${aliceBill.id}.pdf`)).status, 302);
  });

  void it('shows a bill added through control on the next visit (only the new one is new)', async () => {
    const b = await signedInDave();
    const before = billLinks((await b.get('/bills')).text);
    const added = site.control.addDocument('dave');
    const afterLinks = billLinks((await b.get('/bills')).text);
    assert.equal(afterLinks.length, 6);
    assert.deepEqual(
      afterLinks.filter((l) => !before.includes(l)),
      [`/bills/${added.id}.pdf`],
    );
    assert.equal((await b.get(`/bills/${added.id}.pdf`)).status, 200);
  });
});
