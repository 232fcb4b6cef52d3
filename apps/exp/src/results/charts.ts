/**
 * The charts of a results report, from what the runs hold, not from the experiment's name: a
 * short list of chart specs (figures from summary.json `eval`, curves from metrics.arrow, PPL
 * by context), each drawn for every experiment whose runs have its data.
 * - A figure is a bar per point (mean over seeds, 95% whiskers), one bar per series (a figure
 *   and its baselines) side by side; when the only stage with the figure is a sweep over one
 *   numeric key (svae-size's width), it is a scaling curve over that key instead (log x when the
 *   values span 4x or more).
 * - A curve is a metric over training steps, one line per point and metric (mean over seeds at
 *   each step), one chart per stage kind.
 */
import { readMetrics } from '@sentencelab/runs';
import { canonicalJson } from '../stages/hash.js';
import type { ChartSpec } from './render.js';
import { contextBuckets, contextFigures, figureEstimate, figureValue, horizonFigures, horizons, LAST_VALUE, pointName, type FigureEstimate, type ResultPoint, type StageResults } from './points.js';

/** A figure chart: `series[0]` decides which points appear; the others (baselines) are drawn beside it. */
export interface FigureChart {
  id: string;
  title: string;
  y: string;
  series: readonly { key: string; name: string }[];
  /** A horizontal reference line (e.g. chance). */
  rule?: { value: number; label: string };
}

export const FIGURE_CHARTS: readonly FigureChart[] = [
  { id: 'ppl', title: 'PPL on the shared held-out tokens (lower is better)', y: 'PPL', series: [{ key: 'ppl', name: 'PPL' }] },
  {
    id: 'ppl_ratio',
    title: 'PPL over the eval baseline\'s on the same tokens, paired (below 1: better than the baseline)',
    y: 'PPL / baseline PPL',
    series: [{ key: 'ppl_ratio', name: 'PPL ratio' }],
    rule: { value: 1, label: 'baseline' },
  },
  {
    id: 'ppl_ratio_matched',
    title: 'PPL over the compute-matched token LM\'s (trained with the same FLOPs) on the same tokens, paired (below 1: better at equal compute)',
    y: 'PPL / compute-matched PPL',
    series: [{ key: 'ppl_ratio_matched', name: 'PPL ratio, compute-matched' }],
    rule: { value: 1, label: 'compute-matched token LM' },
  },
  { id: 'bits_per_byte', title: 'Bits per byte of the scored text (lower is better; comparable across units and tokenizers)', y: 'bits per byte', series: [{ key: 'bits_per_byte', name: 'bits per byte' }] },
  { id: 'recon_ppl', title: 'Held-out reconstruction PPL, teacher-forced (lower is better)', y: 'reconstruction PPL', series: [{ key: 'recon_ppl', name: 'reconstruction PPL' }] },
  { id: 'recon_token_acc', title: 'Held-out reconstruction token accuracy, greedy', y: 'token accuracy', series: [{ key: 'recon_token_acc', name: 'token accuracy' }] },
  { id: 'recon_exact_match', title: 'Held-out sentences reconstructed exactly, greedy', y: 'exact-match rate', series: [{ key: 'recon_exact_match', name: 'exact match' }] },
  {
    id: 'recon_loss_gap',
    title: 'What the sentence vector carries after training: shuffled minus own vectors',
    y: 'validation loss gap (nats/token)',
    series: [{ key: `val/recon_loss_gap${LAST_VALUE}`, name: 'loss gap at the last evaluation' }],
  },
  {
    id: 'recon_noise_half',
    title: "Vector noise that loses half of what the vector carries (higher: more robust)",
    y: "noise / the vector's RMS",
    series: [{ key: 'recon_noise_half', name: 'noise at half the gap' }],
  },
  {
    id: 'val_kl',
    title: "KL of a variational SentenceVAE's posterior per sentence (its rate; ~0: posterior collapse)",
    y: 'nats per sentence',
    series: [{ key: 'val_kl', name: 'KL at the last evaluation' }],
  },
  { id: 'recon_bleu', title: 'Held-out reconstruction BLEU, greedy', y: 'BLEU', series: [{ key: 'recon_bleu', name: 'BLEU' }] },
  {
    id: 'tokens_per_s',
    title: 'Generation speed at an equal token budget (bench stage)',
    y: 'tokens/s',
    series: [
      { key: 'tokens_per_s', name: 'all generated tokens' },
      { key: 'tokens_per_s_excl_first', name: 'after each prompt\'s first sentence' },
    ],
  },
  {
    id: 'tokens_per_s_ratio',
    title: 'Generation tok/s over the eval baseline\'s, median of the interleaved passes (above 1: faster)',
    y: 'tok/s / baseline tok/s',
    series: [{ key: 'tokens_per_s_ratio', name: 'tok/s ratio' }],
    rule: { value: 1, label: 'baseline' },
  },
  { id: 'train_tokens_per_s', title: 'Training speed (tokens / training-loop wall time)', y: 'tokens/s', series: [{ key: 'train_tokens_per_s', name: 'training tokens/s' }] },
  {
    id: 'kv_bytes_per_token',
    title: 'KV-cache bytes per context token',
    y: 'bytes',
    series: [
      { key: 'kv_bytes_per_token', name: 'analytical (eval documents)' },
      { key: 'kv_bytes_per_token_measured', name: 'measured on the caches' },
    ],
  },
  {
    id: 'l2',
    title: 'L2 to the true next sentence embedding (lower is better)',
    y: 'L2',
    series: [
      { key: 'l2', name: 'head' },
      { key: 'l2_copy_prev', name: 'copy-previous baseline' },
      { key: 'l2_train_mean', name: 'training-mean baseline' },
    ],
  },
  {
    id: 'contrastive_acc',
    title: 'Contrastive accuracy of the next-embedding prediction (higher is better)',
    y: 'contrastive accuracy',
    series: [
      { key: 'contrastive_acc', name: 'head' },
      { key: 'contrastive_acc_copy_prev', name: 'copy-previous baseline' },
      { key: 'contrastive_acc_train_mean', name: 'training-mean baseline' },
    ],
    rule: { value: 0.5, label: 'chance' },
  },
  {
    id: 'energy_score',
    title: 'Energy score of two draws against the true next sentence embedding (lower is better; a deterministic head: its L2)',
    y: 'energy score',
    series: [
      { key: 'energy_score', name: 'head' },
      { key: 'energy_score_train_dist', name: 'training-distribution baseline' },
    ],
  },
  {
    id: 'spread_ratio',
    title: "Spread / skill of the head's two draws: their distance apart over their distance to the target (1: as spread as the targets; below: too alike)",
    y: 'spread / skill',
    series: [
      { key: 'spread_ratio', name: 'next sentence' },
      { key: 'spread_ratio_ahead', name: 'two sentences ahead (own draw as context)' },
      { key: 'spread_ratio_train_dist', name: 'training-distribution baseline' },
    ],
    rule: { value: 1, label: 'as spread as the targets' },
  },
  { id: 'roundtrip_l2', title: 'Round-trip L2 (decode the prediction, re-encode, compare)', y: 'L2', series: [{ key: 'roundtrip_l2', name: 'round-trip L2' }] },
  { id: 'brier_lm', title: 'BrierLM of sampled next sentences (higher is better)', y: 'BrierLM', series: [{ key: 'brier_lm', name: 'BrierLM' }] },
];

