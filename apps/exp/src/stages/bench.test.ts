import { describe, expect, test } from 'vitest';
import { measureBudgetedSpeeds } from './bench.js';

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
    for (const s of speeds) {
      expect(s['speed_repeats']).toBe(3);
      // Budget 6 per prompt: a 3-token sentence + EOS (4), then a sentence cut to 2 tokens (counted as 2).
      expect(s['generated_tokens']).toBe(12);
      expect(s['tokens_per_s_min']!).toBeLessThanOrEqual(s['tokens_per_s']!);
      expect(s['tokens_per_s_max']!).toBeGreaterThanOrEqual(s['tokens_per_s']!);
    }
  });
});
