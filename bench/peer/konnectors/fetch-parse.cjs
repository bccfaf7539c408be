// Figure 2 (peer): sequential GET + cheerio parse + query with its requestFactory and a cookie jar.
// Prints one line: BENCH_RESULT {"requests", "ms", "rows", "href"}.
const { requestFactory } = require('cozy-konnector-libs');

const url = process.env.BENCH_URL;
const count = Number(process.env.BENCH_REQUESTS);
const warmup = Number(process.env.BENCH_WARMUP);
const budgetMs = Number(process.env.BENCH_BUDGET_MS);

const request = requestFactory({ cheerio: true, jar: true });

async function once() {
  const $ = await request(url);
  const rows = $('table#bills tbody tr.bill');
  const href = rows.last().find('a.pdf').attr('href');
  if (rows.length < 50 || !href) throw new Error(`unexpected page: ${rows.length} rows, href ${href}`);
  return { rows: rows.length, href };
}

(async () => {
  for (let i = 0; i < warmup; i++) await once();
  const started = performance.now();
  let done = 0;
  let last;
  while (done < count && performance.now() - started < budgetMs) {
    last = await once();
    done++;
  }
  const ms = performance.now() - started;
  console.log('BENCH_RESULT ' + JSON.stringify({ requests: done, ms, ...last }));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
