import { describe, expect, it } from 'vitest';
import { quantile } from './quantile.js';

describe('quantile', () => {
  it('interpolates between order statistics as numpy does (hand-worked)', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    // position 0.1 * 4 = 0.4: 1 + 0.4 * (2 - 1)
    expect(quantile([1, 2, 3, 4, 5], 0.1)).toBeCloseTo(1.4, 12);
    expect(quantile(Float64Array.from([10, 20]), 0.75)).toBe(17.5);
  });

  it('refuses no values and q outside [0, 1]', () => {
    expect(() => quantile([], 0.5)).toThrow('no values');
    expect(() => quantile([1], 1.5)).toThrow('q must be in [0, 1]');
  });
});
