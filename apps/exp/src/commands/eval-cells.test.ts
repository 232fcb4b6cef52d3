import { describe, expect, test } from 'vitest';
import { evalCells } from './eval-cells.js';

describe('evalCells', () => {
  test('folds each interval and range into its figure, writes PPL by context, the energy score by horizon and stage costs on one line, keeps the rest', () => {
    const rows = evalCells({
      ppl: 100.72,
      ppl_ci_low: 91.474,
      ppl_ci_high: 112.7,
      ppl_tokens: 29804,
      // The range of the bench's passes, in parentheses; a _min/_max whose base is no figure (context) stays.
      tokens_per_s: 1229.4,
      tokens_per_s_min: 1021.6,
      tokens_per_s_max: 1279.7,
      context_tokens_mean: 49.29,
      context_tokens_min: 3,
      // An interval whose figure is absent (or not a number) stays visible.
      orphan_ci_low: 0.5,
      ppl_by_context: { '0-32': { ppl: 110.51, tokens: 2708, sentences: 133 }, '32-64': { ppl: 99.692, tokens: 26819, sentences: 1319 }, '256+': { ppl: null, tokens: 0, sentences: 0 } },
      stage_costs: { eval: { kind: 'eval', startedAt: 'x', wall_s: 8.906, cpu_user_s: 10.5, cpu_system_s: 0.463, load_avg_start: [1], load_avg_end: [1] }, odd: 3 },
      energy_score_by_horizon: { '2': { energy_score: 2.61, diff_train_dist: -0.31, diff_train_dist_ci_low: -0.4, diff_train_dist_ci_high: -0.22, targets: 40 }, '1': { energy_score: 2.4, diff_train_dist: -0.52, targets: 40 } },
      ppl_context: 'matched',
      tags: ['a', 'b'],
    });
    expect(rows).toEqual([
      ['ppl', '100.7 [91.5, 112.7]'],
      ['ppl_tokens', 29804],
      ['tokens_per_s', '1229 (1022-1280)'],
      ['context_tokens_mean', 49.29],
      ['context_tokens_min', 3],
      ['orphan_ci_low', 0.5],
      ['ppl_by_context', '0-32: 110.5 (2708 tokens), 32-64: 99.692 (26819 tokens)'],
      ['stage_costs', 'eval 8.906 s wall, 10.963 CPU s; odd 3'],
      ['energy_score_by_horizon', '1 ahead 2.400 (- train-dist -0.5200), 2 ahead 2.610 (- train-dist -0.3100 [-0.4000, -0.2200]); 40 targets'],
      ['ppl_context', 'matched'],
      ['tags', '["a","b"]'],
    ]);
  });
});
