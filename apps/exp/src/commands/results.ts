/**
 * `pnpm exp results <experiment>`: the finished runs of one experiment as a Markdown report,
 * `docs/results/<experiment>.md`, with its charts as PNGs in `docs/results/<experiment>/`:
 * one table per stage (its final eval results, one column per sweep point, mean ± sample
 * standard deviation over the seeds and 95% intervals), PPL by context, every run's wall time,
 * CPU time, speeds and machine load, then git sha, machine, backend and the resolved configs.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { aboveOneKey, ALL_PAIRED_COMPARISONS, ES_BY_HORIZON_KEY, EVAL_METRICS, intervalKeys, listRuns, noChange, ownCpuSecondsOf, pairedBaselineKey, pairedBoundsKeys, pairedSide, PPL_BY_CONTEXT_KEY, rangeKeys, readMetrics, spreadBase, storedBounds, type PairedComparison, type RunInfoOk } from '@sentencelab/runs';
import { formatFlops, quantile } from '@sentencelab/tensor';
import { readStageRecord, STAGE_COSTS_KEY, type StageCost } from '../pipeline/execute.js';
import { canonicalJson } from '../stages/hash.js';
import { commitLabel, kernelsLabel, SEVERAL_COMMITS_NOTE, SEVERAL_KERNELS_NOTE } from './compare.js';
import { experimentCharts } from '../results/charts.js';
import { coveredSeconds } from '../results/busy-time.js';
import { seedTables } from '../results/seed-table.js';
import { predictorSection } from '../results/svae-predictors.js';
import { validationChoiceLines } from '../results/validation-choice.js';
import { baselineNote, contextBuckets, contextFigures, evalNumbers, figureEstimate, figureName, figureValue, estimateText, horizonFigures, horizons, LAST_VALUE, latestRuns, meanSpread, pairedBaselines, pointName, stageResults, type ResultPoint, type StageResults } from '../results/points.js';
import { figureWithInterval, figureWithRange, figureWithSpread, formatCell, intervalText, markdownTable } from '../table.js';

const MEANINGS = new Map<string, string>(EVAL_METRICS.map((m) => [m.key, m.meaning]));

function seconds(r: RunInfoOk): number | null {
  if (r.meta.endedAt === undefined) return null;
  return (Date.parse(r.meta.endedAt) - Date.parse(r.meta.startedAt)) / 1000;
}

/** CPU seconds the run folder itself used (a fork's donor's are counted in the donor). */
function cpuSeconds(r: RunInfoOk): number | null {
  return ownCpuSecondsOf(r.meta) ?? null;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** `[low, high] ...` of a figure's 95% interval in one point, or '' when it has none. */
function intervalCell(p: ResultPoint, key: string): string {
  const e = figureEstimate(p.runs, key);
  // A range over the timed passes is no 95% interval: it has its own row (rangeCell).
  if (!e || e.low === undefined || e.high === undefined || e.interval === 'passes') return '';
  return `${intervalText(e.low, e.high, e.mean)} ${e.interval === 'seeds' ? `t over ${e.n} seeds` : 'bootstrap over documents'}`;
}

/**
 * The range a figure's repeated measurements spanned in one point (`tokens_per_s_min/_max`: the
 * bench's timed passes): the run's own range, or over several runs the lowest low to the
 * highest high; '' when no run stored one.
 */
function rangeCell(p: ResultPoint, key: string): string {
  const bounds = p.runs.flatMap((r) => storedBounds(evalNumbers(r), rangeKeys(key)) ?? []);
  if (bounds.length === 0) return '';
  const low = Math.min(...bounds.map((b) => b.low));
  const high = Math.max(...bounds.map((b) => b.high));
  return `${formatCell(low)}-${formatCell(high)}${bounds.length > 1 ? ` over ${bounds.length} runs` : ''}`;
}

/**
 * The table of one stage: rows = numeric eval results (flattened; PPL by context has its own
 * table), each figure with a stored interval followed by a row of 95% intervals and each with
 * a stored range (the bench's passes) by a row of that range; then wall and CPU time. Columns
 * = points.
 */
export function stageTable(points: readonly ResultPoint[]): string {
  const flat = points.map((p) => p.runs.map(evalNumbers));
  const all = new Set(flat.flat().flatMap((f) => Object.keys(f)));
  const merged = Object.assign({}, ...flat.flat()) as Record<string, number>;
  const keys = [...all].filter((k) => spreadBase(k, merged) === undefined && !k.startsWith(`${PPL_BY_CONTEXT_KEY}.`) && !k.startsWith(`${ES_BY_HORIZON_KEY}.`) && !k.startsWith(`${STAGE_COSTS_KEY}.`)).sort();
  const header = ['result', ...points.map((p) => p.label || 'value')];
  const rows: string[][] = [];
  for (const k of keys) {
    const name = figureName(points, k);
    rows.push([name, ...flat.map((runs) => meanSpread(runs.map((f) => f[k]).filter(finite)))]);
    if (all.has(intervalKeys(k).low)) rows.push([`${name} 95% interval`, ...points.map((p) => intervalCell(p, k))]);
    if (all.has(rangeKeys(k).low)) rows.push([`${name} range over timed passes`, ...points.map((p) => rangeCell(p, k))]);
  }
  // The validation metrics' last values (the training run's final evaluation).
  const valMetrics = [...new Set(points.flatMap((p) => p.runs.flatMap((r) => Object.keys(r.summary?.metrics ?? {}))))].filter((m) => /(^|\/)val\//.test(m)).sort();
  for (const m of valMetrics) rows.push([`${m} (last)`, ...points.map((p) => meanSpread(p.runs.map((r) => figureValue(r, `${m}${LAST_VALUE}`)).filter(finite)))]);
  rows.push(['wall time (s)', ...points.map((p) => meanSpread(p.runs.map(seconds).filter(finite)))]);
  rows.push(['CPU time, user + sys (s)', ...points.map((p) => meanSpread(p.runs.map(cpuSeconds).filter(finite)))]);
  const teraFlops = (r: RunInfoOk): number | undefined => (r.meta.resources?.trainingFlops === undefined ? undefined : r.meta.resources.trainingFlops / 1e12);
  if (points.some((p) => p.runs.some((r) => teraFlops(r) !== undefined))) {
    rows.push(['training TFLOP of this stage alone (matrix products of its steps, forward and backward)', ...points.map((p) => meanSpread(p.runs.map(teraFlops).filter(finite)))]);
  }
  return markdownTable(header, rows);
}

/**
 * In how many seeds a paired interval excludes no change, and on which side: `excludes 1 in 3
 * of 3 seeds (below 1 in 2, above 1 in 1)`; a mean over seeds can hide a seed that went the
 * other way, so the sides are always named.
 */
function seedVerdict(c: PairedComparison, bounds: readonly { low: number; high: number }[]): string {
  const none = noChange(c);
  const below = bounds.filter((b) => pairedSide(c, b) === 'below').length;
  const above = bounds.filter((b) => pairedSide(c, b) === 'above').length;
  const sides = [below > 0 ? `below ${none} in ${below}` : '', above > 0 ? `above ${none} in ${above}` : ''].filter(Boolean).join(', ');
  return `excludes ${none} in ${below + above} of ${bounds.length} seed${bounds.length === 1 ? '' : 's'}${sides ? ` (${sides})` : ''}`;
}

/**
 * Each paired comparison with the eval's baseline, seed by seed, for every point whose runs hold
 * it: the figure with its paired interval, and in how many seeds that interval excludes no change
 * (a mean over seeds can hide a seed that went the other way); for the per-pass tok/s ratio, its
 * range over the interleaved passes and how many passes were above 1.
 */
export function pairedSeedLines(s: StageResults): string[] {
  return s.points.flatMap((p) =>
    ALL_PAIRED_COMPARISONS.flatMap((c) => {
      const runs = pairedRuns(p, c);
      if (runs.length === 0 || runs.every((r) => pairedSide(c, r.bounds) === 'same')) return [];
      const name = `${p.label ? `${p.label}: ` : ''}${figureName([p], c.key)}`;
      if (c.bounds === 'range') {
        const cells = runs.map((r) => `${figureWithRange(r.value, r.bounds.low, r.bounds.high)}${r.above === undefined || r.passes === undefined ? '' : `, above 1 in ${r.above} of ${r.passes} passes`} (seed ${r.seed})`);
        return [`- \`${name}\`, seed by seed, pass by pass (interleaved): ${cells.join('; ')}`];
      }
      const cells = runs.map((r) => `${figureWithInterval(r.value, r.bounds.low, r.bounds.high)} (seed ${r.seed})`);
      return [`- \`${name}\`, seed by seed, paired over the same documents: ${cells.join('; ')}: the interval ${seedVerdict(c, runs.map((r) => r.bounds))}`];
    }),
  );
}

/** One run's paired comparison: its value, its paired bounds, and for a per-pass ratio the passes above 1 of all. */
interface PairedRun {
  seed: number;
  value: number;
  bounds: { low: number; high: number };
  above: number | undefined;
  passes: number | undefined;
}

/** The runs of a point that hold paired comparison `c`, by seed: what the seed lines and the table against the baseline read. */
function pairedRuns(p: ResultPoint, c: PairedComparison): PairedRun[] {
  return [...p.runs]
    .sort((a, b) => a.meta.seed - b.meta.seed)
    .flatMap((r) => {
      const e = evalNumbers(r);
      const value = e[c.key];
      const bounds = storedBounds(e, pairedBoundsKeys(c));
      return value === undefined || bounds === undefined ? [] : [{ seed: r.meta.seed, value, bounds, above: e[aboveOneKey(c.key)], passes: e['speed_repeats'] }];
    });
}

/**
 * One paired comparison of one point (`runs`: its {@link pairedRuns}, at least one), for the
 * table against the baseline: the mean over seeds with the Student-t interval of that mean (one
 * seed: its paired interval, or its range over the timed passes), then in how many seeds the
 * paired interval excludes no change, or in how many of all timed passes the model was above 1.
 */
function comparisonCell(p: ResultPoint, c: PairedComparison, runs: readonly PairedRun[]): string {
  const e = figureEstimate(p.runs, c.key)!;
  const figure = e.interval === 'seeds' ? `${figureWithInterval(e.mean, e.low!, e.high!)} over ${e.n} seeds` : figureWithSpread(e.mean, { kind: c.bounds, ...runs[0]!.bounds });
  if (c.bounds === 'range') {
    const counted = runs.filter((r) => r.above !== undefined && r.passes !== undefined);
    if (counted.length === 0) return figure;
    return `${figure}: above 1 in ${counted.reduce((a, r) => a + r.above!, 0)} of ${counted.reduce((a, r) => a + r.passes!, 0)} passes`;
  }
  if (runs.every((r) => pairedSide(c, r.bounds) === 'same')) return `${figure}: the same score on every draw`;
  return `${figure}: ${seedVerdict(c, runs.map((r) => r.bounds))}`;
}

/** How a concept head's points drew their vectors (the eval's `sampler`), one line per point: their figures depend on it. */
export function samplerLines(s: StageResults): string[] {
  return s.points.flatMap((p) => {
    const samplers = [...new Set(p.runs.map((r) => r.summary?.eval?.['sampler']).filter((v): v is string => typeof v === 'string'))];
    if (samplers.length === 0) return [];
    return [`- sampler${p.label === '' ? '' : ` (${p.label})`}: ${samplers.join('; ')}`];
  });
}

/**
 * Every model the eval compared with its baseline, a row per point, a column per paired
 * comparison (`ppl_ratio (/ lm)`, ...); '' when no run holds one. The headline of a comparison
 * experiment: what the per-stage tables hold, side by side and with the per-seed verdicts.
 */
export function comparisonTable(stages: readonly StageResults[]): string {
  const named = stages.flatMap((s) => s.points.map((p) => ({ p, name: pointName(p, s.points.length), paired: ALL_PAIRED_COMPARISONS.map((c) => pairedRuns(p, c)) })));
  const held = ALL_PAIRED_COMPARISONS.flatMap((c, i) => (named.some((n) => n.paired[i]!.length > 0) ? [{ c, i }] : []));
  const rows = named.filter((n) => held.some(({ i }) => n.paired[i]!.length > 0));
  if (rows.length === 0) return '';
  const all = rows.map(({ p }) => p);
  const several = ALL_PAIRED_COMPARISONS.map((c) => pairedBaselines(all, c.key).length > 1);
  return markdownTable(
    ['model', ...held.map(({ c }) => figureName(all, c.key))],
    rows.map((n) => [
      n.name,
      ...held.map(({ c, i }) => {
        if (n.paired[i]!.length === 0) return '-';
        // Rows compared with other baselines (headBaselines): each cell names its own.
        const own = several[i] ? baselineNote(n.p, c.key) : '';
        return `${own === '' ? '' : `${own} `}${comparisonCell(n.p, c, n.paired[i]!)}`;
      }),
    ]),
  );
}

/** PPL by context bucket per point (mean over seeds) with the scored tokens; '' when no point has it. */
export function contextTable(s: StageResults): string {
  const buckets = contextBuckets(s.points.flatMap((p) => p.runs));
  if (buckets.length === 0) return '';
  const rows = s.points.map((p) => [
    pointName(p, s.points.length),
    ...buckets.map((b) => {
      const f = contextFigures(p, b);
      return f ? `${formatCell(f.ppl.mean)} (${formatCell(f.tokens?.mean)} tokens)` : '-';
    }),
  ]);
  return markdownTable(['point', ...buckets.map((b) => `ctx ${b}`)], rows);
}

/**
 * The concept heads' energy score by horizon (`energy_score_by_horizon`), a row per point of any
 * stage: per horizon the energy score, then minus the training distribution's on the same
 * targets with its interval; then from horizon 2 on minus horizon 1's (what its own draws cost
 * it). '' when no point has it.
 */
export function horizonTables(stages: readonly StageResults[]): string {
  const points = stages.flatMap((s) => s.points.map((p) => ({ p, name: pointName(p, s.points.length) })));
  const hs = horizons(points.flatMap(({ p }) => p.runs));
  if (hs.length === 0) return '';
  const withFamily = points.filter(({ p }) => horizons(p.runs).length > 0);
  const cells = (cell: (f: NonNullable<ReturnType<typeof horizonFigures>>) => string, of: readonly number[]) =>
    withFamily.map(({ p, name }) => [
      name,
      ...of.map((h) => {
        const f = horizonFigures(p, h);
        return f ? cell(f) : '-';
      }),
    ]);
  const later = hs.filter((h) => h > 1);
  return [
    markdownTable(['point', ...hs.map((h) => `${h} ahead: ES, - train-dist`)], cells((f) => `${formatCell(f.energyScore.mean)}, ${f.diffTrainDist ? estimateText(f.diffTrainDist) : '-'}`, hs)),
    ...(later.length > 0 ? ['', "What reading its own draws costs: the energy score h ahead minus 1 ahead on the same targets (paired target by target), mean over seeds with its interval:", '', markdownTable(['point', ...later.map((h) => `${h} ahead - 1 ahead`)], cells((f) => (f.diffNext ? estimateText(f.diffNext) : '-'), later))] : []),
  ].join('\n');
}

/**
 * Median of a run's logged `train/tokens_per_s` (each logged step's tokens over that step's
 * time: no validation or checkpoint in it), for runs whose stage reports `train_tokens_per_s`
 * (stages that train on tokens; a concept head's steps count vectors).
 */
export async function medianStepTokensPerS(run: RunInfoOk): Promise<number | null> {
  if (evalNumbers(run)['train_tokens_per_s'] === undefined) return null;
  const series = (await readMetrics(run.dir, { names: ['train/tokens_per_s'] })).series['train/tokens_per_s'];
  const values = Float64Array.from(series?.value ?? []).filter(Number.isFinite).sort();
  return values.length > 0 ? quantile(values, 0.5) : null;
}

/**
 * A run's start-to-end seconds: a resumed run's include the time it was stopped; a fork's are
 * its evaluation of another run's trained model (its CPU cell is its own too).
 */
function wallCell(r: RunInfoOk, wall: number | null): string {
  const notes = [
    ...(r.meta.forkedFrom ? [`a fork of ${basename(r.meta.forkedFrom.run)}: evaluation only`] : []),
    ...(r.meta.resumedAt.length > 0 ? [`resumed ${r.meta.resumedAt.length}x: includes the pause`] : []),
  ];
  return notes.length > 0 ? `${formatCell(wall)} (${notes.join('; ')})` : formatCell(wall);
}

/** Every run: wall time, CPU time, training and generation speed, machine load. */
export async function runsTable(stages: readonly StageResults[]): Promise<string> {
  const stepSpeed = new Map<RunInfoOk, number | null>();
  for (const r of stages.flatMap((s) => s.points.flatMap((p) => p.runs))) stepSpeed.set(r, await medianStepTokensPerS(r));
  const rows = stages.flatMap((s) =>
    s.points.flatMap((p) =>
      p.runs.map((r) => {
        const e = evalNumbers(r);
        const wall = seconds(r);
        const cpu = cpuSeconds(r);
        const load = r.meta.resources;
        return [
          r.meta.runId,
          s.stage,
          p.label || '-',
          String(r.meta.seed),
          wallCell(r, wall),
          formatCell(cpu),
          cpu !== null && wall ? formatCell(cpu / wall) : '-',
          formatCell(e['train_tokens_per_s']),
          formatCell(stepSpeed.get(r)),
          formatCell(e['tokens_per_s']),
          load ? `${formatCell(load.loadAvgStart[0])} → ${formatCell(load.loadAvgEnd?.[0])}` : '-',
        ];
      }),
    ),
  );
  return markdownTable(['run', 'stage', 'point', 'seed', 'wall s', 'CPU s (user + sys)', 'CPU / wall', 'train tok/s', 'train tok/s, median step', 'generation tok/s', 'load avg 1 min, start → end'], rows);
}

/** A stage without a run folder (eval, bench) and the models it measured. */
export interface MeasuringStage extends StageCost {
  stage: string;
  models: string[];
}

/** Every eval and bench stage of these runs, once (each model run it measured holds the same record). */
export function measuringStages(runs: readonly RunInfoOk[]): MeasuringStage[] {
  const out = new Map<string, MeasuringStage>();
  for (const r of runs) {
    const costs = r.summary?.eval[STAGE_COSTS_KEY];
    if (costs === null || typeof costs !== 'object' || Array.isArray(costs)) continue;
    for (const [stage, c] of Object.entries(costs as unknown as Record<string, StageCost>)) {
      const key = `${stage}\u0000${c.startedAt}`;
      const m = out.get(key) ?? { ...c, stage, models: [] };
      m.models.push(readStageRecord(r.dir).stage);
      out.set(key, m);
    }
  }
  return [...out.values()].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
}

function measuringTable(stages: readonly MeasuringStage[]): string {
  return markdownTable(
    ['stage', 'kind', 'started', 'wall s', 'CPU s (user + sys)', 'CPU / wall', 'load avg 1 min, start → end', 'models measured'],
    stages.map((m) => [
      m.stage,
      m.kind,
      m.startedAt,
      formatCell(m.wall_s),
      formatCell(m.cpu_user_s + m.cpu_system_s),
      m.wall_s > 0 ? formatCell((m.cpu_user_s + m.cpu_system_s) / m.wall_s) : '-',
      `${formatCell(m.load_avg_start[0])} → ${formatCell(m.load_avg_end[0])}`,
      m.models.join(', '),
    ]),
  );
}

function range(values: readonly number[]): string {
  if (values.length === 0) return '-';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? formatCell(lo) : `${formatCell(lo)}-${formatCell(hi)}`;
}

export interface ChartLink {
  title: string;
  /** Path of the PNG relative to the Markdown file. */
  href: string;
}

/** The Markdown report of an experiment's finished runs, linking `charts`. */
export async function resultsMarkdown(experiment: string, runs: readonly RunInfoOk[], charts: readonly ChartLink[] = [], superseded: readonly RunInfoOk[] = []): Promise<string> {
  const stages = stageResults(runs);
  const shas = [...new Set(runs.map((r) => commitLabel(r.meta.git)))];
  const total = runs.map(seconds).reduce<number>((a, s) => a + (s ?? 0), 0);
  const starts = runs.map((r) => Date.parse(r.meta.startedAt));
  // eval and bench stages write their figures into the model runs' summaries when they finish.
  const lastWrite = Math.max(...runs.flatMap((r) => [r.meta.endedAt ? Date.parse(r.meta.endedAt) : Number.NaN, r.summary ? Date.parse(r.summary.updatedAt) : Number.NaN]).filter(Number.isFinite));
  const machines = [...new Set(runs.map((r) => { const m = r.meta.machine; return `${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}, Node ${m.node}`; }))];
  const kernels = [...new Set(runs.filter((r) => r.meta.backend === 'native').map((r) => kernelsLabel(r.meta) ?? 'not recorded'))];
  const withResources = runs.filter((r) => r.meta.resources !== undefined);
  const cpuTotal = withResources.reduce((a, r) => a + cpuSeconds(r)!, 0);
  // A fork's training FLOPs are its donor's: no training step ran in it.
  const forks = runs.filter((r) => r.meta.forkedFrom !== undefined);
  const counted = runs.filter((r) => r.meta.resources?.trainingFlops !== undefined && r.meta.forkedFrom === undefined);
  const measuring = measuringStages(runs);
  const span = (lastWrite - Math.min(...starts)) / 1000;
  // The time some stage was running: the span also holds start-up, tokenizer stages and the gaps between sweep points or invocations.
  const busy = coveredSeconds([
    ...runs.map((r): [number, number] => [Date.parse(r.meta.startedAt), r.meta.endedAt ? Date.parse(r.meta.endedAt) : Number.NaN]),
    ...measuring.map((m): [number, number] => [Date.parse(m.startedAt), Date.parse(m.startedAt) + m.wall_s * 1000]),
  ]);
  const measuringNote = measuring.length > 0 ? ` (and ${measuring.length} eval and bench stages: ${formatCell(measuring.reduce((a, m) => a + m.wall_s, 0))} s wall, ${formatCell(measuring.reduce((a, m) => a + m.cpu_user_s + m.cpu_system_s, 0))} s CPU)` : ' (eval and bench stages not recorded)';
  const out = [
    `# ${experiment}`,
    '',
    `Generated by \`pnpm exp results ${experiment}\` from ${runs.length} finished run folders (one per training stage and sweep point; eval and bench stages write their figures into the runs of the models they measure).`,
    '',
    `- git: ${shas.join(', ')}${shas.length > 1 ? ` (runs from several commits: ${SEVERAL_COMMITS_NOTE})` : ''}`,
    `- backend: ${[...new Set(runs.map((r) => r.meta.backend))].join(', ')}${kernels.length > 0 ? ` (native kernels: ${kernels.join(', ')}${kernels.filter((k) => k !== 'not recorded').length > 1 ? `: ${SEVERAL_KERNELS_NOTE}` : ''})` : ''}`,
    `- machine: ${machines.join('; ')}`,
    withResources.length > 0
      ? `- load average (1 min): ${range(withResources.map((r) => r.meta.resources!.loadAvgStart[0]!))} when the runs started, ${range(withResources.flatMap((r) => r.meta.resources!.loadAvgEnd?.[0] ?? []))} when they ended`
      : '- load average: not recorded (runs written before meta.json had resources)',
    `- seeds: ${[...new Set(runs.map((r) => r.meta.seed))].sort((a, b) => a - b).join(', ')}`,
    ...(superseded.length > 0 ? [`- left out: ${superseded.length} earlier finished runs with the same stage and config as a later one (only the latest of each is reported): ${superseded.map((r) => r.meta.runId).join(', ')}`] : []),
    `- wall time: ${formatCell(total)} s summed over the stage runs (training and each stage's own evaluation)${measuring.length > 0 ? `, ${formatCell(total + measuring.reduce((a, m) => a + m.wall_s, 0))} s with the eval and bench stages` : ''}; ${formatCell(span)} s from the first run's start to the last result written${span - busy >= 60 ? ` (${formatCell(busy)} s of it with a stage running: the rest is start-up, tokenizer stages and the gaps between sweep points or invocations)` : ''}`,
    withResources.length > 0
      ? `- CPU time: ${formatCell(cpuTotal)} s user + sys summed over ${withResources.length === runs.length ? 'the' : `${withResources.length} of the ${runs.length}`} runs${measuringNote}`
      : `- CPU time: not recorded for the runs (written before meta.json had resources)${measuringNote}`,
    ...(counted.length > 0
      ? [`- training compute: ${formatFlops(counted.reduce((a, r) => a + r.meta.resources!.trainingFlops!, 0))} summed over ${counted.length === runs.length ? 'the' : `${counted.length} of the ${runs.length}`} runs' training steps (the FLOPs of their matrix products, forward and backward: the same on any machine)${forks.length > 0 ? `; ${forks.length} ${forks.length === 1 ? 'run is a fork' : 'runs are forks'} of a finished run's trained model (evaluation only, no training step; its cost is the donor's)` : ''}`]
      : []),
  ];
  const against = comparisonTable(stages);
  if (against) {
    out.push(
      '',
      '## Against the baseline',
      '',
      'Each model the eval compared pairwise with its baseline model (`ppl_ratio_matched`: with its compute-matched token LM, named in the column), the same documents drawn for both, the same interleaved timed passes. A cell: the mean over seeds with the Student-t 95% interval of that mean (one seed: its paired bootstrap interval in brackets, or its range over the passes in parentheses); then in how many seeds the paired interval excludes no change (1 for a ratio, 0 for a difference) and on which side, or in how many of all timed passes the model was faster. The interval over seeds measures training randomness on these eval documents (every seed is scored on the same ones); each seed\'s paired interval measures the documents: a claim about the models on other text needs both.',
      '',
      against,
    );
  }
  const bySeed = seedTables(stages);
  if (bySeed.length > 0) {
    out.push('', '## Seed by seed', '', "Each seed's figure for each model (a seed sets a model's initialisation, data order and sampling; every seed is scored on the same eval documents), and each model's mean ± sample standard deviation over its seeds: what an average over seeds hides.", ...bySeed);
  }
  const chosen = validationChoiceLines(stages);
  if (chosen.length > 0) {
    out.push(
      '',
      '## Chosen on validation',
      '',
      "Where a stage's points carry the concept heads' energy score on validation documents (`val_energy_score`: a sweep over the sampler or the training), the point a choice on those documents makes, and its test figures: the held-out measurement of that choice. The other points' test figures are in the tables below; choosing among them on the test documents would spend them.",
      '',
      ...chosen,
    );
  }
  const byHorizon = horizonTables(stages);
  if (byHorizon) {
    out.push('', '## By horizon', '', "The concept heads' energy score by horizon, mean over seeds: the same targets at every horizon h, drawn after the head's own draws of the h - 1 sentences before (1 ahead: teacher-forced); then minus the training distribution's on those targets, with the 95% interval of that mean (one seed: its bootstrap interval over the documents); below 0, the head is still a better distribution than sampling the training embeddings.", '', byHorizon);
  }
  if (charts.length > 0) {
    out.push('', '## Charts', '');
    for (const c of charts) out.push(`![${c.title}](${c.href})`, '');
  }
  const predictors = predictorSection(stages);
  if (predictors) out.push('', ...predictors);
  out.push(
    '',
    'Tables: a column per sweep point; cells are mean ± sample standard deviation over the runs of a point (n = runs, one per seed), or the single value. A "95% interval" row gives, for a point of several seeds, the Student-t interval of the mean over the seeds, and for one seed the bootstrap interval over the eval documents stored with the figure. A "range over timed passes" row gives the slowest and fastest of the bench\'s timed passes (over a point\'s runs: the lowest to the highest). A row named `... (/ <baseline>)` or `... (- <baseline>)` compares each model with the eval\'s baseline model on the same documents or passes (per seed, then over seeds like any figure).',
  );
  for (const s of stages) {
    out.push('', `## ${s.stage} (${s.kind})`, '', stageTable(s.points));
    const paired = pairedSeedLines(s);
    if (paired.length > 0) out.push('', ...paired);
    const samplers = samplerLines(s);
    if (samplers.length > 0) out.push('', ...samplers);
    const known = Object.keys(evalNumbers(s.points[0]!.runs[0]!)).filter((k) => MEANINGS.has(k));
    if (known.length > 0) out.push('', ...known.map((k) => `- \`${k}\`: ${MEANINGS.get(k)}`));
    const ctx = contextTable(s);
    if (ctx) out.push('', 'PPL by the context tokens behind each scored sentence, mean over seeds (scored tokens):', '', ctx);
  }
  out.push('', '## Runs', '', 'Wall time: start to end of the stage run; CPU time: user + system seconds of the process while the run was open (every thread; absent for runs from before it was recorded); CPU / wall: cores kept busy on average; train tok/s: training tokens over the training loop\'s wall time (its validations included; for a resumed run, since the resume); median step: the median of the logged steps\' tokens over their own time; generation tok/s: the bench stage at an equal token budget.', '', await runsTable(stages));
  if (measuring.length > 0) {
    out.push('', '## Eval and bench stages', '', 'They have no run folder: each records its wall time, the CPU seconds of the process while it ran and the load in the summaries of the models it measured.', '', measuringTable(measuring));
  }
  const configs = new Map<string, unknown>();
  for (const r of runs) {
    const { runsDir: _runsDir, ...config } = r.config as Record<string, unknown>;
    configs.set(canonicalJson(config), config);
  }
  out.push('', '## Configs', '');
  for (const c of configs.values()) out.push('<details><summary>resolved config</summary>', '', '```yaml', stringify(c).trimEnd(), '```', '', '</details>', '');
  return `${out.join('\n').trimEnd()}\n`;
}

export interface ResultsFiles {
  markdown: string;
  charts: string[];
}

/** Writes the Markdown to `out` (default `docs/results/<experiment>.md`) and its charts to the folder beside it named like it. */
export async function resultsAction(experiment: string, options: { runsDir: string; out: string | undefined }): Promise<ResultsFiles> {
  const root = resolve(options.runsDir);
  const all = await listRuns(root, { config: true });
  const done = all.filter((r): r is RunInfoOk => r.ok && r.meta.experiment === experiment && r.meta.status === 'done');
  const { kept: runs, superseded } = latestRuns(done);
  if (runs.length === 0) {
    const names = [...new Set(all.filter((r): r is RunInfoOk => r.ok).map((r) => r.meta.experiment))];
    throw new Error(`no finished run of experiment "${experiment}" in ${root} (experiments there: ${names.join(', ') || 'none'})`);
  }
  const file = resolve(options.out ?? join('docs', 'results', `${experiment}.md`));
  const chartDir = join(dirname(file), basename(file, '.md'));
  mkdirSync(chartDir, { recursive: true });
  // Charts of an earlier report that this one no longer draws would linger unlinked.
  for (const f of readdirSync(chartDir)) if (f.endsWith('.png')) rmSync(join(chartDir, f));
  const charts = await experimentCharts(stageResults(runs));
  // Loaded here, not with the CLI: the renderer needs resvg's native binary and the DejaVu fonts
  // package, which only `exp results` uses (the GPU check's bundle ships neither).
  const { renderChartPng } = await import('../results/render.js');
  const files: string[] = [];
  for (const c of charts) {
    const png = join(chartDir, `${c.id}.png`);
    writeFileSync(png, await renderChartPng(c.spec));
    files.push(png);
  }
  writeFileSync(file, await resultsMarkdown(experiment, runs, charts.map((c) => ({ title: c.title, href: `${basename(chartDir)}/${c.id}.png` })), superseded));
  return { markdown: file, charts: files };
}

export function resultsCommand(): Command {
  return new Command('results')
    .description('write docs/results/<experiment>.md (a table per stage over its sweep points, mean ± sd and 95% intervals over seeds, runs\' wall/CPU time and speed, git sha, machine, configs) and its PNG charts in docs/results/<experiment>/')
    .argument('<experiment>', 'the experiment name (the config\'s name:)')
    .option('--runs-dir <dir>', 'root of the run folders', 'runs')
    .option('--out <file>', 'where to write the Markdown (default docs/results/<experiment>.md; charts go to the folder beside it of the same name)')
    .action(async (experiment: string, o: { runsDir: string; out?: string }) => {
      const r = await resultsAction(experiment, { runsDir: o.runsDir, out: o.out });
      console.log(`wrote ${r.markdown} and ${r.charts.length} charts in ${dirname(r.charts[0] ?? r.markdown)}`);
    });
}