/** A metric-over-steps chart: one line per point and metric. */
export interface CurveChart {
  id: string;
  title: string;
  y: string;
  metrics: readonly { name: string; label: string }[];
}

export const CURVE_CHARTS: readonly CurveChart[] = [
  {
    id: 'vector-use',
    title: 'What the sentence vector carries: validation decoder loss, own vs shuffled vectors',
    y: 'loss (nats/token)',
    metrics: [
      { name: 'val/recon_loss_own', label: 'own vector' },
      { name: 'val/recon_loss_shuffled', label: 'vectors shuffled across the batch' },
    ],
  },
  {
    id: 'loss',
    title: 'Training and validation loss',
    y: 'loss',
    metrics: [
      { name: 'train/loss', label: 'train' },
      { name: 'val/loss', label: 'validation' },
    ],
  },
];

export interface Chart {
  /** File name without `.png`. */
  id: string;
  title: string;
  spec: ChartSpec;
}

const WIDTH = 560;
const LEGEND = { orient: 'bottom', direction: 'vertical', labelLimit: 480 } as const;
const HEIGHT = 300;

/** Every chart the runs have data for, in the order of the spec lists. */
export async function experimentCharts(stages: readonly StageResults[]): Promise<Chart[]> {
  const charts: Chart[] = [];
  for (const c of FIGURE_CHARTS) {
    const chart = figureChart(c, stages);
    if (chart) charts.push(chart);
  }
  const context = pplByContextChart(stages);
  if (context) charts.push(context);
  const byHorizon = horizonChart(stages);
  if (byHorizon) charts.push(byHorizon);
  for (const c of CURVE_CHARTS) charts.push(...(await curveCharts(c, stages)));
  return charts;
}

