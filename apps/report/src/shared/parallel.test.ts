import { describe, expect, test } from 'vitest';
import { axisValue, brushPredicate, defaultMetrics, describeBrush, metricChoices, parallelAxes } from './parallel.js';
import type { RunRow } from './types.js';

const run = (id: string, config: RunRow['config'], ppl?: number): RunRow => ({
  id,
  experiment: 'x',
  runId: id,
  ok: true,
  status: 'done',
  config,
  eval: ppl === undefined ? {} : { ppl },
  metrics: { loss: { count: 2, last: 1, lastStep: 2, min: 1, max: 2, best: 1, bestStep: 2, direction: 'min' } },
});

const rows = [
  run('a', { 'train.lr': 0.001, 'model.kind': 'sllm', 'data.corpus': 'brown' }, 40),
  run('b', { 'train.lr': 0.0003, 'model.kind': 'sllm', 'data.corpus': 'brown' }, 45),
  run('c', { 'train.lr': 0.001, 'model.kind': 'token-lm', 'data.corpus': 'brown' }, 50),
  run('d', { 'train.lr': 0.0001, 'data.corpus': 'brown' }),
];

describe('parallel coordinates', () => {
  test('metric axes offered: eval results, then each metric\'s last value, and its best where it has a better side', () => {
    const lr = { count: 2, last: 0.1, lastStep: 2, min: 0.1, max: 0.2, direction: 'none' as const };
    const withLr = rows.map((r) => ({ ...r, metrics: { ...r.metrics, 'train/lr': lr } }));
    expect(metricChoices(withLr)).toEqual(['eval.ppl', 'loss.last', 'loss.best', 'train/lr.last']);
  });

  test('the meta keys that differ come first (the runs of one pipeline share its config)', () => {
    const withInfo = rows.map((r, i) => ({ ...r, info: { stage: i < 2 ? 'svae' : 'lm', requested: 'cpu' } }));
    expect(parallelAxes(withInfo, []).map((a) => [a.field, a.categories])).toEqual([
      ['info.stage', ['lm', 'svae']],
      ['config.model.kind', ['sllm', 'token-lm', '(none)']],
      ['config.train.lr', ['1.000e-4', '3.000e-4', '0.001']],
    ]);
  });

  test('axes: the config keys that differ (as categories, missing last), then the chosen metrics', () => {
    const axes = parallelAxes(rows, ['eval.ppl', 'loss.last']);
    expect(axes.map((a) => [a.field, a.label, a.kind, a.categories])).toEqual([
      ['config.model.kind', 'model.kind', 'category', ['sllm', 'token-lm', '(none)']],
      ['config.train.lr', 'train.lr', 'category', ['1.000e-4', '3.000e-4', '0.001']],
      ['eval.ppl', 'ppl', 'value', []],
      ['loss.last', 'loss.last', 'value', []],
    ]);
    expect(rows.map((r) => axisValue(axes[2]!, r))).toEqual([40, 45, 50, null]);
    expect(axisValue(axes[0]!, rows[3]!)).toBe('(none)');
  });

  test('default metrics: eval results every run has, else a loss', () => {
    expect(defaultMetrics(rows.slice(0, 3))).toEqual(['eval.ppl']);
    expect(defaultMetrics(rows)).toEqual(['loss.last']);
  });

  test('default metrics: a figure\'s interval and range bounds are not axes of their own', () => {
    const speed = (id: string, v: number, extra: Record<string, number> = {}): RunRow => ({ ...run(id, {}), eval: { tokens_per_s: v, tokens_per_s_min: v - 10, tokens_per_s_max: v + 10, ppl: 50, ppl_ci_low: 45, ppl_ci_high: 55, ...extra } });
    expect(defaultMetrics([speed('a', 100), speed('b', 200)])).toEqual(['eval.ppl', 'eval.tokens_per_s']);
    // A key ending in _min whose stem is no figure is one.
    expect(defaultMetrics([speed('a', 100, { context_tokens_min: 3 }), speed('b', 200, { context_tokens_min: 3 })])).toEqual(['eval.ppl', 'eval.tokens_per_s', 'eval.context_tokens_min']);
  });

  test('a brush keeps the runs inside every brushed axis; a missing value is outside', () => {
    const keep = (b: Parameters<typeof brushPredicate>[0]) => rows.filter(brushPredicate(b)).map((r) => r.id);
    expect(keep({})).toEqual(['a', 'b', 'c', 'd']);
    expect(keep({ 'eval.ppl': { kind: 'value', intervals: [[50, 42]] } })).toEqual(['b', 'c']);
    expect(keep({ 'eval.ppl': { kind: 'value', intervals: [[0, 41], [49, 60]] } })).toEqual(['a', 'c']);
    expect(keep({ 'eval.ppl': { kind: 'value', intervals: [[0, 100]] }, 'config.model.kind': { kind: 'category', values: ['sllm'], intervals: [[0, 0]] } })).toEqual(['a', 'b']);
    expect(keep({ 'config.model.kind': { kind: 'category', values: ['(none)'], intervals: [[2, 2]] } })).toEqual(['d']);
    expect(describeBrush({ 'eval.ppl': { kind: 'value', intervals: [[50, 42]] }, 'config.model.kind': { kind: 'category', values: ['sllm', 'token-lm'], intervals: [[0, 1]] } })).toBe('ppl in [42, 50]; model.kind in {sllm, token-lm}');
  });
});
