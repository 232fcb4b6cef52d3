import { HIGHER_IS_BETTER, type HeadTablePart } from '@sentencelab/runs/eval-keys';
import { LCM_COLUMNS, PAIRED_SEED_COLUMNS, SVAE_COLUMNS, columnsWithValues, contextCurves, horizonCurves, formatChange, lcmCell, lcmColumns, lcmParts, lcmTable, paperCell, paperChange, paperTable, paperTableOf, paperValue, seedTable, shortRunLabels, type PaperColumn } from '../shared/paper.js';
import { seedGroupsOf } from '../shared/seed-groups.js';
import { exportTable } from '../shared/table-export.js';
import type { RunRow } from '../shared/types.js';
import { barChart, lineChart } from './charts.js';
import { h, PALETTE, replaceChildren, select } from './dom.js';
import type { AppState } from './state.js';

/**
 * The paper view: a baseline and candidate runs in the SentenceVAE-style table (params, PPL,
 * tokens/s, KV KB/token with % change vs the baseline; a figure's 95% interval, or tok/s's
 * range over the timed passes, beside it where stored, and a change within overlapping
 * intervals or ranges marked, uncoloured) and the LCM heads' tables (as distributions, as
 * points, two sentences ahead; each paired difference with the head's baseline head or with
 * sampling the training embeddings coloured by its interval), with bar charts; the PPL by context tokens as one curve
 * per model; and, where runs differ only in their seed, each figure's mean, spread and n across
 * the seeds, with each run's paired comparison with its eval's baseline (PPL ratio, per-pass
 * tok/s ratio) pooled the same way. Columns no run has a figure for are left out.
 */
