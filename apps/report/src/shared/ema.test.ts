import { describe, expect, it } from 'vitest';
import { debiasedEma } from './ema.js';

describe('debiasedEma', () => {
  it('matches a hand-worked example', () => {
    // w = 0.5: avg1 = 0.5*2 = 1 -> 1/(1-0.5) = 2; avg2 = 0.5*1 + 0.5*4 = 2.5 -> 2.5/0.75 = 3.333...;
    // avg3 = 0.5*2.5 + 0.5*6 = 4.25 -> 4.25/0.875 = 4.857...
    const out = debiasedEma([2, 4, 6], 0.5);
    expect(out[0]).toBeCloseTo(2, 12);
    expect(out[1]).toBeCloseTo(10 / 3, 12);
    expect(out[2]).toBeCloseTo(4.25 / 0.875, 12);
  });

  it('keeps a constant curve constant from the first point (no bias towards 0) and skips gaps', () => {
    const out = debiasedEma([5, null, 5, Number.NaN, 5], 0.9);
    expect(out).toEqual([5, null, expect.closeTo(5, 12), null, expect.closeTo(5, 12)]);
  });

  it('is the identity at weight 0 and rejects weights outside [0, 1)', () => {
    expect(debiasedEma([1, 3, 2], 0)).toEqual([1, 3, 2]);
    expect(() => debiasedEma([1], 1)).toThrow(/\[0, 1\)/);
  });
});
