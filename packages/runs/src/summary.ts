import type { MetricColumns } from './metrics-file.js';
import { formatVersion, type EvalValue, type MetricDirection, type MetricSummary, type Summary } from './format.js';

/**
 * Scores and rates: accuracy-like figures and anything per second (tokens, sentences, GFLOP: the
 * loop's `train/gflop_per_s`). Not the energy score, a proper scoring rule scored as a loss.
 */
const HIGHER_IS_BETTER = /(^|[_./-])(acc|accuracy|bleu|rouge|f1|tokens_per_s|sentences_per_s|g?flop_per_s|throughput|(?<!energy[_./-])score|auc)([_./-]|$)/i;

/** Whether lower or higher is better for a metric, guessed from its name (losses, PPL, L2: lower). */
export function metricDirection(name: string): MetricDirection {
  return HIGHER_IS_BETTER.test(name) ? 'max' : 'min';
}

/** The learning-rate schedule, diagnostics (gradient norm), counts (tokens or targets per batch), and the process's load (`sys/...`). */
const NO_BETTER_SIDE = /((^|\/)(lr|grad_norm|tokens|targets|dropped_rows)$)|((^|\/)sys\/)/;

/**
 * Whether a metric has a better side, so that its `best` means something. summary.json gives
 * every metric a `best` (the extreme that {@link metricDirection} guesses: a field each reader
 * expects), but the "best" learning rate or gradient norm is only its minimum: tables leave
 * `best` out for these.
 */
export function metricHasBetterSide(name: string): boolean {
  return !NO_BETTER_SIDE.test(name);
}

/**
 * last/min/max/best per metric over finite values; `last` is the value at the highest step
 * (the later row wins a tie). Metrics with no finite value are left out.
 */
export function summarizeMetrics(
  columns: MetricColumns,
  directions: Readonly<Record<string, MetricDirection>> = {},
): Record<string, MetricSummary> {
  const out: Record<string, MetricSummary> = {};
  for (let i = 0; i < columns.name.length; i++) {
    const value = columns.value[i]!;
    if (!Number.isFinite(value)) continue;
    const name = columns.name[i]!;
    const step = columns.step[i]!;
    const s = out[name];
    if (s === undefined) {
      out[name] = {
        count: 1,
        last: value,
        lastStep: step,
        min: value,
        max: value,
        best: value,
        bestStep: step,
        direction: directions[name] ?? metricDirection(name),
      };
      continue;
    }
    s.count++;
    if (step >= s.lastStep) {
      s.last = value;
      s.lastStep = step;
    }
    s.min = Math.min(s.min, value);
    s.max = Math.max(s.max, value);
    if (s.direction === 'min' ? value < s.best : value > s.best) {
      s.best = value;
      s.bestStep = step;
    }
  }
  return out;
}

export function buildSummary(
  columns: MetricColumns,
  evalResults: Record<string, EvalValue>,
  directions?: Readonly<Record<string, MetricDirection>>,
): Summary {
  return {
    formatVersion,
    updatedAt: new Date().toISOString(),
    metrics: summarizeMetrics(columns, directions),
    eval: evalResults,
  };
}