export function renderPaper(panel: HTMLElement, state: AppState, selected: RunRow[], allOk: RunRow[], update: (change: (s: AppState) => void) => void): void {
  const pool = selected.length > 0 ? selected : allOk;
  if (pool.length === 0) {
    replaceChildren(panel, h('p', { class: 'hint' }, 'No readable runs.'));
    return;
  }
  const baseline =
    pool.find((r) => r.id === state.paperBaseline) ??
    allOk.find((r) => r.id === state.paperBaseline) ??
    pool.find((r) => (r.info?.kind === 'token-lm' || /token/i.test(r.id)) && typeof r.eval?.ppl === 'number') ??
    pool.find((r) => paperTableOf(r) === 'lm') ??
    pool[0]!;
  const others = pool.filter((r) => r !== baseline);
  const candidates = others.filter((r) => paperTableOf(r) === 'lm');
  const svae = paperTable(baseline, candidates, SVAE_COLUMNS, true);
  // Only concept heads (or SentenceVAEs) chosen: no token LM or SLLM for the first table to compare.
  const hasLm = paperTableOf(baseline) === 'lm' || candidates.length > 0;
  const lcmRuns = [baseline, ...others].filter((r) => paperTableOf(r) === 'lcm');
  const lcmLabels = shortRunLabels(lcmRuns);
  const markdown = h('textarea', { id: 'paper-markdown', readonly: true, rows: 12, spellcheck: 'false' });
  const svaeTable = h(
    'table',
    { class: 'grid', id: 'paper-svae' },
    h('thead', {}, h('tr', {}, ...svae.header.map((c) => h('th', {}, c)))),
    h(
      'tbody',
      {},
      [baseline, ...candidates].map((run, ri) =>
        h(
          'tr',
          { class: run === baseline ? 'baseline' : null },
          h('td', { class: 'key' }, svae.rows[ri]![0]!),
          ...SVAE_COLUMNS.flatMap((c) => {
            const change = run === baseline ? undefined : paperChange(run, baseline, c);
            const title = change?.overlap ? OVERLAP_TITLES[change.overlap] : change?.paired ? PAIRED_TITLE : null;
            const changeCell = h('td', { class: `num change ${change?.overlap ? 'unresolved' : changeClass(c, change?.percent)}`, title }, change === undefined ? '' : formatChange(change));
            return [h('td', { class: 'num' }, paperCell(run, c) || '—'), changeCell];
          }),
        ),
      ),
    ),
  );
  const parts = lcmParts(lcmRuns);
  const svaeCharts = h('div', { class: 'bars', id: 'paper-bars' });
  const byContext = contextCurves([baseline, ...others]);
  const contextChart = h('div', { id: 'paper-context' });
  const seedGroups = seedGroupsOf([baseline, ...others]).filter((g) => g.length > 1);
  const seeds = seedTable(seedGroups, columnsWithValues(seedGroups.flat(), [...SVAE_COLUMNS, ...PAIRED_SEED_COLUMNS, ...LCM_COLUMNS]));
  const seedsTable = seedGroups.length
    ? h('table', { class: 'grid', id: 'paper-seeds' }, h('thead', {}, h('tr', {}, ...seeds.header.map((c) => h('th', {}, c)))), h('tbody', {}, seeds.rows.map((row) => h('tr', {}, ...row.map((c, i) => h('td', { class: i === 0 ? 'key' : 'num' }, c))))))
    : h('p', { class: 'hint' }, 'No runs that differ only in their seed.');
  const lcmCharts = h('div', { class: 'bars' });
  const byHorizon = horizonCurves(lcmRuns);
  const horizonChart = h('div', { id: 'paper-horizon' });
  replaceChildren(
    panel,
    h(
      'div',
      { class: 'controls' },
      h('label', {}, 'baseline ', select(allOk.map((r) => ({ value: r.id })), baseline.id, (v) => update((s) => (s.paperBaseline = v)), { id: 'paper-baseline' })),
      h('span', { class: 'counts' }, selected.length > 0 ? `candidates: the ${others.length} other selected runs` : 'candidates: all runs (select runs to narrow)'),
    ),
    h('h3', {}, 'SentenceVAE / SLLM vs token LM'),
    ...(hasLm ? [svaeTable, svaeCharts] : [h('p', { class: 'hint', id: 'paper-svae-none' }, 'No token LM or SLLM among these runs: select one (or choose one as the baseline) to compare them here.')]),
    h('h3', {}, 'PPL by context tokens behind each scored sentence'),
    byContext.curves.length ? contextChart : h('p', { class: 'hint' }, 'No run has PPL by context (eval ppl_by_context, written by the eval stage).'),
    h('h3', {}, 'Across seeds: mean ± std (n)'),
    seedsTable,
    ...(parts.length
      ? parts.flatMap((part) => [h('h3', {}, LCM_HEADINGS[part]), lcmTableElement(lcmRuns, lcmLabels, part)])
      : [h('h3', {}, 'Large Concept Model heads'), h('p', { class: 'hint' }, 'No run has LCM results (eval l2, contrastive_acc, roundtrip_l2, energy_score).')]),
    lcmCharts,
    ...(lcmRuns.length
      ? [
          h('h3', {}, "Energy score by horizon, minus the training distribution's"),
          byHorizon.curves.length ? horizonChart : h('p', { class: 'hint', id: 'paper-horizon-none' }, 'No concept head has an energy score by horizon (eval energy_score_by_horizon: an lcm stage writes it when it scores sentences ahead, aheadSentences above 0; aheadHorizon sets how far, 2 by default).'),
        ]
      : []),
    h('h3', {}, 'Markdown'),
    markdown,
  );
  const runsShown = [baseline, ...candidates];
  const svaeLabels = shortRunLabels(runsShown);
  if (hasLm) SVAE_COLUMNS.forEach((c, i) => chartFor(svaeCharts, c, runsShown, svaeLabels, PALETTE[i % PALETTE.length]!));
  if (byContext.curves.length) {
    lineChart(contextChart, {
      x: byContext.starts,
      series: byContext.curves.map((c, i) => ({ label: c.id, color: PALETTE[i % PALETTE.length]!, y: c.y })),
      xLabel: `context tokens (buckets ${byContext.buckets.join(', ')}; x = bucket start)`,
      yLabel: 'PPL',
      log: false,
    });
  }
  if (byHorizon.curves.length) {
    lineChart(horizonChart, {
      x: byHorizon.horizons,
      series: [
        ...byHorizon.curves.map((c, i) => ({ label: lcmLabels.get(c.run)!, color: PALETTE[i % PALETTE.length]!, y: c.y })),
        // The reference: at 0 a head's rollout is no better than sampling the training embeddings.
        { label: 'training distribution', color: '#999', width: 1, y: byHorizon.horizons.map(() => 0) },
      ],
      xLabel: "sentences ahead (1: teacher-forced; h: after the head's own h - 1 draws)",
      yLabel: 'ES - training dist. (lower is better)',
      log: false,
      integerX: true,
    });
  }
  markdown.value = [...(hasLm ? [svae] : []), ...parts.map((part) => lcmTable(lcmRuns, part))].map((t) => exportTable(t, 'markdown')).join('\n');
  if (lcmRuns.length) columnsWithValues(lcmRuns, LCM_COLUMNS).filter((c) => !c.difference).forEach((c, i) => chartFor(lcmCharts, c, lcmRuns, lcmLabels, PALETTE[(i + 4) % PALETTE.length]!));
}

