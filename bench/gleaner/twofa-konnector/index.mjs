// Figures 3, 5 and 8 (Gleaner): the konnector side of code delivery. It waits for a code (by SMS, or
// the `twofaType` field's type: figure 8 waits for an e-mail the stack reads from the mailbox), takes
// the moment waitForTwoFaCode returned on the machine's shared clock, and prints
// BENCH_CODE {"t","sha"} on stdout, which the stack forwards to the job log (and the event stream).
// The code itself would be scrubbed from the job log ("[redacted]"), so it reports a digest the bench
// checks against the code it posted. holdMs keeps the process alive after the code (figure 5 keeps
// every run resident while the other codes are delivered).
import { createHash } from 'node:crypto';
import { BaseKonnector } from '@gleaner/konnector';

await new BaseKonnector(async function fetch(fields) {
  await this.deactivateAutoSuccessfulLogin();
  const code = await this.waitForTwoFaCode({ type: fields.twofaType || 'sms' });
  const t = performance.timeOrigin + performance.now();
  const sha = createHash('sha256').update(code).digest('hex').slice(0, 16);
  console.log('BENCH_CODE ' + JSON.stringify({ t, sha }));
  await this.notifySuccessfulLogin();
  const holdMs = Number(fields.holdMs ?? 0);
  if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
}).run();
