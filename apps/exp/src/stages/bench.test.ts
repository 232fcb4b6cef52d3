import { describe, expect, test } from 'vitest';
import { measureBudgetedSpeeds, passRatios } from './bench.js';

/** A model that writes `sentences` sentences of 3 tokens per prompt, within its token budget, and logs each call. */
function fake(name: string, calls: string[], sentences = 2) {
  return {
    async *generate(_prompt: readonly ArrayLike<number>[], options: { maxTokens?: number }): AsyncIterable<number[]> {
      calls.push(name);
      let left = options.maxTokens ?? Infinity;
      for (let s = 0; s < sentences && left > 0; s++) {
        const sentence = [1, 2, 3].slice(0, Math.min(3, left));
        left -= sentence.length + 1;
        yield sentence;
      }
    },
  };
}

describe('measureBudgetedSpeeds', () => {
  test('interleaves the models\' timed passes, rotating who goes first, warm-up before each model\'s first pass only', async () => {
    const calls: string[] = [];
    const prompts = [[[5, 6]], [[7, 8]]];
    const speeds = await measureBudgetedSpeeds([fake('a', calls), fake('b', calls)], prompts, 6, 1, 3);
    // Per pass, one call per prompt; warm-up: one untimed call on the first prompt.
    expect(calls).toEqual(['a', 'a', 'a', 'b', 'b', 'b', 'b', 'b', 'a', 'a', 'a', 'a', 'b', 'b']);
    expect(speeds).toHaveLength(2);
    for (const { figures: s, passRates } of speeds) {
      expect(passRates).toHaveLength(3);
      expect([...passRates].sort((x, y) => x - y)[1]).toBe(s['tokens_per_s']);
      expect(s['speed_repeats']).toBe(3);
      // Budget 6 per prompt: a 3-token sentence + EOS (4), then a sentence cut to 2 tokens (counted as 2).
      expect(s['generated_tokens']).toBe(12);
      expect(s['tokens_per_s_min']!).toBeLessThanOrEqual(s['tokens_per_s']!);
      expect(s['tokens_per_s_max']!).toBeGreaterThanOrEqual(s['tokens_per_s']!);
    }
  });

  test('passRatios compares two models pass by pass (hand-computed)', () => {
    // Ratios 2, 1.5, 0.5: median 1.5, range 0.5-2, above 1 in 2 of 3 passes.
    expect(passRatios([4, 3, 1], [2, 2, 2])).toEqual({ median: 1.5, low: 0.5, high: 2, above: 2 });
    expect(passRatios([4, 3], [2, 2, 2])).toBeUndefined();
    expect(passRatios([4, Number.NaN], [2, 2])).toBeUndefined();
  });
});
