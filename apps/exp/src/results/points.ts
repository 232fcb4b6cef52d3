/**
 * An experiment's finished runs as the results report sees them: grouped by stage, then into
 * points (runs whose configs differ only by seed), with each figure's mean, spread and 95%
 * interval over a point's runs.
 */
import { seedSpread } from '@sentencelab/metrics';
import { ALL_PAIRED_COMPARISONS, ES_BY_HORIZON_KEY, pairedBaselineKey, PPL_BY_CONTEXT_KEY, storedSpread, type RunInfoOk } from '@sentencelab/runs';
import { readStageRecord } from '../pipeline/execute.js';
import { canonicalJson } from '../stages/hash.js';
import { configDiff, flatten } from '../commands/compare.js';
import { figureWithInterval, formatCell } from '../table.js';

/** Runs of one stage that differ only by seed: one column of a table, one bar or point of a chart. */
export interface ResultPoint {
  stage: string;
  kind: string;
  /** `key=value` of the config keys (seed aside) that differ between this stage's runs; '' when none. */
  label: string;
  /** Those keys (without the `stages.<stage>.` prefix) and this point's values. */
  values: Record<string, unknown>;
  runs: RunInfoOk[];
}

export interface StageResults {
  stage: string;
  kind: string;
  points: ResultPoint[];
}

/** The runs by stage (in the order stages first ran), each grouped into points. */
export function stageResults(runs: readonly RunInfoOk[]): StageResults[] {
  const byStage = new Map<string, { kind: string; runs: RunInfoOk[] }>();
  for (const r of [...runs].sort((a, b) => Date.parse(a.meta.startedAt) - Date.parse(b.meta.startedAt))) {
    const record = readStageRecord(r.dir);
    const s = byStage.get(record.stage) ?? { kind: record.kind, runs: [] };
    s.runs.push(r);
    byStage.set(record.stage, s);
  }
  return [...byStage].map(([stage, s]) => ({ stage, kind: s.kind, points: groupPoints(s.runs, stage, s.kind) }));
}

/**
 * What of a run's resolved pipeline config made `stage`: seed, backend, the data section and the
 * sections of the stage and of every stage it builds on (its inputs, transitively). Stages it
 * does not read (another variant, the eval's model list) are left out, so runs of one stage made
 * under configs that differ only there (a variant added later, a subset run for time) are one
 * point. A config without the stage is taken whole (less `runsDir`).
 */
export function stageConfigView(config: unknown, stage: string): Record<string, unknown> {
  const { runsDir: _runsDir, ...whole } = (config ?? {}) as Record<string, unknown>;
  const stages = (whole['stages'] ?? {}) as Record<string, { inputs?: Record<string, unknown> } | undefined>;
  if (stages[stage] === undefined) return whole;
  const kept: Record<string, unknown> = {};
  const pending = [stage];
  while (pending.length > 0) {
    const name = pending.pop()!;
    const section = stages[name];
    if (section === undefined || name in kept) continue;
    kept[name] = section;
    for (const ref of Object.values(section.inputs ?? {})) pending.push(...(Array.isArray(ref) ? ref : [ref]).filter((r): r is string => typeof r === 'string'));
  }
  return { seed: whole['seed'], backend: whole['backend'], data: whole['data'], stages: kept };
}

/**
 * The latest finished run of each stage and config (seed included): an experiment run again
 * with the same config leaves earlier runs that are not other seeds and must not be pooled
 * with them. `superseded`: the earlier ones.
 */
export function latestRuns(runs: readonly RunInfoOk[]): { kept: RunInfoOk[]; superseded: RunInfoOk[] } {
  const latest = new Map<string, RunInfoOk>();
  const superseded: RunInfoOk[] = [];
  for (const r of [...runs].sort((a, b) => Date.parse(a.meta.startedAt) - Date.parse(b.meta.startedAt))) {
    const stage = readStageRecord(r.dir).stage;
    const key = `${stage}\u0000${canonicalJson(stageConfigView(r.config, stage))}`;
    const earlier = latest.get(key);
    if (earlier) superseded.push(earlier);
    latest.set(key, r);
  }
  const kept = new Set(latest.values());
  return { kept: runs.filter((r) => kept.has(r)), superseded };
}

