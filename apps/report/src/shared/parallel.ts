/**
 * Parallel coordinates over runs: which axes (the config keys that differ, then chosen metric
 * fields), each run's value on them, and the filter a brush on the axes stands for.
 */
import { spreadBase } from '@sentencelab/runs/eval-keys';
import { varyingKeys } from './config-diff.js';
import { compareScalars, fieldValue, knownFields } from './fields.js';
import { formatValue } from './flatten.js';
import type { RunRow, Scalar } from './types.js';

/** Config axes shown at most (a sweep rarely varies more keys; past that the lines are unreadable). */
export const MAX_CONFIG_AXES = 12;
/** The label of a missing value on a category axis. */
export const MISSING = '(none)';

export interface ParallelAxis {
  /** A field name as the filter and the table know it: `config.train.lr`, `eval.ppl`, `loss.last`. */
  field: string;
  label: string;
  /** value: every run has a number here; category: anything else (labels in `categories`). */
  kind: 'value' | 'category';
  categories: string[];
}

/** A brushed axis: the value intervals, or the category labels, a run must fall in. */
export type BrushRange =
  | { kind: 'value'; intervals: [number, number][] }
  /** `intervals`: the brushed ranges in category positions (0, 1, ...), as drawn. */
  | { kind: 'category'; values: string[]; intervals: [number, number][] };
/** Brushed axes by field; a run passes when it falls in every one. */
export type Brush = Record<string, BrushRange>;

/** The metric fields offered as axes: numeric eval results, then each metric's last and (where it has a better side) best value. */
export function metricChoices(rows: readonly RunRow[]): string[] {
  const fields = knownFields(rows);
  return [...fields.eval.map((k) => `eval.${k}`), ...fields.metrics.flatMap((m) => [`${m}.last`, ...(fields.best.includes(m) ? [`${m}.best`] : [])])];
}

/** Eval results offered first as default axes (the headline figures of each kind of run). */
const HEADLINE_EVAL = ['ppl', 'l2', 'contrastive_acc', 'recon_token_acc', 'brier_lm', 'tokens_per_s', 'params'];

/**
 * Default metric axes: up to 3 eval results that every run has (headline figures first; a
 * figure's interval or range bounds are no axes of their own), else the last value of a loss.
 */
export function defaultMetrics(rows: readonly RunRow[]): string[] {
  const fields = knownFields(rows);
  const rank = (k: string) => (HEADLINE_EVAL.includes(k) ? HEADLINE_EVAL.indexOf(k) : HEADLINE_EVAL.length);
  const shared = fields.eval.filter((k) => rows.every((r) => typeof r.eval?.[k] === 'number' && spreadBase(k, r.eval) === undefined)).sort((a, b) => rank(a) - rank(b));
  if (shared.length > 0) return shared.slice(0, 3).map((k) => `eval.${k}`);
  const loss = fields.metrics.find((m) => /(^|\/)loss$/.test(m)) ?? fields.metrics[0];
  return loss ? [`${loss}.last`] : [];
}

/**
 * The meta keys that differ across `rows` (`info.kind`, `info.stage`: the runs of one pipeline
 * share its config and differ in these; up to 3, as in the runs table), the config keys that
 * differ (up to {@link MAX_CONFIG_AXES}), then `metrics`.
 */
export function parallelAxes(rows: readonly RunRow[], metrics: readonly string[]): ParallelAxis[] {
  const info = varyingKeys(rows.map((r) => r.info ?? {}))
    .slice(0, 3)
    .map((k) => `info.${k}`);
  const config = varyingKeys(rows.map((r) => r.config ?? {}))
    .slice(0, MAX_CONFIG_AXES)
    .map((k) => `config.${k}`);
  return [...info, ...config, ...metrics].map((field) => {
    const values = rows.map((r) => fieldValue(r, field));
    const label = field.replace(/^(config|eval|info)\./, '');
    const numbers = values.filter((v) => v !== undefined && v !== null).every((v) => typeof v === 'number');
    const isConfig = field.startsWith('config.') || field.startsWith('info.');
    if (numbers && (!isConfig || (values.every((v) => typeof v === 'number') && new Set(values).size > 8))) return { field, label, kind: 'value', categories: [] };
    // Config values (a sweep's few settings) as evenly spaced categories, in numeric/text order, missing last.
    const distinct = [...new Map(values.map((v) => [categoryOf(v), v ?? null])).entries()].sort(([a, x], [b, y]) => (a === MISSING) !== (b === MISSING) ? (a === MISSING ? 1 : -1) : compareScalars(x, y));
    return { field, label, kind: 'category', categories: distinct.map(([c]) => c) };
  });
}

function categoryOf(v: Scalar | undefined): string {
  return v === undefined || v === null ? MISSING : formatValue(v);
}

/** A run's coordinate on an axis: a number on a value axis (null when missing), a category label otherwise. */
export function axisValue(axis: ParallelAxis, row: RunRow): number | string | null {
  const v = fieldValue(row, axis.field);
  if (axis.kind === 'category') return categoryOf(v);
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The runs a brush keeps: in every brushed axis's intervals or categories (a missing value is outside). */
export function brushPredicate(brush: Brush): (row: RunRow) => boolean {
  const entries = Object.entries(brush);
  if (entries.length === 0) return () => true;
  return (row) =>
    entries.every(([field, range]) => {
      const v = fieldValue(row, field);
      if (range.kind === 'category') return range.values.includes(categoryOf(v));
      return typeof v === 'number' && range.intervals.some(([lo, hi]) => v >= Math.min(lo, hi) && v <= Math.max(lo, hi));
    });
}

/** `lr in [0.0003, 0.001]; kind in {sllm}`: what the brush keeps, for the table's note. */
export function describeBrush(brush: Brush): string {
  return Object.entries(brush)
    .map(([field, r]) => {
      const name = field.replace(/^(config|eval|info)\./, '');
      return r.kind === 'category' ? `${name} in {${r.values.join(', ')}}` : `${name} in ${r.intervals.map(([a, b]) => `[${formatValue(Math.min(a, b))}, ${formatValue(Math.max(a, b))}]`).join(' or ')}`;
    })
    .join('; ');
}
