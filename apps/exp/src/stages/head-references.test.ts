import { describe, expect, test } from 'vitest';
import { comparisonTable, type ModelResult } from './eval.js';
import { headReferenceRows } from './head-references.js';

const head = (stage: string, l2CopyPrev: number, extra: Record<string, number> = {}): ModelResult => ({
  stage,
  kind: 'lcm-mse',
  results: { l2: 5, l2_ci_low: 4.5, l2_ci_high: 5.5, contrastive_acc: 0.6, l2_copy_prev: l2CopyPrev, l2_copy_prev_ci_low: l2CopyPrev - 1, l2_copy_prev_ci_high: l2CopyPrev + 1, contrastive_acc_copy_prev: 0.55, ...extra },
});

describe('headReferenceRows', () => {
  test('one row per baseline for heads scored on the same targets, its figures (and intervals) under the columns they compare with', () => {
    const rows = headReferenceRows([head('mse', 7, { energy_score_train_dist: 3.5 }), head('energy', 7, { energy_score_train_dist: 3.5 })]);
    expect(rows).toEqual([
      { stage: 'copy-previous', kind: 'baseline', results: { l2: 7, l2_ci_low: 6, l2_ci_high: 8, contrastive_acc: 0.55 } },
      { stage: 'training dist.', kind: 'baseline', results: { energy_score: 3.5 } },
    ]);
  });

  test('heads whose baselines differ (another SentenceVAE) get a row each, named after their heads', () => {
    const rows = headReferenceRows([head('a', 7), head('b', 6), head('c', 7)]);
    expect(rows.map((r) => [r.stage, r.results['l2']])).toEqual([
      ['copy-previous (of a, c)', 7],
      ['copy-previous (of b)', 6],
    ]);
    expect(headReferenceRows([{ stage: 'svae', kind: 'sentence-vae', results: { recon_token_acc: 0.9 } }])).toEqual([]);
  });

  test("the heads' tables: as distributions (no baseline columns, no point figures), as points (with the copy-previous flag)", () => {
    const heads = [head('mse', 7, { energy_score: 5, energy_score_train_dist: 3.5, roundtrip_l2: 2 })];
    const all = [...heads, ...headReferenceRows(heads)];
    const distribution = comparisonTable(all.filter((r) => r.results['energy_score'] !== undefined), null, 'distribution').split('\n');
    expect(distribution[0]).toMatch(/^model\s+kind\s+energy score$/);
    expect(distribution.slice(2)).toEqual([expect.stringMatching(/^mse\s+lcm-mse\s+5$/), expect.stringMatching(/^training dist\.\s+baseline\s+3\.50*$/)]);
    const point = comparisonTable(all.filter((r) => r.results['l2'] !== undefined), null, 'point').split('\n');
    expect(point[0]).toMatch(/^model\s+kind\s+L2\s+contr\. acc\s+round-trip L2\s+vs copy-prev$/);
    expect(point[2]).toMatch(/^mse\s+lcm-mse\s+5\.0+ \[4\.50*, 5\.50*\]\s+0\.60*\s+2\s+beats$/);
    expect(point[3]).toMatch(/^copy-previous\s+baseline\s+7 \[6, 8\]\s+0\.550*\s+-\s+-$/);
  });
});
