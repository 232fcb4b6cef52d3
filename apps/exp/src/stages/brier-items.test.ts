import { describe, expect, test } from 'vitest';
import { brierItems } from './eval.js';

describe('brierItems', () => {
  test('spreads its sentences over the documents (the first ones all came from one long document, so the interval over documents was a point)', async () => {
    const doc = (n: number, base: number) => Array.from({ length: n }, (_, i) => Int32Array.of(base + i));
    const docs = [doc(30, 100), doc(3, 200), doc(3, 300)];
    const starts = docs.map((d) => d.map(() => 0));
    const seeds: number[] = [];
    const items = await brierItems(
      async (context, o) => {
        seeds.push(o.seed);
        return Array.from(context[context.length - 1]!);
      },
      docs,
      starts,
      { limit: 6, eos: 0, seed: 1 },
    );
    expect(items.map((d) => d.length)).toEqual([2, 2, 2]);
    // Evenly spaced next sentences: 29 candidates -> sentences 8 and 22; 2 candidates -> both.
    expect(items[0]!.map((it) => it.target)).toEqual([[108, 0], [122, 0]]);
    expect(items[1]!.map((it) => it.target)).toEqual([[201, 0], [202, 0]]);
    // Each sample is the previous sentence + EOS (the fake model copies it), seeded per item and draw.
    expect(items[2]![1]!.samples).toEqual([[301, 0], [301, 0]]);
    expect(new Set(seeds).size).toBe(12);
  });
});