/** Groups one stage's runs into points (in the order they ran): runs whose configs differ only in `seed` share a point. */
export function groupPoints(runs: readonly RunInfoOk[], stage = '', kind = ''): ResultPoint[] {
  const views = new Map(runs.map((r) => [r, stageConfigView(r.config, stage)]));
  const keys = configDiff(runs.map((r) => views.get(r)))
    .map((d) => d.key)
    .filter((k) => k !== 'seed' && k !== 'runsDir');
  const points = new Map<string, ResultPoint>();
  for (const r of runs) {
    const flat = flatten(views.get(r));
    const values = Object.fromEntries(keys.map((k) => [k.replace(/^stages\.[^.]+\./, ''), flat[k] ?? null]));
    const label = Object.entries(values).map(([k, v]) => `${k}=${canonicalJson(v)}`).join(', ');
    let p = points.get(label);
    if (!p) points.set(label, (p = { stage, kind, label, values, runs: [] }));
    p.runs.push(r);
  }
  const start = (p: ResultPoint) => Math.min(...p.runs.map((r) => Date.parse(r.meta.startedAt)));
  return [...points.values()].sort((a, b) => start(a) - start(b)); // sweep order
}

const numbersCache = new WeakMap<RunInfoOk, Record<string, number>>();

/** A run's numeric eval results, nested objects flattened to `a.b` keys. */
export function evalNumbers(run: RunInfoOk): Record<string, number> {
  let out = numbersCache.get(run);
  if (!out) {
    out = {};
    for (const [k, v] of Object.entries(flatten(run.summary?.eval ?? {}))) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    numbersCache.set(run, out);
  }
  return out;
}

/** The comparison keys of the eval's paired figures (`ppl_ratio`, `brier_1_diff`, ...) with their op. */
const PAIRED_BY_KEY = new Map(ALL_PAIRED_COMPARISONS.map((c) => [c.key as string, c]));

/**
 * A figure's name in a table: its key, and for a paired comparison the baseline it was compared
 * with (`ppl_ratio (/ lm)`, `brier_1_diff (- lm)`), which the runs store beside it.
 */
export function figureName(points: readonly ResultPoint[], key: string): string {
  const paired = PAIRED_BY_KEY.get(key);
  if (!paired) return key;
  const baselines = pairedBaselines(points, key);
  const op = paired.op === 'ratio' ? '/' : '-';
  if (baselines.length > 1) return `${key} (${op} each one's baseline, named beside it)`;
  return baselines.length > 0 ? `${key} (${op} ${baselines[0]})` : key;
}

/** The baselines the points' runs were compared with for the paired figure `key` (several where the eval paired heads with their own: `headBaselines`). */
export function pairedBaselines(points: readonly ResultPoint[], key: string): string[] {
  return [...new Set(points.flatMap((p) => p.runs.map((r) => r.summary?.eval[pairedBaselineKey(key)]).filter((b): b is string => typeof b === 'string')))];
}

/** `(- one-tower)`: the baseline(s) point `p` was compared with for `key`, to name beside its figure where a table's points have several; '' for none. */
export function baselineNote(p: ResultPoint, key: string): string {
  const own = pairedBaselines([p], key);
  return own.length === 0 ? '' : `(${PAIRED_BY_KEY.get(key)!.op === 'ratio' ? '/' : '-'} ${own.join(', ')})`;
}

/** A figure key ending in this reads a logged metric's last value from summary.json `metrics` (`val/recon_loss_gap@last`). */
export const LAST_VALUE = '@last';

