// Measures Gleaner against cozy-konnector-libs and prints one table; raw results go to
// bench/results/latest.json. `node bench/run.mjs [figure …]` runs a subset (names below).
import { installPeer } from './peer/install.mjs';
import * as coldStart from './figures/cold-start.mjs';
import * as fetchParse from './figures/fetch-parse.mjs';
import * as codeDelivery from './figures/code-delivery.mjs';
import * as codeDeliveryCluster from './figures/code-delivery-cluster.mjs';
import * as wholeRun from './figures/whole-run.mjs';
import * as manyWaiting from './figures/many-waiting.mjs';
import * as sandbox from './figures/sandbox.mjs';
import * as cluster from './figures/cluster.mjs';
import * as mailboxDelivery from './figures/mailbox-delivery.mjs';
import { rssMethod } from './lib/measure.mjs';
import { progress } from './lib/progress.mjs';
import { writeResults } from './lib/results.mjs';
import { RESULTS_FILE } from './lib/paths.mjs';
import { renderTable } from './lib/table.mjs';
import { removeWorkdirs } from './lib/workdir.mjs';

const FIGURES = [coldStart, fetchParse, codeDelivery, codeDeliveryCluster, wholeRun, manyWaiting, sandbox, cluster, mailboxDelivery];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => !FIGURES.some((f) => f.name === n));
if (unknown.length) {
  console.error(`unknown figure(s): ${unknown.join(', ')}; known: ${FIGURES.map((f) => f.name).join(', ')}`);
  process.exit(2);
}
const selected = wanted.length ? FIGURES.filter((f) => wanted.includes(f.name)) : FIGURES;

/** Runs one side and turns every way it can end into a plain record for the table and the JSON. */
async function side(figure, fn, label) {
  if (!fn) return { notApplicable: 'no runner' };
  progress(`${figure.title}: ${label}…`);
  const started = performance.now();
  try {
    const outcome = (await fn()) ?? { notMeasured: 'no reason given' };
    const durationMs = Math.round(performance.now() - started);
    if (outcome.metrics) progress(`${figure.title}: ${label} done in ${(durationMs / 1000).toFixed(1)} s`);
    else progress(`${figure.title}: ${label}: ${outcome.notMeasured ? 'not measured: ' + outcome.notMeasured : 'n/a'}`);
    return { ...outcome, durationMs };
  } catch (err) {
    progress(`${figure.title}: ${label} FAILED\n${err.stack ?? err}`);
    return { failed: String(err.message ?? err).split('\n')[0], durationMs: Math.round(performance.now() - started) };
  }
}

function cell(outcome, metric) {
  if (!outcome) return '';
  if (outcome.failed) return `failed: ${outcome.failed}`;
  if (outcome.notMeasured) return `not measured: ${outcome.notMeasured}`;
  if (outcome.notApplicable) return 'n/a';
  return formatValue(outcome.metrics[metric.key], metric);
}

function formatValue(value, metric) {
  if (value === undefined || Number.isNaN(value)) return '?';
  const digits = metric.digits ?? 1;
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return metric.unit ? `${text} ${metric.unit}` : text;
}

/** How many times better Gleaner is (>1 is better), whichever direction the metric runs. */
function ratioOf(metric, gleaner, peer) {
  const g = gleaner?.metrics?.[metric.key];
  const p = peer?.metrics?.[metric.key];
  if (g === undefined || p === undefined || metric.better === 'info') return undefined;
  return metric.better === 'higher' ? g / p : p / g;
}

/** How many times better now is than before (>1 is better). */
function improvementOf(metric, now, before) {
  const n = now?.metrics?.[metric.key];
  const b = before?.metrics?.[metric.key];
  if (n === undefined || b === undefined || metric.better === 'info') return undefined;
  return metric.better === 'higher' ? n / b : b / n;
}

function goalCell(metric, ratio, gleaner) {
  if (metric.goalMax !== undefined) {
    const value = gleaner?.metrics?.[metric.key];
    if (value === undefined) return metric.goalText;
    return `${metric.goalText} ${value <= metric.goalMax ? 'met' : 'NOT met'}`;
  }
  if (!metric.goalRatio) return metric.goalText ?? '';
  if (ratio === undefined) return metric.goalText;
  return `${metric.goalText} ${ratio >= metric.goalRatio ? 'met' : 'NOT met'}`;
}

const startedAt = new Date().toISOString();
const peerVersion = installPeer({ log: progress });
progress(`peer: cozy-konnector-libs@${peerVersion}; peak memory by ${rssMethod}`);

const results = [];
try {
  for (const figure of selected) {
    const record = { name: figure.name, title: figure.title, goal: figure.goal, metrics: figure.metrics };
    if (figure.runBaseline) record.baseline = await side(figure, figure.runBaseline, 'baseline');
    record.peer = await side(figure, figure.runPeer, 'cozy-konnector-libs');
    record.gleaner = await side(figure, figure.runGleaner, 'Gleaner');
    if (figure.runBefore) record.before = await side(figure, figure.runBefore, `Gleaner before (${figure.beforeLabel})`);
    record.ratios = Object.fromEntries(figure.metrics.map((m) => [m.key, ratioOf(m, record.gleaner, record.peer)]));
    results.push(record);
  }
} finally {
  removeWorkdirs();
}

const rows = [];
for (const [i, figure] of selected.entries()) {
  const record = results[i];
  if (record.baseline) {
    for (const m of figure.metrics) {
      const value = cell(record.baseline, m);
      rows.push([
        `${figure.title} — baseline \`node -e 0\`: ${m.baselineLabel ?? m.label}`,
        value,
        value,
        '',
        'reference',
      ]);
    }
  }
  for (const m of figure.metrics) {
    const ratio = record.ratios[m.key];
    rows.push([
      `${figure.title} — ${m.label}`,
      cell(record.gleaner, m),
      cell(record.peer, m),
      ratio === undefined ? '' : `${ratio.toFixed(2)}×`,
      goalCell(m, ratio, record.gleaner),
    ]);
  }
  if (record.before) {
    for (const m of figure.metrics) {
      if (m.better === 'info') continue;
      const gain = improvementOf(m, record.gleaner, record.before);
      rows.push([`${figure.title} — before (${figure.beforeLabel}): ${m.label}`, cell(record.before, m), '', gain === undefined ? '' : `${gain.toFixed(2)}×`, '']);
    }
  }
}

console.log(renderTable(['figure', 'Gleaner', `cozy-konnector-libs ${peerVersion}`, 'ratio', 'goal'], rows));
console.log(
  '\nratio: how many times better Gleaner is (peer ÷ Gleaner for times and memory, Gleaner ÷ peer for rates).',
);
for (const figure of selected) for (const note of figure.notes ?? []) console.log(`- ${note}`);
console.log(`- Peak memory: ${rssMethod}.`);
if (results.some((r) => r.before)) console.log('- "before" rows: the same figure for an earlier SDK; their ratio is how many times better the SDK is now.');

const file = writeResults(RESULTS_FILE, {
  figures: results,
  startedAt,
  finishedAt: new Date().toISOString(),
  peerVersion,
});
console.log(`\nraw results: ${file}`);
process.exitCode = results.some((r) => r.peer?.failed || r.gleaner?.failed || r.baseline?.failed || r.before?.failed) ? 1 : 0;
