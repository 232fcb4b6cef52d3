import type { EvalKey } from '@sentencelab/runs';
import { ES_BY_HORIZON_KEY, headTablePart, HIGHER_IS_BETTER, PAIRED_COMPARISONS, PPL_BY_CONTEXT_KEY, type HeadTablePart, pairedBaselineKey, pairedBoundsKeys, pairedSide, storedBounds, storedSpread, type StoredSpread } from '@sentencelab/runs/eval-keys';
import { seedSpread, type SeedSpread } from '@sentencelab/metrics/seeds';
import { formatNumber, formatValue, formatWithSpread } from './flatten.js';
import type { PlainTable } from './table-export.js';
import type { RunRow } from './types.js';

/** One column of the paper tables: an `eval` key of the one list (`EVAL_METRICS` in `@sentencelab/runs`). */
export interface PaperColumn {
  key: EvalKey;
  label: string;
  /** Shown value = eval value * scale (KV bytes -> KB). */
  scale: number;
}

/** The SentenceVAE-style table: each with % change vs the baseline. */
export const SVAE_COLUMNS: PaperColumn[] = [
  { key: 'params', label: 'Params', scale: 1 },
  { key: 'ppl', label: 'PPL', scale: 1 },
  // Per byte of the same text: comparable where PPL per token is not (units or tokenizers that differ).
  { key: 'bits_per_byte', label: 'Bits/byte', scale: 1 },
  { key: 'tokens_per_s', label: 'Tokens/s', scale: 1 },
  { key: 'kv_bytes_per_token', label: 'KV KB/token', scale: 1 / 1024 },
];

/**
 * The across-seeds table also pools each run's comparison with the baseline its own eval paired
 * it with (the same seed's token LM, on the same documents and interleaved passes): a mean of
 * per-seed paired ratios, which the ratio of two seed means is not.
 */
export const PAIRED_SEED_COLUMNS: PaperColumn[] = [
  { key: 'ppl_ratio', label: 'PPL / eval baseline (paired)', scale: 1 },
  // Over the token LM trained with the run's own training FLOPs (a token-lm with flopsOf: it), paired likewise.
  { key: 'ppl_ratio_matched', label: 'PPL / compute-matched token LM (paired)', scale: 1 },
  { key: 'tokens_per_s_ratio', label: 'Tokens/s / eval baseline (per pass)', scale: 1 },
];

/**
 * A column of the Large Concept Model tables (which of the three it sits in: `headTablePart` of
 * its key, as the eval splits its tables), and whether it is a paired difference (with the
 * baseline head its eval named, or with sampling the training embeddings): such a cell is
 * coloured by its paired interval, and names the head it was paired with.
 */
export interface LcmColumn extends PaperColumn {
  difference: boolean;
}

/**
 * The Large Concept Model tables, as `pnpm exp`'s eval prints them. As distributions: the energy
 * score, which rates a head as a distribution of the next vector, against the posterior means and,
 * over a variational SentenceVAE, against a posterior draw, each with its paired difference to
 * sampling the training embeddings (below 0: the head learned something from the context) and to
 * its baseline head. As points: the LCM paper's figures (L2 counts a sampling head's spread
 * against it), L2 and contrastive accuracy paired with the baseline head too. Two sentences
 * ahead: the energy scores of a head that reads its own draw of the sentence before as context.
 */