interface NamedPoint {
  point: ResultPoint;
  name: string;
}

function namedPoints(stages: readonly StageResults[], has: (p: ResultPoint) => boolean): NamedPoint[] {
  return stages.flatMap((s) => s.points.filter(has).map((point) => ({ point, name: pointName(point, s.points.length) })));
}

/** What the marks and whiskers are, from the estimates drawn. */
function intervalNote(estimates: readonly FigureEstimate[]): string[] {
  const ns = [...new Set(estimates.map((e) => e.n))].sort((a, b) => a - b);
  const parts = [ns.some((n) => n > 1) ? `mean over ${ns.join(' or ')} seeds` : 'one seed'];
  const kinds = new Set(estimates.map((e) => e.interval).filter((k) => k !== undefined));
  if (kinds.has('seeds')) parts.push('whiskers: 95% interval of the mean over seeds (Student t)');
  if (kinds.has('documents')) parts.push(`whiskers${kinds.has('seeds') ? ' (one seed)' : ''}: 95% bootstrap interval over the eval documents`);
  if (kinds.has('passes')) parts.push(`whiskers${kinds.has('seeds') ? ' (one seed)' : ''}: range over the bench's timed passes`);
  return parts;
}

/**
 * How a stage's points lie on scaling curves: x is the one config key with a positive number at
 * every point and 2+ distinct values; the other keys the points differ by (a second corpus,
 * say) name one curve each.
 */
interface SweepAxis {
  key: string;
  x(p: ResultPoint): number;
  curve(p: ResultPoint): string;
}

function sweepAxis(points: readonly ResultPoint[]): SweepAxis | undefined {
  if (points.length < 2) return undefined;
  const keys = Object.keys(points[0]!.values);
  const numeric = keys.filter((k) => points.every((p) => typeof p.values[k] === 'number' && (p.values[k] as number) > 0) && new Set(points.map((p) => p.values[k])).size > 1);
  if (numeric.length !== 1) return undefined;
  const key = numeric[0]!;
  const others = keys.filter((k) => k !== key);
  return { key, x: (p) => p.values[key] as number, curve: (p) => others.map((k) => `${k}=${canonicalJson(p.values[k])}`).join(', ') };
}

