import { describe, expect, test } from 'vitest';
import { coveredSeconds } from './busy-time.js';

describe('coveredSeconds', () => {
  test('the length of the union: overlaps counted once, gaps not at all (hand-worked)', () => {
    // [0, 10] and [5, 20] overlap: 20 s; [100, 130] after a gap: 30 s; [110, 120] inside it: nothing more.
    expect(coveredSeconds([[100_000, 130_000], [0, 10_000], [110_000, 120_000], [5_000, 20_000]])).toBe(50);
  });

  test('touching intervals join; empty, reversed and unknown ones add nothing', () => {
    expect(coveredSeconds([[0, 1_000], [1_000, 3_000]])).toBe(3);
    expect(coveredSeconds([])).toBe(0);
    expect(coveredSeconds([[5_000, 1_000], [Number.NaN, 2_000], [0, 0]])).toBe(0);
  });
});