/** The figure `key` of a run: a flattened eval result, or `<metric>@last`; undefined when absent or not finite. */
export function figureValue(run: RunInfoOk, key: string): number | undefined {
  if (!key.endsWith(LAST_VALUE)) return evalNumbers(run)[key];
  const v = run.summary?.metrics[key.slice(0, -LAST_VALUE.length)]?.last;
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

/** One figure of a point: mean over its runs, and a 95% interval when there is one. */
export interface FigureEstimate {
  n: number;
  mean: number;
  /** Sample standard deviation over the runs (n >= 2). */
  sd?: number;
  low?: number;
  high?: number;
  /**
   * seeds: Student-t interval of the mean over the n runs; documents: the one run's stored
   * bootstrap interval over its eval documents; passes: the one run's stored range over the
   * bench's timed passes (a figure with no interval, `tokens_per_s`).
   */
  interval?: 'seeds' | 'documents' | 'passes';
}

/** The figure `key` (see {@link figureValue}) over `runs`; undefined when no run has it. */
export function figureEstimate(runs: readonly RunInfoOk[], key: string): FigureEstimate | undefined {
  const withKey = runs.filter((r) => figureValue(r, key) !== undefined);
  const s = seedSpread(withKey.map((r) => figureValue(r, key)!));
  if (!s) return undefined;
  if (s.interval && s.sd !== undefined) return { n: s.n, mean: s.mean, sd: s.sd, low: s.interval.low, high: s.interval.high, interval: 'seeds' };
  const spread = storedSpread(evalNumbers(withKey[0]!), key);
  return spread ? { n: 1, mean: s.mean, low: spread.low, high: spread.high, interval: spread.kind === 'interval' ? 'documents' : 'passes' } : { n: 1, mean: s.mean };
}

/** An estimate with its interval where it has one (of the mean over seeds; one seed: its stored one): `2.410 [2.301, 2.520]`. */
export function estimateText(e: FigureEstimate): string {
  return e.low !== undefined && e.high !== undefined ? figureWithInterval(e.mean, e.low, e.high) : formatCell(e.mean);
}

/** Mean ± sample standard deviation (n >= 2), or the value alone. */
export function meanSpread(values: readonly number[]): string {
  const s = seedSpread(values);
  if (!s) return '';
  return s.sd === undefined ? formatCell(s.mean) : `${formatCell(s.mean)} ± ${formatCell(s.sd)} (n=${s.n})`;
}

/** `stage` when the stage has one point, else `stage (label)`: a point's name in charts and tables. */
export function pointName(p: ResultPoint, pointsOfStage: number): string {
  return pointsOfStage > 1 && p.label ? `${p.stage} (${p.label})` : p.stage;
}

/** The context buckets of the eval stage's `ppl_by_context` that these runs hold, in stored order (`0-32`, `32-64`, ...). */
export function contextBuckets(runs: readonly RunInfoOk[]): string[] {
  const pattern = new RegExp(`^${PPL_BY_CONTEXT_KEY}\\.(.+)\\.ppl$`);
  return [...new Set(runs.flatMap((r) => Object.keys(evalNumbers(r)).flatMap((k) => k.match(pattern)?.[1] ?? [])))];
}

/** A point's PPL in one context bucket and the tokens scored there, each a mean over its runs; undefined when no run scored any. */
export function contextFigures(p: ResultPoint, bucket: string): { ppl: FigureEstimate; tokens: FigureEstimate | undefined } | undefined {
  const ppl = figureEstimate(p.runs, `${PPL_BY_CONTEXT_KEY}.${bucket}.ppl`);
  return ppl ? { ppl, tokens: figureEstimate(p.runs, `${PPL_BY_CONTEXT_KEY}.${bucket}.tokens`) } : undefined;
}

/** The horizons of the concept heads' `energy_score_by_horizon` that these runs hold, ascending (1, 2, ...). */
export function horizons(runs: readonly RunInfoOk[]): number[] {
  const pattern = new RegExp(`^${ES_BY_HORIZON_KEY}\\.(\\d+)\\.energy_score$`);
  return [...new Set(runs.flatMap((r) => Object.keys(evalNumbers(r)).flatMap((k) => k.match(pattern)?.[1] ?? [])).map(Number))].sort((a, b) => a - b);
}

/**
 * A point's figures at one horizon, each over its runs: its energy score, minus the training
 * distribution's on the same targets, and minus horizon 1's; undefined when no run drew that far.
 */
export function horizonFigures(p: ResultPoint, horizon: number): { energyScore: FigureEstimate; diffTrainDist: FigureEstimate | undefined; diffNext: FigureEstimate | undefined } | undefined {
  const key = (figure: string) => `${ES_BY_HORIZON_KEY}.${horizon}.${figure}`;
  const energyScore = figureEstimate(p.runs, key('energy_score'));
  return energyScore ? { energyScore, diffTrainDist: figureEstimate(p.runs, key('diff_train_dist')), diffNext: figureEstimate(p.runs, key('diff_next')) } : undefined;
}