export const LCM_COLUMNS: LcmColumn[] = [
  { key: 'energy_score', label: 'Energy score', scale: 1, difference: false },
  { key: 'energy_score_diff_train_dist', label: 'ES − train-dist (paired)', scale: 1, difference: true },
  { key: 'energy_score_diff', label: 'ES − baseline head (paired)', scale: 1, difference: true },
  // Diagnostics, not verdicts (1: draws as spread as the targets; no better side by itself): uncoloured.
  { key: 'spread_ratio', label: 'Spread / skill', scale: 1, difference: false },
  // On validation documents, to choose a sampler on: figures, not differences.
  { key: 'val_energy_score', label: 'Val. energy score', scale: 1, difference: false },
  { key: 'val_spread_ratio', label: 'Val. spread / skill', scale: 1, difference: false },
  { key: 'energy_score_posterior', label: 'ES posterior', scale: 1, difference: false },
  { key: 'energy_score_posterior_diff_train_dist', label: 'ES post. − train-dist (paired)', scale: 1, difference: true },
  { key: 'energy_score_posterior_diff', label: 'ES post. − baseline head (paired)', scale: 1, difference: true },
  { key: 'spread_ratio_posterior', label: 'Spread / skill post.', scale: 1, difference: false },
  { key: 'l2', label: 'L2', scale: 1, difference: false },
  { key: 'l2_diff', label: 'L2 − baseline head (paired)', scale: 1, difference: true },
  { key: 'contrastive_acc', label: 'Contrastive acc.', scale: 1, difference: false },
  { key: 'contrastive_acc_diff', label: 'Contr. acc. − baseline head (paired)', scale: 1, difference: true },
  { key: 'roundtrip_l2', label: 'Round-trip L2', scale: 1, difference: false },
  { key: 'energy_score_ahead', label: 'ES 2 ahead', scale: 1, difference: false },
  { key: 'energy_score_ahead_diff_train_dist', label: 'ES 2 ahead − train-dist (paired)', scale: 1, difference: true },
  // A diagnostic, not a verdict (above 0 its own context costs it; below 0 its rollouts' spread suits the targets better): uncoloured.
  { key: 'energy_score_ahead_diff_next', label: 'ES 2 ahead − next (paired)', scale: 1, difference: false },
  { key: 'spread_ratio_ahead', label: 'Spread / skill 2 ahead', scale: 1, difference: false },
  { key: 'energy_score_ahead_diff', label: 'ES 2 ahead − baseline head (paired)', scale: 1, difference: true },
  { key: 'energy_score_ahead_posterior', label: 'ES 2 ahead post.', scale: 1, difference: false },
  { key: 'energy_score_ahead_posterior_diff_train_dist', label: 'ES 2 ahead post. − train-dist (paired)', scale: 1, difference: true },
  { key: 'energy_score_ahead_posterior_diff', label: 'ES 2 ahead post. − baseline head (paired)', scale: 1, difference: true },
];

/** The columns of `columns` that at least one of `runs` has a figure for. */
export function columnsWithValues<C extends PaperColumn>(runs: readonly RunRow[], columns: readonly C[]): C[] {
  return columns.filter((c) => runs.some((r) => paperValue(r, c) !== undefined));
}

/**
 * A cell of the LCM tables: the figure with its interval and, for a difference with the baseline
 * head, that head's name (`-0.077 [-0.095, -0.057] vs one-tower`); a difference's side of 0 by its
 * paired interval (`better`, `worse`, `unresolved` where it includes 0), else none.
 */
export interface LcmCell {
  text: string;
  verdict?: 'better' | 'worse' | 'unresolved';
}

export function lcmCell(row: RunRow, column: LcmColumn): LcmCell {
  const text = paperCell(row, column);
  if (text === '' || !column.difference) return { text };
  const against = row.eval?.[pairedBaselineKey(column.key)];
  const named = typeof against === 'string' ? `${text} vs ${against}` : text;
  const spread = paperSpread(row, column);
  if (spread?.kind !== 'interval') return { text: named };
  const side = pairedSide({ key: column.key, op: 'difference', bounds: 'interval' }, spread);
  if (side === 'same') return { text: named };
  const verdict = side === 'includes' ? 'unresolved' : (side === 'above') === HIGHER_IS_BETTER.has(column.key) ? 'better' : 'worse';
  return { text: named, verdict };
}

/** The columns of one LCM table that some of `runs` has a figure for. */
export function lcmColumns(runs: readonly RunRow[], part: HeadTablePart): LcmColumn[] {
  return columnsWithValues(runs, LCM_COLUMNS.filter((c) => headTablePart(c.key) === part));
}

/** The LCM tables that some of `runs` has a figure for, in order (distribution, point, ahead). */
export function lcmParts(runs: readonly RunRow[]): HeadTablePart[] {
  return (['distribution', 'point', 'ahead'] as const).filter((part) => lcmColumns(runs, part).length > 0);
}

/** One of the LCM tables as plain text (the Markdown export): a row per run, the part's columns that any run has. */
export function lcmTable(runs: readonly RunRow[], part: HeadTablePart): PlainTable {
  const columns = lcmColumns(runs, part);
  const labels = shortRunLabels(runs);
  return { header: ['Run', ...columns.map((c) => c.label)], rows: runs.map((r) => [labels.get(r)!, ...columns.map((c) => lcmCell(r, c).text)]) };
}

