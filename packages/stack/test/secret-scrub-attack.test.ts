import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import type { JobLogLine } from '@gleaner/contracts';
import { SseClient, startTestApi } from './api-fixtures/http.js';
import { databaseBytes, EventRecorder, FIXTURES, isJobEnded, openStack, tmpDataDir } from './helpers/stack-harness.js';

const KONNECTOR = join(FIXTURES, 'scrub-attack');
/** Spaces, quotes, a slash, a plus, non-ASCII: every encoding changes it. */
const PASSWORD = 'Scrub me/"ü"+canary-71q';

type Forms = Record<string, string>;

/** Every base64 run of `text`, decoded from each of its four possible starts. */
function base64Readings(text: string): string[] {
  const readings: string[] = [];
  for (const run of text.match(/[A-Za-z0-9+/_=-]{6,}/g) ?? []) {
    const normal = run.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
    for (let start = 0; start < 4; start++) {
      const slice = normal.slice(start);
      readings.push(Buffer.from(slice.slice(0, slice.length - (slice.length % 4)), 'base64').toString('utf8'));
    }
  }
  return readings;
}

/** What of the password a stored text still shows: a form, the start of one (8 characters), or base64 of it. */
function leaks(text: string, forms: Forms): string[] {
  const found: string[] = [];
  for (const [name, form] of Object.entries(forms)) {
    // The JSON forms' quotes and the base64 forms' neighbours are not the secret: their inside is.
    const inside =
      name === 'jsonInUrl'
        ? encodeURIComponent(JSON.stringify(PASSWORD).slice(1, -1))
        : name.startsWith('json')
          ? form.slice(1, -1)
          : form;
    if (text.includes(inside)) found.push(name);
    else if (!name.startsWith('base64At') && name !== 'basicAuth' && text.includes(inside.slice(0, 8))) {
      found.push(`start of ${name}`);
    }
  }
  // Half the password is a leak too, in whatever base64 alignment.
  const half = PASSWORD.slice(0, Math.ceil(PASSWORD.length / 2));
  if (base64Readings(text).some((reading) => reading.includes(half))) found.push('base64 reading');
  return found;
}

describe('a konnector that logs its password in every form it can take', () => {
  it('gets none of them into the stored job log, the API, the event streams or the database', async () => {
    const dataDir = tmpDataDir();
    const stack = await openStack(dataDir, { konnectorDirs: [KONNECTOR] });
    const recorder = new EventRecorder(stack);
    const api = await startTestApi(stack);
    const { forms } = (await import(pathToFileURL(join(KONNECTOR, 'forms.js')).href)) as {
      forms: (password: string) => Forms;
    };
    const printed = forms(PASSWORD);
    try {
      const session = await api.login();
      const sse = await SseClient.open(`${api.url}/api/events`, {
        cookie: session.cookie,
      });
      assert.equal(sse.status, 200);
      const account = await stack.accounts.create({
        konnector: 'scrub-attack',
        fields: { login: 'ada', secret: PASSWORD },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      const ended = await recorder.waitFor(isJobEnded(job.id), 'the end of the job', 60_000);
      assert.equal(ended.job.status, 'done', `job ended ${ended.job.error}`);
      await stack.events.flush();

      const stored = await stack.jobs.logs(job.id);
      const messages = stored.map((line) => line.message);
      assert.ok(messages.includes('done printing'), 'the run printed to its end');
      // Every channel's lines came through: the check below looks at them, not at an empty log.
      for (const channel of ['stdout', 'stderr', 'sdk']) {
        const short = messages.filter((m) => m.startsWith(`${channel} `) && !m.startsWith(`${channel} long`));
        const long = messages.filter((m) => m.startsWith(`${channel} long`));
        assert.equal(short.length, Object.keys(printed).length, `${channel}: one short line per form`);
        assert.equal(long.length, Object.keys(printed).length, `${channel}: one long line per form`);
        for (const line of short) assert.match(line, /\[redacted\]/, `${channel}: ${line}`);
        for (const line of long) {
          assert.ok(line.length <= 4001, `${channel}: cut to 4000 characters`);
          assert.ok(line.endsWith('…'), `${channel}: the cut is shown`);
          // The SDK scrubbed and cut its line before sending it; the stack keeps no tail of a line
          // at the cut's length (it may hold the start of a secret cut there), so no marker shows.
          if (channel !== 'sdk') {
            assert.ok(line.includes('[redacted]'), `${channel}: the form across the cut is redacted, not cut: ${line.slice(3900)}`);
          }
        }
      }
      const unended = messages.find((m) => m.startsWith('wwww'));
      assert.ok(unended, 'the line without end is logged');
      assert.ok(unended.length <= 4001);
      // What follows the runner's bound is dropped, never stored as a line starting inside the password.
      assert.ok(!messages.some((m) => /^[vyz]/.test(m)), 'no line made of the rest of a long one');

      const problems = (where: string, text: string) => leaks(text, printed).map((leak) => `${where}: ${leak}`);
      const all = [
        ...stored.flatMap((line) => problems(`stored line ${line.seq}`, line.message)),
        ...recorder.events
          .filter((e) => e.type === 'job.log')
          .flatMap((e) => problems('event', (e as { line: JobLogLine }).line.message)),
      ];

      const viaApi = await api.call(`/api/jobs/${job.id}/logs`, { session });
      assert.equal(viaApi.status, 200);
      const apiLines = viaApi.body as JobLogLine[];
      assert.equal(apiLines.length, stored.length);
      all.push(...apiLines.flatMap((line) => problems(`API line ${line.seq}`, line.message)));

      const sseLogs = sse.events.filter((e) => e.type === 'job.log') as Array<{ line: JobLogLine }>;
      assert.equal(sseLogs.length, stored.length, 'the event stream carried every line');
      all.push(...sseLogs.flatMap((e) => problems(`SSE line ${e.line.seq}`, e.line.message)));
      await sse.close();

      all.push(...problems('database', databaseBytes(dataDir)));
      assert.deepEqual(all, []);
    } finally {
      recorder.stop();
      await api.close();
      await stack.close(1000);
    }
  });
});
