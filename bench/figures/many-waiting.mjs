import { existsSync } from 'node:fs';
import { notApplicable, notMeasured } from '../lib/outcome.mjs';
import { GLEANER_STACK_ENTRY } from '../lib/paths.mjs';

export const name = 'many-waiting';
export const title = '5. Many waiting runs';
export const goal = 'not set in the brief';
export const metrics = [
  { key: 'waitingRuns', label: 'runs waiting for a code at once', unit: '', digits: 0, better: 'higher' },
  { key: 'rssPerWaitingRunMB', label: 'memory per waiting run', unit: 'MB', digits: 1, better: 'lower' },
  {
    key: 'p99UnderLoadMs',
    label: 'code delivery p99 with all of them waiting',
    unit: 'ms',
    digits: 0,
    better: 'lower',
  },
];
export const notes = [
  'Many waiting runs: Gleaner only. The peer has no column here because what holds its waiting runs is cozy-stack (Go, CouchDB, one konnector process per job), which is not part of cozy-konnector-libs and is not installable on this machine; figure 3 fakes only the one endpoint a single run polls.',
];

export function runPeer() {
  return notApplicable('the peer has no stack here');
}

/*
 * Gleaner side, to wire when the stack exists: one stack on a temp GLEANER_DATA, N manual jobs whose
 * konnector waits in waitForTwoFaCode; sum the RSS of the stack and its konnector processes once all
 * N are waiting (divide by N), then submit the codes at random moments and take p99 as in figure 3.
 */
export function runGleaner() {
  if (!existsSync(GLEANER_STACK_ENTRY)) return notMeasured('stack not built');
  return notMeasured('stack built, but this figure is not wired to it yet');
}