/**
 * Which paper table a run belongs to, from the stage kind `pnpm exp` records (meta.json
 * backendInfo.kind): token LM and SLLM runs in the PPL table, LCM heads in the LCM table, the
 * rest (SentenceVAE, ...) in neither. A run without a kind goes where its eval keys say.
 */
export function paperTableOf(row: RunRow): 'lm' | 'lcm' | undefined {
  const kind = row.info?.['kind'];
  if (typeof kind === 'string') {
    if (kind === 'token-lm' || kind === 'sllm') return 'lm';
    return kind.startsWith('lcm') ? 'lcm' : undefined;
  }
  if (paperValue(row, SVAE_COLUMNS[1]!) !== undefined) return 'lm';
  return LCM_COLUMNS.some((c) => paperValue(row, c) !== undefined) ? 'lcm' : undefined;
}

/** A run id without `pnpm exp`'s time-stamp suffix (`lm-20261204-181500-a1b2` -> `lm`). */
const STAMP = /-\d{8}-\d{6}-[0-9a-f]{4}$/;

/**
 * Short labels for the runs of one table: ids without their time stamp, and without the
 * experiment when all share one. Runs whose short labels coincide (the points of a sweep, a
 * trained head and its forks under another sampler) are told apart by the config keys whose
 * values differ among them, `two-tower (model.guidance.scale=1, model.sampling.initialNoiseScale=0.6)`:
 * the keys of the run's own stage (`stages.<stage>.`, without that prefix) where any differ, else
 * all of them; a run still ambiguous (the same config) keeps its full id.
 */
export function shortRunLabels(rows: readonly RunRow[]): Map<RunRow, string> {
  const oneExperiment = new Set(rows.map((r) => r.experiment)).size === 1;
  const short = rows.map((r) => (oneExperiment ? r.runId : r.id).replace(STAMP, ''));
  const labels = new Map<RunRow, string>();
  for (const name of new Set(short)) {
    const group = rows.filter((_, i) => short[i] === name);
    const named = group.length === 1 ? [name] : group.map((r) => withDifferingConfig(name, r, group));
    group.forEach((r, i) => labels.set(r, named.indexOf(named[i]!) === named.lastIndexOf(named[i]!) ? named[i]! : r.id));
  }
  return labels;
}

/** `name (key=value, ...)`: the config keys whose values differ within `group`, the run's own stage's first ({@link shortRunLabels}); `name` when none differ. */
function withDifferingConfig(name: string, run: RunRow, group: readonly RunRow[]): string {
  const keys = [...new Set(group.flatMap((r) => Object.keys(r.config ?? {})))].sort();
  const differing = keys.filter((k) => new Set(group.map((r) => JSON.stringify(r.config?.[k] ?? null))).size > 1);
  const stage = run.info?.['stage'];
  const prefix = typeof stage === 'string' ? `stages.${stage}.` : undefined;
  const own = prefix === undefined ? [] : differing.filter((k) => k.startsWith(prefix));
  const shown = own.length > 0 ? own : differing;
  if (shown.length === 0) return name;
  return `${name} (${shown.map((k) => `${own.length > 0 ? k.slice(prefix!.length) : k}=${formatValue(run.config?.[k] ?? null)}`).join(', ')})`;
}

export function paperValue(row: RunRow, column: PaperColumn): number | undefined {
  const v = row.eval?.[column.key];
  return typeof v === 'number' && Number.isFinite(v) ? v * column.scale : undefined;
}

/**
 * How far a figure could be off, as stored beside it, scaled like the figure: its 95% interval
 * over documents (`<key>_ci_low/_high`), else the range of its repeated measurements
 * (`<key>_min/_max`: the bench's tok/s passes); undefined when the run stored neither.
 */
export function paperSpread(row: RunRow, column: PaperColumn): StoredSpread | undefined {
  const s = storedSpread(row.eval, column.key);
  return s && { kind: s.kind, low: s.low * column.scale, high: s.high * column.scale };
}

/** A run's figure as the paper tables show it: `52.1 [47.46, 57.02]` with a 95% interval, `2100 (1900-2300)` with a range; '' when missing. */
export function paperCell(row: RunRow, column: PaperColumn): string {
  const v = paperValue(row, column);
  if (v === undefined) return '';
  const s = paperSpread(row, column);
  return s === undefined ? formatNumber(v) : formatWithSpread(v, s);
}

/**
 * A change against the baseline: the percent, and `overlap` when it is not resolved: both runs'
 * intervals (or ranges) overlap, or, where the eval paired the two runs, the paired interval
 * (`paired`, in percent) includes no change.
 */
