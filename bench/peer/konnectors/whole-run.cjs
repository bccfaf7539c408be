// Figure 4 (peer): a whole run written the way cozy-konnector-libs konnectors are written:
// signin (form POST) → 2FA (the code is known to the script: no person) → list bills → download
// each with its requestFactory, one at a time, piped to disk as its saveFiles does in standalone
// mode (saveFiles itself fails in standalone mode since 5.4).
// Env: BENCH_SITE_URL, BENCH_TWOFA_CODE, BENCH_OUT_DIR. Prints BENCH_RESULT {"files","bytes"}.
const fs = require('fs');
const path = require('path');
const { BaseKonnector, requestFactory, log } = require('cozy-konnector-libs');

const base = process.env.BENCH_SITE_URL;
const outDir = process.env.BENCH_OUT_DIR;

module.exports = new BaseKonnector(async function fetch(fields) {
  const request = requestFactory({ cheerio: true, jar: true });

  await this.signin({
    url: `${base}/login`,
    formSelector: 'form#login',
    formData: { login: fields.login, password: fields.password },
    validate: (status, $) => status === 200 && $('form#twofa').length === 1,
    notifySuccessfulLogin: false,
  });

  const $ = await request({
    uri: `${base}/2fa`,
    method: 'POST',
    form: { code: process.env.BENCH_TWOFA_CODE },
  });
  if ($('table#bills').length !== 1) throw new Error('LOGIN_FAILED');
  await this.notifySuccessfulLogin();

  const bills = $('table#bills tbody tr.bill')
    .map((_, tr) => ({
      id: $(tr).attr('data-id'),
      date: $(tr).find('.date').text(),
      amount: parseFloat($(tr).find('.amount').text()),
      fileurl: new URL($(tr).find('a.pdf').attr('href'), base).href,
      filename: `${$(tr).attr('data-id')}.pdf`,
    }))
    .get();
  log('info', `${bills.length} bills found`);

  // The request instance saveFiles builds for itself when no requestInstance is given.
  const download = requestFactory({ json: false, cheerio: false, userAgent: true, jar: true });
  let bytes = 0;
  for (const bill of bills) {
    const file = download({ uri: bill.fileurl, method: 'GET', jar: true });
    const target = path.join(outDir, bill.filename);
    await new Promise((resolve, reject) => {
      const out = fs.createWriteStream(target);
      file.on('error', reject);
      out.on('error', reject);
      out.on('finish', resolve);
      file.pipe(out);
    });
    bytes += fs.statSync(target).size;
  }
  console.log('BENCH_RESULT ' + JSON.stringify({ files: bills.length, bytes }));
});
