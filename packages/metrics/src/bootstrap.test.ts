import { describe, expect, test } from 'vitest';
import { bootstrap, bootstrapRatio, formatInterval, intervalsOverlap, pairedBootstrapRatio } from './bootstrap.js';

describe('bootstrapRatio', () => {
  test('identical documents: the interval is the figure itself', () => {
    const i = bootstrapRatio([{ num: 3, den: 4 }, { num: 3, den: 4 }, { num: 3, den: 4 }])!;
    expect(i.low).toBeCloseTo(0.75, 12);
    expect(i.high).toBeCloseTo(0.75, 12);
  });

  test('two documents: resamples are {a,a} (1/4), {a,b} (1/2), {b,b} (1/4), so the 95% interval spans a to b', () => {
    // a: 1/2 = 0.5, b: 9/10 = 0.9, mixed: 10/12. The 2.5% and 97.5% quantiles fall inside the 1/4 tails.
    const i = bootstrapRatio([{ num: 1, den: 2 }, { num: 9, den: 10 }], { resamples: 400, seed: 3 });
    expect(i).toEqual({ low: 0.5, high: 0.9 });
    // A 40% interval keeps only the mixed resample (its share is about 1/2 around the middle).
    const mid = bootstrapRatio([{ num: 1, den: 2 }, { num: 9, den: 10 }], { resamples: 400, seed: 3, level: 0.4 })!;
    expect(mid.low).toBeCloseTo(10 / 12, 12);
    expect(mid.high).toBeCloseTo(10 / 12, 12);
  });

  test('seeded and deterministic; the transform maps each resampled ratio (PPL = exp(-ratio))', () => {
    const docs = [{ num: -10, den: 5 }, { num: -30, den: 10 }, { num: -4, den: 4 }, { num: -12, den: 6 }, { num: -7, den: 3 }, { num: -11, den: 4 }, { num: -9, den: 7 }, { num: -13, den: 5 }];
    const a = bootstrapRatio(docs, { seed: 7, transform: (r) => Math.exp(-r) })!;
    expect(bootstrapRatio(docs, { seed: 7, transform: (r) => Math.exp(-r) })).toEqual(a);
    expect(bootstrapRatio(docs, { seed: 8, transform: (r) => Math.exp(-r) })).not.toEqual(a);
    // Per-document PPLs run from e^1 to e^3; the whole-set figure e^(96/44) lies inside the interval.
    expect(a.low).toBeGreaterThanOrEqual(Math.E - 1e-9);
    expect(a.high).toBeLessThanOrEqual(Math.exp(3) + 1e-9);
    expect(a.low).toBeLessThan(Math.exp(96 / 44));
    expect(a.high).toBeGreaterThan(Math.exp(96 / 44));
  });

  test('one document (or one that counts anything) has nothing to resample: no interval, not a zero-width one', () => {
    expect(bootstrapRatio([{ num: 2, den: 4 }])).toBeUndefined();
    expect(bootstrapRatio([{ num: 2, den: 4 }, { num: 0, den: 0 }], { resamples: 200 })).toBeUndefined();
    expect(bootstrap([7], (s) => s[0]!)).toBeUndefined();
    expect(bootstrap([7, 9], (s) => s[0]!, { resamples: 200 })).toEqual({ low: 7, high: 9 });
  });

  test('documents with nothing to count are skipped; none at all is an error', () => {
    expect(bootstrapRatio([{ num: 2, den: 4 }, { num: 0, den: 0 }, { num: 1, den: 4 }], { resamples: 200 })).toEqual({ low: 0.25, high: 0.5 });
    expect(() => bootstrapRatio([{ num: 0, den: 0 }])).toThrow('every document has den 0');
    expect(() => bootstrapRatio([])).toThrow('no documents');
  });
});

describe('pairedBootstrapRatio', () => {
  const ppl = (r: number) => Math.exp(-r);
  // Documents of very different difficulty (per-token log-probs -1 to -4); model A is worse on
  // each by the same 0.1 nats per token, so its PPL is e^0.1 = 1.105 times B's on any draw.
  const b = [{ num: -10, den: 10 }, { num: -80, den: 20 }, { num: -20, den: 10 }, { num: -45, den: 15 }, { num: -12, den: 6 }, { num: -60, den: 20 }];
  const a = b.map((d) => ({ num: d.num - 0.1 * d.den, den: d.den }));

  test('a model worse by the same amount on every document: separate intervals overlap, the paired ratio is that amount exactly', () => {
    const ia = bootstrapRatio(a, { seed: 1, transform: ppl })!;
    const ib = bootstrapRatio(b, { seed: 1, transform: ppl })!;
    expect(intervalsOverlap(ia, ib)).toBe(true);
    const r = pairedBootstrapRatio(a, b, { seed: 1, transform: ppl })!;
    expect(r.low).toBeCloseTo(Math.exp(0.1), 12);
    expect(r.high).toBeCloseTo(Math.exp(0.1), 12);
  });

  test('two documents: the ratio over {a,a}, {a,b}, {b,b} draws, the same for both models; seeded', () => {
    // Model A: 1/2 and 9/10; model B: 1/4 and 3/10. Ratios: doc 1 alone 2, doc 2 alone 3, both (10/12)/(4/14) = 35/12.
    const x = [{ num: 1, den: 2 }, { num: 9, den: 10 }];
    const y = [{ num: 1, den: 4 }, { num: 3, den: 10 }];
    expect(pairedBootstrapRatio(x, y, { resamples: 400, seed: 3 })).toEqual({ low: 2, high: 3 });
    const mid = pairedBootstrapRatio(x, y, { resamples: 400, seed: 3, level: 0.4 })!;
    expect(mid.low).toBeCloseTo(35 / 12, 12);
    expect(mid.high).toBeCloseTo(35 / 12, 12);
    expect(pairedBootstrapRatio(a, b, { seed: 4, transform: ppl })).toEqual(pairedBootstrapRatio(a, b, { seed: 4, transform: ppl }));
  });

  test('different document counts are an error; one document has no interval', () => {
    expect(() => pairedBootstrapRatio(a, b.slice(1))).toThrow('6 documents for one model but 5 for the other');
    expect(pairedBootstrapRatio([a[0]!], [b[0]!])).toBeUndefined();
    expect(pairedBootstrapRatio([a[0]!, { num: 0, den: 0 }], [b[0]!, { num: 0, den: 0 }])).toBeUndefined();
  });
});

describe('intervalsOverlap / formatInterval', () => {
  test('touching intervals overlap; disjoint ones do not', () => {
    expect(intervalsOverlap({ low: 1, high: 2 }, { low: 2, high: 3 })).toBe(true);
    expect(intervalsOverlap({ low: 1, high: 2 }, { low: 2.5, high: 3 })).toBe(false);
    expect(intervalsOverlap({ low: 2.5, high: 3 }, { low: 1, high: 2 })).toBe(false);
    expect(formatInterval({ low: 1.234, high: 5.678 }, 1)).toBe('[1.2, 5.7]');
  });
});
