import { describe, expect, test } from 'vitest';
import { brierEstimate, brierFigures, brierLm, brierSample, pairedBrierDifferences, spreadPicks, spreadQuota, type BrierItem } from './brier.js';

describe('brierEstimate', () => {
  test('I[x1 = y] + I[x2 = y] - I[x1 = x2] on the first n ids (hand-worked)', () => {
    const target = [5, 6, 7, 2];
    expect(brierEstimate({ target, samples: [[5, 6, 7, 2], [5, 6, 7, 2]] }, 4)).toBe(1);
    expect(brierEstimate({ target, samples: [[5, 6, 7, 2], [5, 9, 7, 2]] }, 4)).toBe(1);
    expect(brierEstimate({ target, samples: [[5, 9, 7, 2], [5, 9, 7, 2]] }, 4)).toBe(-1);
    expect(brierEstimate({ target, samples: [[5, 9, 7, 2], [5, 9, 7, 2]] }, 1)).toBe(1);
    expect(brierEstimate({ target, samples: [[8], [9]] }, 1)).toBe(0);
    // A short sentence is compared whole, EOS included: [5, 2] differs from [5, 6] at n = 2.
    expect(brierEstimate({ target, samples: [[5, 2], [5, 6, 1]] }, 2)).toBe(1);
    expect(brierEstimate({ target: [5, 2], samples: [[5, 2], [5, 2, 9]] }, 3)).toBe(1);
  });

  test('unbiased: averaged over every pair of draws it is 2 P(y) - Σ P(x)² (hand-computed distribution)', () => {
    // P: a 0.5, b 0.3, c 0.2; target a. 2 * 0.5 - (0.25 + 0.09 + 0.04) = 0.62.
    const p: [number[], number][] = [[[1], 0.5], [[2], 0.3], [[3], 0.2]];
    let expected = 0;
    for (const [x1, p1] of p) for (const [x2, p2] of p) expected += p1 * p2 * brierEstimate({ target: [1], samples: [x1, x2] }, 1);
    expect(expected).toBeCloseTo(0.62, 12);
  });
});

describe('brierLm', () => {
  test('100 x geometric mean of the mean Brier-1..4; a mean <= 0 gives 0', () => {
    const perfect = { target: [5, 6, 2], samples: [[5, 6, 2], [5, 6, 2]] as const };
    const half = { target: [5, 6, 2], samples: [[5, 6, 2], [5, 7, 2]] as const };
    // Brier-1: perfect 1, half 1 -> 1; Brier-2..4: perfect 1, half 1 + 0 - 0 = 1 -> 1.
    expect(brierLm([perfect, half]).score).toBeCloseTo(100, 12);
    const wrong = { target: [5, 6, 2], samples: [[9, 6, 2], [9, 6, 2]] as const };
    // Brier-n of wrong: -1 for every n; means (1 - 1) / 2 = 0 -> score 0.
    const r = brierLm([perfect, wrong]);
    expect(r.byN).toEqual([0, 0, 0, 0]);
    expect(r.score).toBe(0);
    // byN = [1, 0.5, 0.5, 0.5] -> 100 * (0.125)^(1/4).
    const split = { target: [5, 6, 2], samples: [[5, 7, 2], [5, 8, 2]] as const };
    const s = brierLm([perfect, split]);
    expect(s.byN).toEqual([1, 0.5, 0.5, 0.5]);
    expect(s.score).toBeCloseTo(100 * 0.125 ** 0.25, 10);
    expect(() => brierLm([])).toThrow('no items');
  });

  test('brierSample: EOS appended when the sentence ended within maxTokens', () => {
    expect(brierSample([5, 6], 4, 2)).toEqual([5, 6, 2]);
    expect(brierSample([5, 6, 7, 8], 4, 2)).toEqual([5, 6, 7, 8]);
  });
});

describe('pairedBrierDifferences', () => {
  const target = [5, 6, 7, 2];
  // Both samples right: every Brier-n is 1; two different wrong samples: 0.
  const right = (t: number[]): BrierItem => ({ target: t, samples: [t, t] });
  const wrong = (t: number[]): BrierItem => ({ target: t, samples: [[9, 9, 9, 2], [8, 8, 8, 2]] });
  const other = [3, 4, 2];

  test('a model right where the other is wrong on every item: the difference on every draw (hand-worked)', () => {
    const a = [[right(target), right(other)], [right(target)], [right(other), right(target)]];
    const b = a.map((items) => items.map((i) => wrong([...i.target])));
    const d = pairedBrierDifferences(a, b, { resamples: 200, seed: 1 });
    // BrierLM 100 x geometric mean of Brier-1..4: 100 vs 0; Brier-1: 1 vs 0.
    expect(d).toEqual({ brier_lm_diff: 100, brier_lm_diff_ci_low: 100, brier_lm_diff_ci_high: 100, brier_1_diff: 1, brier_1_diff_ci_low: 1, brier_1_diff_ci_high: 1 });
  });

  test('two documents, one where A is right, one where B is: resamples of one kind, the other, or both', () => {
    const a = [[right(target)], [wrong(other)]];
    const b = [[wrong(target)], [right(other)]];
    const d = pairedBrierDifferences(a, b, { resamples: 400, seed: 3 });
    // Brier-1: {doc 1, doc 1}: +1, {doc 2, doc 2}: -1, one of each: 0. The whole set: 0.
    expect(d['brier_1_diff']).toBe(0);
    expect([d['brier_1_diff_ci_low'], d['brier_1_diff_ci_high']]).toEqual([-1, 1]);
    // Unpaired, each model's own interval spans 0 to 1 as well: the figures alone do not show that the models trade places.
    expect(brierFigures(a, { resamples: 400, seed: 3 })['brier_1_ci_low']).toBe(0);
  });

  test('different items are an error; one document with items has no interval', () => {
    expect(() => pairedBrierDifferences([[right(target)]], [[right(other)]])).toThrow('rated on different items');
    expect(() => pairedBrierDifferences([[right(target)], []], [[right(target)]])).toThrow('rated on different items');
    expect(pairedBrierDifferences([[right(target)], []], [[wrong(target)], []])).toEqual({ brier_lm_diff: 100, brier_1_diff: 1 });
  });
});

describe('spreadPicks', () => {
  test('an even share of every group, the rest to the larger ones, evenly spaced (hand-worked)', () => {
    // 8 of 18: shares of 2, the group of 2 is full, then 1 more each to the others.
    expect(spreadQuota([10, 2, 6], 8)).toEqual([3, 2, 3]);
    expect(spreadPicks([10, 2, 6], 8)).toEqual([[1, 5, 8], [0, 1], [1, 3, 5]]);
    expect(spreadPicks([3, 0, 1], 10)).toEqual([[0, 1, 2], [], [0]]);
    expect(spreadPicks([5, 5], 1)).toEqual([[2], []]);
    expect(spreadPicks([4], 0)).toEqual([[]]);
  });

  test('never more than limit, never an index twice, each within its group', () => {
    for (const [counts, limit] of [[[300, 1, 7, 40], 256], [[1, 1, 1], 2], [[9, 9, 9, 9], 13]] as const) {
      const picks = spreadPicks(counts, limit);
      expect(picks.flat().length).toBe(Math.min(limit, counts.reduce((a, c) => a + c, 0)));
      picks.forEach((p, i) => {
        expect(new Set(p).size).toBe(p.length);
        p.forEach((x) => expect(x).toBeGreaterThanOrEqual(0));
        p.forEach((x) => expect(x).toBeLessThan(counts[i]!));
      });
    }
  });
});