function chartFor(holder: HTMLElement, column: PaperColumn, runs: RunRow[], labels: Map<RunRow, string>, color: string): void {
  const values = runs.map((r) => paperValue(r, column) ?? null);
  if (values.every((v) => v === null)) return;
  barChart(holder, column.label, runs.map((r) => labels.get(r)!), values, color);
}

/** Hover text of a change within overlapping intervals or ranges. */
const OVERLAP_TITLES = {
  intervals: 'the 95% intervals overlap: taken run by run, these documents do not resolve the difference',
  ranges: 'the ranges of the timed passes overlap',
  paired: 'the paired 95% interval (the same documents drawn for both runs) includes no change: not resolved',
} as const;
/** Hover text of a change that its paired interval resolves. */
const PAIRED_TITLE = 'paired 95% interval of the change: the same documents drawn for both runs, so what they share cancels';

/** Green when the change is an improvement (PPL, KV, params, L2 down; speed, accuracy up). */
function changeClass(column: PaperColumn, change: number | undefined): string {
  if (change === undefined || change === 0) return '';
  return change > 0 === HIGHER_IS_BETTER.has(column.key) ? 'better' : 'worse';
}

/** The heading of each LCM table. */
const LCM_HEADINGS: Record<HeadTablePart, string> = {
  distribution: 'Large Concept Model heads as distributions of the next vector (lower energy score is better; spread / skill is 1 for draws as spread as the targets)',
  point: "Large Concept Model heads as points (the LCM paper's figures)",
  ahead: 'Large Concept Model heads two sentences ahead, each reading its own draw of the sentence before (lower energy score is better)',
};

/** Hover text of a paired difference's cell, by where its interval lies against 0. */
const VERDICT_TITLES = {
  better: 'paired 95% interval over documents (the same targets for both): wholly on the better side of 0',
  worse: 'paired 95% interval over documents (the same targets for both): wholly on the worse side of 0',
  unresolved: 'the paired 95% interval includes 0: not resolved by these documents',
} as const;

/** One of the LCM tables: a row per head, the part's columns any head has; each paired difference coloured by its interval. */
function lcmTableElement(runs: readonly RunRow[], labels: Map<RunRow, string>, part: HeadTablePart): HTMLElement {
  const columns = lcmColumns(runs, part);
  return h(
    'table',
    { class: 'grid', id: `paper-lcm-${part}` },
    h('thead', {}, h('tr', {}, h('th', {}, 'Run'), ...columns.map((c) => h('th', {}, c.label)))),
    h(
      'tbody',
      {},
      runs.map((run) =>
        h(
          'tr',
          {},
          h('td', { class: 'key' }, labels.get(run)!),
          ...columns.map((c) => {
            const cell = lcmCell(run, c);
            return h('td', { class: cell.verdict ? `num change ${cell.verdict}` : 'num', title: cell.verdict ? VERDICT_TITLES[cell.verdict] : null }, cell.text || '—');
          }),
        ),
      ),
    ),
  );
}