export interface PaperChange {
  percent: number | undefined;
  overlap?: 'intervals' | 'ranges' | 'paired';
  paired?: { low: number; high: number };
}

/**
 * The paired 95% interval of the run's figure over the baseline's, as percent changes, where the
 * eval that wrote the run's figure paired it with this very baseline run: its stored ratio names
 * the baseline's stage, and both runs' scored ids and figures are the ones it divided.
 */
function pairedPercent(row: RunRow, baseline: RunRow, column: PaperColumn): { low: number; high: number } | undefined {
  // Only a paired interval (PPL) can be checked against the two runs' figures (ratio = value / base);
  // tok/s's per-pass ratio is a median over passes, which the runs' medians do not give back.
  const paired = PAIRED_COMPARISONS.get(column.key);
  if (paired?.op !== 'ratio' || paired.bounds !== 'interval' || row.eval === undefined || baseline.eval === undefined) return undefined;
  const ratioKey = paired.key;
  const ratio = row.eval[ratioKey];
  const ci = storedBounds(row.eval, pairedBoundsKeys(paired));
  const value = row.eval[column.key];
  const base = baseline.eval[column.key];
  if (typeof ratio !== 'number' || ci === undefined || typeof value !== 'number' || typeof base !== 'number' || base === 0) return undefined;
  const sameBaseline =
    row.eval[pairedBaselineKey(ratioKey)] === baseline.info?.['stage'] &&
    row.eval['ppl_fingerprint'] !== undefined &&
    row.eval['ppl_fingerprint'] === baseline.eval['ppl_fingerprint'] &&
    Math.abs(value / base - ratio) <= 1e-9 * Math.abs(ratio);
  return sameBaseline ? { low: (ci.low - 1) * 100, high: (ci.high - 1) * 100 } : undefined;
}

export function paperChange(row: RunRow, baseline: RunRow, column: PaperColumn): PaperChange {
  const percent = percentChange(paperValue(row, column), paperValue(baseline, column));
  const paired = percent === undefined ? undefined : pairedPercent(row, baseline, column);
  if (paired) return paired.low <= 0 && paired.high >= 0 ? { percent, paired, overlap: 'paired' } : { percent, paired };
  const a = paperSpread(row, column);
  const b = paperSpread(baseline, column);
  const overlap = percent !== undefined && a !== undefined && b !== undefined && a.kind === b.kind && a.low <= b.high && b.low <= a.high;
  return overlap ? { percent, overlap: a.kind === 'interval' ? 'intervals' : 'ranges' } : { percent };
}

/**
 * `+15.0%`; with a paired interval `+12.1% [+10.5%, +13.5%] paired`; `+15.0% (intervals overlap)`
 * / `(ranges overlap)` when the runs' own intervals or ranges overlap; '' without a change.
 */
export function formatChange(change: PaperChange): string {
  const p = formatPercent(change.percent);
  if (p === '') return p;
  if (change.paired) return `${p} [${formatPercent(change.paired.low)}, ${formatPercent(change.paired.high)}] paired`;
  return change.overlap !== undefined ? `${p} (${change.overlap} overlap)` : p;
}

/** (value - base) / base in percent; undefined when either is missing or base is 0. */
export function percentChange(value: number | undefined, base: number | undefined): number | undefined {
  if (value === undefined || base === undefined || base === 0) return undefined;
  return ((value - base) / Math.abs(base)) * 100;
}

export function formatPercent(p: number | undefined): string {
  if (p === undefined) return '';
  const r = Math.round(p * 10) / 10;
  return `${r > 0 ? '+' : ''}${r.toFixed(1)}%`;
}

/** Baseline first, then candidates; with `withChange`, a "Δ" column after each value column. */
export function paperTable(baseline: RunRow, candidates: readonly RunRow[], columns: readonly PaperColumn[], withChange: boolean): PlainTable {
  const header = ['Run'];
  for (const c of columns) header.push(c.label, ...(withChange ? [`Δ ${c.label}`] : []));
  const labels = shortRunLabels([baseline, ...candidates]);
  const rows = [baseline, ...candidates].map((run) => {
    const cells = [run === baseline ? `${labels.get(run)!} (baseline)` : labels.get(run)!];
    for (const c of columns) {
      cells.push(paperCell(run, c));
      if (withChange) cells.push(run === baseline ? '' : formatChange(paperChange(run, baseline, c)));
    }
    return cells;
  });
  return { header, rows };
}

