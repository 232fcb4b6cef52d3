import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { SentenceVAE } from './model.js';
import { trainBriefly } from './train.testkit.js';
import { halfKeptLevel, vectorNoise, vectorUse } from './vector-use.js';

beforeAll(async () => {
  await initBackend('wasm', { log: false });
});

// Sentences that share tokens but differ in order: only the vector tells the decoder which one it is.
const corpus = [
  [5, 6, 7, 8],
  [8, 7, 6, 5],
  [9, 10, 11, 12, 13],
  [13, 12, 11, 10, 9],
  [5, 9, 6, 10],
  [14, 15, 16],
  [16, 15, 14],
  [7, 11, 15, 5],
];

const model = (latentNoise = 0) =>
  new SentenceVAE({ vocabSize: 20, dModel: 32, maxTokens: 8, seed: 3, latentNoise, encoder: { heads: 2, dropout: 0 }, decoder: { heads: 2, dropout: 0 } });

describe('vectorUse', () => {
  it('is ~0 for an untrained model and clearly positive once the vectors carry the sentences', async () => {
    const m = model();
    const before = await vectorUse(m, [corpus.slice(0, 4), corpus.slice(4)]);
    expect(before.tokens).toBe(corpus.reduce((s, c) => s + c.length + 1, 0));
    expect(before.sentences).toBe(8);
    expect(before.gap).toBeCloseTo(before.shuffled - before.own, 6);
    expect(Math.abs(before.gap)).toBeLessThan(0.05);
    expect(before.own).toBeGreaterThan(2); // ~ln(20): nothing learned yet

    await trainBriefly(m, corpus);
    const after = await vectorUse(m, [corpus]);
    console.log(`vector use: untrained own ${before.own.toFixed(3)} shuffled ${before.shuffled.toFixed(3)}; trained own ${after.own.toFixed(3)} shuffled ${after.shuffled.toFixed(3)}`);
    expect(after.own).toBeLessThan(0.5);
    expect(after.gap).toBeGreaterThan(1);
    m.dispose();
  });

  it('leaves no tensor behind, and needs two sentences to shuffle', async () => {
    const m = model();
    const n = tf.memory().numTensors;
    await vectorUse(m, [corpus, [corpus[0]!]]);
    expect(tf.memory().numTensors).toBe(n);
    await expect(vectorUse(m, [[corpus[0]!]])).rejects.toThrow(/no batch has two sentences/);
    m.dispose();
  });
});

describe('vectorNoise', () => {
  it('finds the level where half is kept by linear interpolation (hand-worked)', () => {
    expect(halfKeptLevel([1, 2, 4], [0.9, 0.6, 0.2])).toBeCloseTo(2.5, 10); // 2 + (0.1 / 0.4) * 2
    expect(halfKeptLevel([1, 2, 4], [0.4, 0.2, 0])).toBeCloseTo(5 / 6, 10); // from sigma 0 (all kept): 0.5 / 0.6
    expect(halfKeptLevel([1, 2, 4], [0.9, 0.5, 0.1])).toBe(2);
    expect(halfKeptLevel([1, 2, 4], [0.9, 0.8, 0.7])).toBeNull();
  });

  it('runs from the own vectors (all kept) towards shuffled ones as the noise grows, seeded, leaving no tensor', async () => {
    const m = model();
    await trainBriefly(m, corpus);
    const batches = [corpus.slice(0, 4), corpus.slice(4)];
    const n = tf.memory().numTensors;
    const levels = [1e-4, 0.25, 1, 4, 16];
    const noise = await vectorNoise(m, batches, { seed: 7, levels });
    expect(tf.memory().numTensors).toBe(n);
    const use = await vectorUse(m, batches);
    expect(noise.own).toBeCloseTo(use.own, 6);
    expect(noise.shuffled).toBeCloseTo(use.shuffled, 6);
    expect(noise.tokens).toBe(use.tokens);
    console.log(`vector noise: gap ${noise.gap.toFixed(3)}; kept ${noise.levels.map((l) => `${l.kept.toFixed(3)} at ${l.sigma}`).join(', ')}; half at ${noise.half}`);
    expect(noise.gap).toBeGreaterThan(1);
    expect(noise.levels.map((l) => l.sigma)).toEqual(levels);
    expect(noise.levels[0]!.kept).toBeGreaterThan(0.999); // a tiny noise keeps it all
    expect(noise.levels[4]!.kept).toBeLessThan(0.5); // noise 16 times the vector's scale loses most of it
    for (const l of noise.levels) expect(l.kept).toBeCloseTo((noise.shuffled - l.nll) / noise.gap, 6);
    expect(noise.half).toBe(halfKeptLevel(levels, noise.levels.map((l) => l.kept)));
    expect(noise.half).toBeGreaterThan(1e-4);
    expect(noise.half).toBeLessThan(16);
    // Seeded: the same seed gives the same curve, another seed another draw.
    const again = await vectorNoise(m, batches, { seed: 7, levels });
    expect(again.levels.map((l) => l.nll)).toEqual(noise.levels.map((l) => l.nll));
    const other = await vectorNoise(m, batches, { seed: 8, levels });
    expect(other.levels[2]!.nll).not.toBe(noise.levels[2]!.nll);
    m.dispose();
  });

  it('is higher for a SentenceVAE trained under latentNoise (the decoder learns to read noisy vectors)', async () => {
    const batches = [corpus.slice(0, 4), corpus.slice(4)];
    const levels = [0.25, 0.5, 1, 2, 4, 8];
    const halfOf = async (sigma: number) => {
      const m = model(sigma);
      await trainBriefly(m, corpus, 60);
      const r = await vectorNoise(m, batches, { seed: 7, levels });
      m.dispose();
      return r;
    };
    const [plain, robust] = [await halfOf(0), await halfOf(1)];
    console.log(`vector noise half: trained clean ${plain.half}, under latentNoise 1 ${robust.half} (gaps ${plain.gap.toFixed(3)}, ${robust.gap.toFixed(3)})`);
    expect(robust.gap).toBeGreaterThan(1);
    expect(robust.half).toBeGreaterThan(plain.half!);
  });
});
