// Figure 4 (Gleaner): the same whole run as bench/peer/konnectors/whole-run.cjs, written against
// @gleaner/konnector; saveFiles picks its own download concurrency, which is what the figure's
// "max parallel requests" shows.
// Relies on: new BaseKonnector(fetch).run(); this.deactivateAutoSuccessfulLogin();
// this.signin({ url, formSelector, formData, validate, request }); requestFactory({ cheerio: true,
// jar: true }) → request(url | { uri, method, form }) → Promise<$> with one jar across calls;
// this.notifySuccessfulLogin(); this.saveFiles(entries, { request }) downloading each `fileurl`.
// Env and output contract: see bench/figures/whole-run.mjs.
import { BaseKonnector, requestFactory } from '@gleaner/konnector';

const base = process.env.BENCH_SITE_URL;

await new BaseKonnector(async function (fields) {
  const request = requestFactory({ cheerio: true, jar: true });
  await this.deactivateAutoSuccessfulLogin();
  await this.signin({
    url: `${base}/login`,
    formSelector: 'form#login',
    formData: { login: fields.login, password: fields.password },
    validate: (status, $) => status === 200 && $('form#twofa').length === 1,
    request,
  });
  const $ = await request({ uri: `${base}/2fa`, method: 'POST', form: { code: process.env.BENCH_TWOFA_CODE } });
  if ($('table#bills').length !== 1) throw new Error('LOGIN_FAILED');
  await this.notifySuccessfulLogin();

  const entries = $('table#bills tbody tr.bill')
    .map((_, tr) => ({
      fileurl: new URL($(tr).find('a.pdf').attr('href'), base).href,
      filename: `${$(tr).attr('data-id')}.pdf`,
      vendorRef: $(tr).attr('data-id'),
    }))
    .get();
  const result = await this.saveFiles(entries, { request, fileIdAttributes: ['vendorRef'] });
  console.log('BENCH_RESULT ' + JSON.stringify({ files: result?.saved?.length ?? entries.length }));
}).run();
