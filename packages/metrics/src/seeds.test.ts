import { describe, expect, test } from 'vitest';
import { seedSpread, tQuantile975 } from './seeds.js';

describe('seedSpread', () => {
  test('a hand-worked example: 10, 12, 14 -> mean 12, sd 2, 95% interval 12 ± 4.303 * 2 / sqrt(3)', () => {
    const s = seedSpread([10, 12, 14])!;
    expect(s.n).toBe(3);
    expect(s.mean).toBe(12);
    expect(s.sd).toBeCloseTo(2, 12);
    expect(s.interval!.low).toBeCloseTo(12 - 4.969, 3);
    expect(s.interval!.high).toBeCloseTo(12 + 4.969, 3);
  });

  test('one value: the value, no spread; none: undefined; non-finite values are refused', () => {
    expect(seedSpread([3.5])).toEqual({ n: 1, mean: 3.5 });
    expect(seedSpread([])).toBeUndefined();
    expect(() => seedSpread([1, Number.NaN])).toThrow(/finite/);
  });

  test('t quantiles: the table, then the normal approximation close to the table value at 30 and to 1.96 far out', () => {
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(2)).toBe(4.303);
    expect(tQuantile975(31)).toBeCloseTo(2.0395, 3);
    expect(tQuantile975(10_000)).toBeCloseTo(1.96, 3);
    expect(() => tQuantile975(0)).toThrow(/positive integer/);
  });
});
