// Figure 3 (peer): how long after a person submits a code does waitForTwoFaCode return?
// Runs in the peer's production mode against bench/lib/fake-cozy-stack.mjs (COZY_URL,
// COZY_CREDENTIALS, COZY_FIELDS.account, COZY_JOB_MANUAL_EXECUTION=true) with its default heartbeat.
// Prints BENCH_CODE {"code", "t"} where t is wall-clock ms from performance.timeOrigin, the same
// clock the harness stamps the submission with.
const { BaseKonnector } = require('cozy-konnector-libs');

module.exports = new BaseKonnector(async function fetch() {
  await this.deactivateAutoSuccessfulLogin();
  const code = await this.waitForTwoFaCode({ type: 'sms' });
  const t = performance.timeOrigin + performance.now();
  console.log('BENCH_CODE ' + JSON.stringify({ code, t }));
  process.exit(0);
});
