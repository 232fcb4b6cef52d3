import { Rng } from '@sentencelab/tensor';
import { describe, expect, it } from 'vitest';
import { BagOfWordsCodec } from './bag-of-words-codec.js';
import { contrastiveAccuracy, cosineToPrevious, drawSpreads, energyScores, nextEmbeddingL2, repetitionRate, roundTripL2, scoresWithBaselines } from './evaluation.js';
import { EmbeddingNormalizer } from './normalizer.js';

const v = (...xs: number[]) => Float32Array.from(xs);

describe('evaluation helpers', () => {
  it('nextEmbeddingL2: mean distance, raw and normalised', () => {
    const norm = new EmbeddingNormalizer('standard', v(0, 0), v(2, 2));
    const r = nextEmbeddingL2([v(0, 0), v(1, 1)], [v(3, 4), v(1, 1)], norm);
    expect(r.raw).toBeCloseTo(2.5, 10);
    expect(r.normalized).toBeCloseTo(1.25, 10);
    expect(nextEmbeddingL2([v(0, 0)], [v(0, 1)]).normalized).toBeNull();
  });

  it('contrastiveAccuracy: 1 when each prediction is nearest its target, a hand-counted case, ~0.5 for noise', () => {
    const targets = [v(0, 0), v(10, 0), v(0, 10)];
    expect(contrastiveAccuracy(targets, targets)).toBe(1);
    // Each prediction sits on another sentence's target. Hand count (own distance; distractors farther):
    // p0=t1: own 10; t1 at 0 (no), t2 at 14.1 (yes) -> 1/2. p1=t2: own 14.1; t0 at 10, t2 at 0 -> 0/2.
    // p2=t0: own 10; t0 at 0 (no), t1 at 10 (tie, half) -> 0.5/2. Mean (0.5 + 0 + 0.25) / 3.
    const shifted = [targets[1]!, targets[2]!, targets[0]!];
    expect(contrastiveAccuracy(shifted, targets)).toBeCloseTo(0.25, 10);
    const rng = new Rng(5);
    const many = Array.from({ length: 200 }, () => rng.normalArray(4));
    const preds = Array.from({ length: 200 }, () => rng.normalArray(4));
    expect(Math.abs(contrastiveAccuracy(preds, many) - 0.5)).toBeLessThan(0.05);
    expect(() => contrastiveAccuracy([v(1)], [v(1)])).toThrow(/at least 2/);
  });

  it('scoresWithBaselines: the head, copy-previous and the training mean on the same targets (hand-computed)', () => {
    const targets = [v(0, 0), v(10, 0), v(0, 10)];
    const previous = [v(3, 4), v(0, 0), v(10, 0)];
    const r = scoresWithBaselines(targets, targets, previous, v(0, 3));
    expect(r.head).toEqual({ l2: [0, 0, 0], contrastive: [1, 1, 1] });
    // copy-prev: distances 5, 10, 14.14; (3,4) is nearer t0 (5) than t1 (8.06) and t2 (6.7): 2/2.
    // (0,0) vs own t1 10: t0 at 0 (no), t2 at 10 (tie) -> 0.5/2. (10,0) vs own t2 14.1: t0 10 (no), t1 0 (no) -> 0.
    expect(r.copyPrev.l2.map((x) => Math.round(x * 100) / 100)).toEqual([5, 10, 14.14]);
    expect(r.copyPrev.contrastive).toEqual([1, 0.25, 0]);
    // train-mean (0,3): distances 3, 10.44, 7; every prediction is the same point, so t0 (the nearest) wins for row 0 only.
    expect(r.trainMean.l2.map((x) => Math.round(x * 100) / 100)).toEqual([3, 10.44, 7]);
    expect(r.trainMean.contrastive).toEqual([1, 0, 0.5]);
  });

  it('energyScores: (L2(x1, y) + L2(x2, y)) / 2 - L2(x1, x2) / 2 (hand-computed); L2 for a repeated prediction', () => {
    // x1 (0, 0), x2 (6, 8), y (3, 4): (5 + 5) / 2 - 10 / 2 = 0. x1 = x2 = (0, 0), y (3, 4): 5.
    expect(energyScores([v(0, 0), v(0, 0)], [v(6, 8), v(0, 0)], [v(3, 4), v(3, 4)])).toEqual([0, 5]);
    // Targets +1 or -1 (half each): a sampler drawing +-1 at random scores 0.5 on average over its
    // four equally likely draw pairs (0 when they differ, 0 or 2 when they agree), below the mean
    // predictor's 1, though its expected L2 (1) equals the mean predictor's: L2 does not reward it.
    const pairs = [[1, 1], [1, -1], [-1, 1], [-1, -1]] as const;
    const sampler = [1, -1].flatMap((y) => pairs.map(([a, b]) => energyScores([v(a)], [v(b)], [v(y)])[0]!));
    expect(sampler.reduce((x, y) => x + y, 0) / sampler.length).toBeCloseTo(0.5, 12);
    expect(energyScores([v(0)], [v(0)], [v(1)])).toEqual([1]);
    expect(() => energyScores([v(0)], [], [v(1)])).toThrow(/1 predictions but 0 targets|0 predictions but 1 targets/);
  });

  it('drawSpreads: the energy score is skill - spread / 2 (hand-computed); spread / skill near 1 only for draws of the targets\' own distribution', () => {
    // x1 (0, 0), x2 (6, 8), y (3, 4): spread 10, skill (5 + 5) / 2 = 5. A repeated prediction: spread 0, skill its L2.
    expect(drawSpreads([v(0, 0), v(0, 0)], [v(6, 8), v(0, 0)], [v(3, 4), v(3, 4)])).toEqual({ spread: [10, 0], skill: [5, 5] });
    // Targets y = m + e, e ~ N(0, I) in 16 dims, each with its own mean m; draws m + s * e'. Summed
    // over targets, spread / skill is about 1 at s = 1 (x1, x2, y: three draws of one distribution),
    // below at s = 0.5, above at s = 2, 0 for the mean itself.
    const rng = new Rng(11);
    const means = Array.from({ length: 4000 }, () => rng.normalArray(16).map((x) => 3 * x));
    const targets = means.map((m) => m.map((x) => x + rng.normal()));
    const ratio = (s: number) => {
      const draw = () => means.map((m) => m.map((x) => x + s * rng.normal()));
      const { spread, skill } = drawSpreads(draw(), draw(), targets);
      return spread.reduce((a, b) => a + b, 0) / skill.reduce((a, b) => a + b, 0);
    };
    expect(Math.abs(ratio(1) - 1)).toBeLessThan(0.02);
    expect(ratio(0.5)).toBeLessThan(0.7);
    expect(ratio(2)).toBeGreaterThan(1.2);
    expect(ratio(0)).toBe(0);
    expect(() => drawSpreads([v(0)], [], [v(1)])).toThrow(/drawSpreads/);
  });

  it('roundTripL2: 0 for bank sentences, > 0 for a vector between two sentences', async () => {
    const codec = new BagOfWordsCodec({ dim: 16, bank: ['the cat sat.', 'a dog ran far.', 'End of text.'], seed: 1 });
    const bank = await codec.encode(['the cat sat.', 'a dog ran far.']);
    expect((await roundTripL2(bank, codec)).raw).toBe(0);
    const mid = bank[0]!.map((x, i) => 0.5 * x + 0.5 * bank[1]![i]!);
    expect((await roundTripL2([mid], codec)).raw).toBeGreaterThan(0.5);
  });

  it('repetitionRate counts repeats of the context or of earlier generated sentences', () => {
    expect(repetitionRate(['A b.', 'c.', 'a  B.'])).toBeCloseTo(1 / 3, 10);
    expect(repetitionRate(['A b.', 'c.', 'a  B.'], ['C.'])).toBeCloseTo(2 / 3, 10);
    expect(repetitionRate([])).toBe(0);
  });

  it('cosineToPrevious averages consecutive cosines', () => {
    expect(cosineToPrevious([v(1, 0), v(1, 0), v(0, 1)])).toBeCloseTo(0.5, 10);
    expect(cosineToPrevious([v(1, 1), v(-1, -1)])).toBeCloseTo(-1, 10);
  });
});
