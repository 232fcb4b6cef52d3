import { describe, expect, test } from 'vitest';
import { ranks, spearman, spearmanCritical } from './rank-correlation.js';

describe('ranks', () => {
  test('1-based, ties sharing the mean of their ranks', () => {
    expect(ranks([10, 30, 20, 20])).toEqual([1, 4, 2.5, 2.5]);
    expect(ranks([7, 7, 7])).toEqual([2, 2, 2]);
    expect(ranks([])).toEqual([]);
  });
});

describe('spearman', () => {
  test('+1 for the same order, -1 for the reverse, whatever the scale', () => {
    expect(spearman([1, 2, 3, 4], [10, 200, 3000, 40000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
  });

  // Values checked with scipy.stats.spearmanr.
  test.each([
    [[1, 2, 2, 3], [1, 3, 2, 4], 0.9486832980505139],
    [[5, 1, 4, 4, 2], [3, 3, 9, 1, 0], 0.26315789473684215],
    // Brown's nine SentenceVAEs of sllm-vs-token-noise: recon_noise_half against their SLLMs' PPL.
    [[2.254, 2.091, 1.354, 6.89, 5.722, 7.169, 5.21, 4.962, 3.787], [103.0, 112.1, 142.5, 109.3, 121.6, 126.7, 121.8, 118.2, 109.9], 0.06666666666666667],
  ])('%j against %j: %d (hand-checked)', (a, b, rho) => {
    expect(spearman(a, b)).toBeCloseTo(rho, 12);
  });

  test('undefined with fewer than 3 pairs or a side without an order; an error for unpaired or non-finite values', () => {
    expect(spearman([1, 2], [2, 1])).toBeUndefined();
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeUndefined();
    expect(() => spearman([1, 2, 3], [1, 2])).toThrow(/3 values against 2/);
    expect(() => spearman([1, NaN, 3], [1, 2, 3])).toThrow(/finite/);
  });
});

describe('spearmanCritical', () => {
  // scipy: t.ppf(0.975, n - 2) / sqrt(n - 2 + t^2).
  test.each([
    [4, 0.95],
    [9, 0.666383605336309],
    [12, 0.5759829864422639],
  ])('%d pairs: %d', (n, rho) => {
    expect(spearmanCritical(n)).toBeCloseTo(rho, 3);
  });

  test('undefined below 4 pairs', () => {
    expect(spearmanCritical(3)).toBeUndefined();
  });
});