/** `48.70 ± 1.20 (n=3)`: mean ± sample standard deviation over the seeds (as `pnpm exp results`); one seed: `48.70 (n=1)`. */
export function formatSeedStats(s: SeedSpread | undefined): string {
  if (s === undefined) return '';
  return s.sd === undefined ? `${formatNumber(s.mean)} (n=${s.n})` : `${formatNumber(s.mean)} ± ${formatNumber(s.sd)} (n=${s.n})`;
}

/** The seed spread (metrics' `seedSpread`) of the values present; undefined when none is. */
export function seedStats(values: readonly (number | undefined)[]): SeedSpread | undefined {
  return seedSpread(values.filter((x): x is number => x !== undefined));
}

/**
 * Across seeds: one row per group of runs that differ only in their seed, named by the runs'
 * short labels ({@link shortRunLabels} over all the groups), each column `mean ± std (n)`.
 */
export function seedTable(groups: readonly (readonly RunRow[])[], columns: readonly PaperColumn[]): PlainTable {
  const labels = shortRunLabels(groups.flat());
  return {
    header: ['Runs', 'n', ...columns.map((c) => c.label)],
    rows: groups.map((g) => [g.map((r) => labels.get(r)!).join(', '), String(g.length), ...columns.map((c) => formatSeedStats(seedStats(g.map((r) => paperValue(r, c)))))]),
  };
}

/** A run's eval figure `key` as a point of a curve: the number, or null where it has none (or not a finite one). */
function finiteAt(r: RunRow, key: string): number | null {
  const v = r.eval?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The summary key prefix of PPL by context (`ppl_by_context.<bucket>.ppl`, flattened). */
const BY_CONTEXT = `${PPL_BY_CONTEXT_KEY}.`;

/**
 * PPL by context tokens: the buckets any run has (ordered by their first context length) and,
 * per run with any, its PPL in each bucket (null where it scored nothing there).
 */
export function contextCurves(runs: readonly RunRow[]): { buckets: string[]; starts: number[]; curves: { id: string; y: (number | null)[] }[] } {
  const buckets = [...new Set(runs.flatMap((r) => Object.keys(r.eval ?? {}).filter((k) => k.startsWith(BY_CONTEXT) && k.endsWith('.ppl')).map((k) => k.slice(BY_CONTEXT.length, -'.ppl'.length))))];
  const starts = buckets.map((b) => Number.parseInt(b, 10));
  const order = buckets.map((_, i) => i).sort((a, b) => starts[a]! - starts[b]!);
  const sorted = order.map((i) => buckets[i]!);
  const curves = runs
    .map((r) => ({ id: r.id, y: sorted.map((b) => finiteAt(r, `${BY_CONTEXT}${b}.ppl`)) }))
    .filter((c) => c.y.some((v) => v !== null));
  return { buckets: sorted, starts: order.map((i) => starts[i]!), curves };
}

/** The summary key prefix of the concept heads' energy score by horizon (`energy_score_by_horizon.<h>.diff_train_dist`, flattened). */
const BY_HORIZON = `${ES_BY_HORIZON_KEY}.`;
const DIFF_TRAIN_DIST = '.diff_train_dist';

/**
 * The concept heads' energy score by horizon minus the training distribution's on the same
 * targets (below 0: still a better distribution than sampling the training embeddings): the
 * horizons any run has (ascending) and, per run with two or more, its difference at each (null
 * where it has none).
 */
export function horizonCurves(runs: readonly RunRow[]): { horizons: number[]; curves: { run: RunRow; y: (number | null)[] }[] } {
  const of = (r: RunRow) => Object.keys(r.eval ?? {}).filter((k) => k.startsWith(BY_HORIZON) && k.endsWith(DIFF_TRAIN_DIST)).map((k) => Number(k.slice(BY_HORIZON.length, -DIFF_TRAIN_DIST.length))).filter((h) => Number.isInteger(h) && h > 0);
  const horizons = [...new Set(runs.flatMap(of))].sort((a, b) => a - b);
  const curves = runs
    .filter((r) => of(r).length > 1)
    .map((run) => ({ run, y: horizons.map((h) => finiteAt(run, `${BY_HORIZON}${h}${DIFF_TRAIN_DIST}`)) }));
  return { horizons, curves };
}
