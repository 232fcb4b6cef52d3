import { describe, expect, test } from 'vitest';
import { aboveOneKey, headTablePart, HIGHER_IS_BETTER, intervalBase, intervalEntries, intervalKeys, noChange, PAIRED_COMPARISONS, pairedBaselineKey, pairedBoundsKeys, pairedSide, rangeKeys, spreadBase, storedBounds, storedSpread } from './eval-keys.js';

describe('interval keys', () => {
  test('a figure and its interval keys map both ways; no entries without an interval', () => {
    expect(intervalKeys('ppl')).toEqual({ low: 'ppl_ci_low', high: 'ppl_ci_high' });
    expect(intervalBase('ppl_ci_low')).toBe('ppl');
    expect(intervalBase('recon_token_acc_ci_high')).toBe('recon_token_acc');
    expect(intervalBase('ppl')).toBeUndefined();
    expect(intervalBase('_ci_low')).toBeUndefined();
    expect(intervalEntries('ppl', { low: 1, high: 2 })).toEqual({ ppl_ci_low: 1, ppl_ci_high: 2 });
    expect(intervalEntries('ppl', undefined)).toEqual({});
    // A measurement's range (the bench's passes) is not an interval: keys of its own.
    expect(rangeKeys('tokens_per_s')).toEqual({ low: 'tokens_per_s_min', high: 'tokens_per_s_max' });
    expect(intervalBase('tokens_per_s_min')).toBeUndefined();
    // Reading them back: both bounds numbers, else nothing.
    const record = { ppl: 50, ppl_ci_low: 45, ppl_ci_high: 55, tokens_per_s_min: 900, tokens_per_s_max: null };
    expect(storedBounds(record, intervalKeys('ppl'))).toEqual({ low: 45, high: 55 });
    expect(storedBounds(record, rangeKeys('tokens_per_s'))).toBeUndefined();
    expect(storedBounds(undefined, intervalKeys('ppl'))).toBeUndefined();
  });
});

describe('stored spreads', () => {
  test('an interval first, else a range; bound keys belong to their figure only where the record holds it', () => {
    const record = { ppl: 100.7, ppl_ci_low: 91.5, ppl_ci_high: 112.7, tokens_per_s: 1229, tokens_per_s_min: 1022, tokens_per_s_max: 1280, context_tokens_mean: 49.3, context_tokens_min: 3, params: 5 };
    expect(storedSpread(record, 'ppl')).toEqual({ kind: 'interval', low: 91.5, high: 112.7 });
    expect(storedSpread(record, 'tokens_per_s')).toEqual({ kind: 'range', low: 1022, high: 1280 });
    expect(storedSpread(record, 'params')).toBeUndefined();
    expect(spreadBase('ppl_ci_high', record)).toBe('ppl');
    expect(spreadBase('tokens_per_s_min', record)).toBe('tokens_per_s');
    expect(spreadBase('context_tokens_min', record)).toBeUndefined();
    expect(spreadBase('ppl', record)).toBeUndefined();
  });

  test('paired ratios name their keys: PPL with an interval, tok/s with a per-pass range', () => {
    const ppl = PAIRED_COMPARISONS.get('ppl')!;
    const speed = PAIRED_COMPARISONS.get('tokens_per_s')!;
    expect(pairedBoundsKeys(ppl)).toEqual({ low: 'ppl_ratio_ci_low', high: 'ppl_ratio_ci_high' });
    expect(pairedBoundsKeys(speed)).toEqual({ low: 'tokens_per_s_ratio_min', high: 'tokens_per_s_ratio_max' });
    expect(pairedBaselineKey(ppl.key)).toBe('ppl_ratio_baseline');
    expect(aboveOneKey(speed.key)).toBe('tokens_per_s_ratio_above_1');
  });

  test('a paired interval against no change: 1 for a ratio, 0 for a difference; both bounds at it say nothing', () => {
    const ppl = PAIRED_COMPARISONS.get('ppl')!;
    const brier = PAIRED_COMPARISONS.get('brier_1')!;
    expect([noChange(ppl), noChange(brier)]).toEqual([1, 0]);
    expect(pairedSide(ppl, { low: 0.81, high: 0.83 })).toBe('below');
    expect(pairedSide(ppl, { low: 1.1, high: 1.2 })).toBe('above');
    expect(pairedSide(ppl, { low: 0.9, high: 1 })).toBe('includes');
    expect(pairedSide(brier, { low: -0.01, high: 0.05 })).toBe('includes');
    expect(pairedSide(brier, { low: 0.01, high: 0.05 })).toBe('above');
    expect(pairedSide(brier, { low: 0, high: 0 })).toBe('same');
    expect(pairedSide(ppl, { low: 1, high: 1 })).toBe('same');
  });

  test("a paired comparison is better on the same side as its figure", () => {
    for (const [figure, paired] of PAIRED_COMPARISONS) expect([paired.key, HIGHER_IS_BETTER.has(paired.key)]).toEqual([paired.key, HIGHER_IS_BETTER.has(figure)]);
    // Scores named so are not all better higher: the energy score is a loss.
    expect(['energy_score', 'energy_score_diff', 'l2', 'ppl'].filter((k) => HIGHER_IS_BETTER.has(k as never))).toEqual([]);
  });

  test("a concept head's figures split into its three tables: as points, two sentences ahead, else as a distribution", () => {
    expect(['l2', 'l2_diff', 'contrastive_acc_diff', 'roundtrip_l2'].map(headTablePart)).toEqual(['point', 'point', 'point', 'point']);
    expect(['energy_score_ahead', 'energy_score_ahead_diff_next', 'energy_score_ahead_posterior_diff'].map(headTablePart)).toEqual(['ahead', 'ahead', 'ahead']);
    expect(['energy_score', 'energy_score_posterior_diff', 'brier_1'].map(headTablePart)).toEqual(['distribution', 'distribution', 'distribution']);
  });
});