export function figureChart(c: FigureChart, stages: readonly StageResults[]): Chart | undefined {
  const first = c.series[0]!.key;
  const named = namedPoints(stages, (p) => p.runs.some((r) => figureValue(r, first) !== undefined));
  if (named.length === 0) return undefined;
  const stagesWith = new Set(named.map((n) => n.point.stage));
  const axis = stagesWith.size === 1 ? sweepAxis(stages.find((s) => stagesWith.has(s.stage))!.points) : undefined;
  const present = c.series.filter((s) => named.some(({ point }) => figureEstimate(point.runs, s.key) !== undefined));
  const rows: Record<string, unknown>[] = [];
  const estimates: FigureEstimate[] = [];
  for (const { point, name } of named) {
    for (const s of present) {
      const e = figureEstimate(point.runs, s.key);
      if (!e) continue;
      estimates.push(e);
      // On scaling curves a colour is a curve (other swept keys) and series; on bars, the series.
      const line = axis?.curve(point) ?? '';
      const series = line && present.length > 1 ? `${line}: ${s.name}` : line || s.name;
      rows.push({ point: name, x: axis?.x(point) ?? null, series, mean: e.mean, low: e.low ?? null, high: e.high ?? null, n: e.n });
    }
  }
  const series = [...new Set(rows.map((r) => r['series'] as string))];
  const key = axis?.key;
  const color = { field: 'series', type: 'nominal', sort: series, title: null, legend: series.length > 1 ? LEGEND : null } as const;
  const whiskers = rows.some((r) => r['low'] !== null);
  const rule = c.rule
    ? [
        { mark: { type: 'rule', strokeDash: [4, 4], color: '#666' }, encoding: { y: { datum: c.rule.value } } },
        { mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#444' }, encoding: { y: { datum: c.rule.value }, x: { value: 0 }, text: { value: c.rule.label } } },
      ]
    : [];
  let layers: unknown[];
  if (key) {
    const xs = [...new Set(rows.map((r) => r['x'] as number))].sort((a, b) => a - b);
    const log = xs[xs.length - 1]! / xs[0]! >= 4;
    const x = { field: 'x', type: 'quantitative', title: key, scale: log ? { type: 'log', nice: false, padding: 24 } : { type: 'linear', zero: false, nice: false, padding: 24 }, axis: { values: xs, format: '~g' } } as const;
    const y = { field: 'mean', type: 'quantitative', title: c.y, scale: { zero: false } } as const;
    layers = [
      { mark: { type: 'line', point: { size: 60 } }, encoding: { x, y, color } },
      ...(whiskers ? [{ mark: { type: 'errorbar', ticks: { size: 10 } }, encoding: { x, y: { field: 'low', type: 'quantitative', title: c.y }, y2: { field: 'high' }, color } }] : []),
    ];
  } else {
    const names = named.map((n) => n.name);
    const x = { field: 'point', type: 'nominal', sort: names, title: null, axis: { labelAngle: names.some((n) => n.length > 12) ? -25 : 0, labelLimit: 220 } } as const;
    const xOffset = { field: 'series', sort: series } as const;
    layers = [
      { mark: 'bar', encoding: { x, xOffset, y: { field: 'mean', type: 'quantitative', title: c.y }, color } },
      ...(whiskers ? [{ mark: { type: 'errorbar', ticks: { size: 10 }, color: '#222' }, encoding: { x, xOffset, y: { field: 'low', type: 'quantitative', title: c.y }, y2: { field: 'high' } } }] : []),
    ];
  }
  const spec = {
    title: { text: c.title, subtitle: intervalNote(estimates) },
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    layer: [...layers, ...rule],
  } as unknown as ChartSpec;
  return { id: c.id, title: c.title, spec };
}

/** PPL per context bucket (the eval stage's `ppl_by_context`), a line per point, mean over seeds. */
export function pplByContextChart(stages: readonly StageResults[]): Chart | undefined {
  const named = namedPoints(stages, (p) => contextBuckets(p.runs).length > 0);
  const buckets = contextBuckets(named.flatMap((n) => n.point.runs));
  const rows: Record<string, unknown>[] = [];
  const ns = new Set<number>();
  for (const { point, name } of named) {
    for (const b of buckets) {
      const f = contextFigures(point, b);
      if (!f) continue;
      ns.add(f.ppl.n);
      rows.push({ point: name, bucket: b, mean: f.ppl.mean, tokens: f.tokens?.mean ?? null });
    }
  }
  if (rows.length === 0) return undefined;
  const many = [...ns].some((n) => n > 1);
  const spec = {
    title: {
      text: 'PPL by the context tokens behind each scored sentence',
      subtitle: [many ? `mean over ${[...ns].sort().join(' or ')} seeds` : 'one seed', 'buckets without scored tokens are left out'],
    },
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    mark: { type: 'line', point: { size: 60 } },
    encoding: {
      x: { field: 'bucket', type: 'ordinal', sort: buckets, title: 'context tokens', axis: { labelAngle: 0 } },
      y: { field: 'mean', type: 'quantitative', title: 'PPL', scale: { zero: false } },
      color: { field: 'point', type: 'nominal', sort: named.map((n) => n.name), title: null, legend: LEGEND },
    },
  } as unknown as ChartSpec;
  return { id: 'ppl_by_context', title: 'PPL by context tokens', spec };
}

/**
 * The concept heads' energy score by horizon (`energy_score_by_horizon`) minus the training
 * distribution's on the same targets, a line per point over the horizons with its whiskers, and
 * a rule at 0: where a line crosses it, the head's own rollout is no better a distribution than
 * sampling the training embeddings.
 */
export function horizonChart(stages: readonly StageResults[]): Chart | undefined {
  const named = namedPoints(stages, (p) => horizons(p.runs).length > 1);
  const rows: Record<string, unknown>[] = [];
  const estimates: FigureEstimate[] = [];
  for (const { point, name } of named) {
    for (const h of horizons(point.runs)) {
      const e = horizonFigures(point, h)?.diffTrainDist;
      if (!e) continue;
      estimates.push(e);
      rows.push({ point: name, horizon: h, mean: e.mean, low: e.low ?? null, high: e.high ?? null });
    }
  }
  if (rows.length === 0) return undefined;
  const hs = [...new Set(rows.map((r) => r['horizon'] as number))].sort((a, b) => a - b);
  const title = "Energy score by horizon, minus the training distribution's";
  const x = { field: 'horizon', type: 'quantitative', title: "sentences ahead (1: teacher-forced; h: after the head's own h - 1 draws)", scale: { domain: [hs[0]! - 0.2, hs[hs.length - 1]! + 0.2], nice: false }, axis: { values: hs, format: 'd' } } as const;
  const y = { field: 'mean', type: 'quantitative', title: 'ES - training dist. (lower is better)', scale: { zero: false } } as const;
  const color = { field: 'point', type: 'nominal', sort: named.map((n) => n.name), title: null, legend: LEGEND } as const;
  const spec = {
    title: { text: title, subtitle: [...intervalNote(estimates), 'the same targets at every horizon; at 0 a rollout is no better than sampling the training embeddings'] },
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    layer: [
      { mark: { type: 'line', point: { size: 60 } }, encoding: { x, y, color } },
      ...(rows.some((r) => r['low'] !== null) ? [{ mark: { type: 'errorbar', ticks: { size: 10 } }, encoding: { x, y: { field: 'low', type: 'quantitative', title: y.title }, y2: { field: 'high' }, color } }] : []),
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#666' }, encoding: { y: { datum: 0 } } },
      { mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#444' }, encoding: { y: { datum: 0 }, x: { value: 0 }, text: { value: 'training distribution' } } },
    ],
  } as unknown as ChartSpec;
  return { id: 'energy_score_by_horizon', title, spec };
}

/** One chart per stage kind whose runs logged the curve's metrics (mean over a point's runs at each step). */
export async function curveCharts(c: CurveChart, stages: readonly StageResults[]): Promise<Chart[]> {
  const names = c.metrics.map((m) => m.name);
  const byKind = new Map<string, Record<string, unknown>[]>();
  const order = new Map<string, string[]>();
  for (const s of stages) {
    for (const p of s.points) {
      const name = pointName(p, s.points.length);
      const sums = new Map<string, { sum: number; n: number; step: number; metric: string }>();
      for (const r of p.runs) {
        const { series } = await readMetrics(r.dir, { names });
        for (const m of c.metrics) {
          const ser = series[m.name];
          if (!ser) continue;
          for (let i = 0; i < ser.step.length; i++) {
            const v = ser.value[i]!;
            if (!Number.isFinite(v)) continue;
            const k = `${m.label}\u0000${ser.step[i]}`;
            const acc = sums.get(k) ?? { sum: 0, n: 0, step: ser.step[i]!, metric: m.label };
            acc.sum += v;
            acc.n++;
            sums.set(k, acc);
          }
        }
      }
      if (sums.size === 0) continue;
      const rows = byKind.get(s.kind) ?? [];
      for (const a of sums.values()) rows.push({ point: name, metric: a.metric, step: a.step, value: a.sum / a.n, n: a.n });
      byKind.set(s.kind, rows);
      order.set(s.kind, [...(order.get(s.kind) ?? []), name]);
    }
  }
  return [...byKind].map(([kind, rows]) => {
    const points = order.get(kind)!;
    const metrics = c.metrics.map((m) => m.label).filter((l) => rows.some((r) => r['metric'] === l));
    const many = rows.some((r) => (r['n'] as number) > 1);
    // One point: colour tells the metrics apart; several: colour is the point, the dash the metric.
    const encoding =
      points.length === 1
        ? { color: { field: 'metric', type: 'nominal', sort: metrics, title: null, legend: LEGEND } }
        : {
            color: { field: 'point', type: 'nominal', sort: points, title: null, legend: LEGEND },
            strokeDash: { field: 'metric', type: 'nominal', sort: metrics, title: null, legend: LEGEND },
          };
    const spec = {
      title: { text: c.title, subtitle: `${kind} stages${points.length === 1 ? ` (${points[0]})` : ''}; ${many ? 'mean over the seeds at each step' : 'one seed'}` },
      width: WIDTH,
      height: HEIGHT,
      data: { values: rows },
      // Point markers would turn the dash legend into dots: only a one-point chart (colour = metric) gets them.
      mark: { type: 'line', point: points.length === 1 && rows.length <= 60 },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step', axis: { format: 'd', tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', title: c.y, scale: { zero: false } },
        ...encoding,
      },
    } as unknown as ChartSpec;
    return { id: `${c.id}-${kind}`, title: `${c.title} (${kind})`, spec };
  });
}

