import * as tf from '@tensorflow/tfjs-core';
import { AdamW, disposeGrads, initBackend, valueAndGrads } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { SentenceVAE } from './model.js';
import { vectorUse } from './vector-use.js';

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

const model = () =>
  new SentenceVAE({ vocabSize: 20, dModel: 32, maxTokens: 8, seed: 3, encoder: { heads: 2, dropout: 0 }, decoder: { heads: 2, dropout: 0 } });

describe('vectorUse', () => {
  it('is ~0 for an untrained model and clearly positive once the vectors carry the sentences', async () => {
    const m = model();
    const before = await vectorUse(m, [corpus.slice(0, 4), corpus.slice(4)]);
    expect(before.tokens).toBe(corpus.reduce((s, c) => s + c.length + 1, 0));
    expect(before.sentences).toBe(8);
    expect(before.gap).toBeCloseTo(before.shuffled - before.own, 6);
    expect(Math.abs(before.gap)).toBeLessThan(0.05);
    expect(before.own).toBeGreaterThan(2); // ~ln(20): nothing learned yet

    const opt = new AdamW(m.namedParameters(), { lr: 1e-2, weightDecay: 0 });
    for (let step = 0; step < 25; step++) {
      const { grads } = await valueAndGrads(m, () => m.loss(corpus, { step }).loss);
      opt.applyGradients(grads);
      disposeGrads(grads);
    }
    const after = await vectorUse(m, [corpus]);
    console.log(`vector use: untrained own ${before.own.toFixed(3)} shuffled ${before.shuffled.toFixed(3)}; trained own ${after.own.toFixed(3)} shuffled ${after.shuffled.toFixed(3)}`);
    expect(after.own).toBeLessThan(0.5);
    expect(after.gap).toBeGreaterThan(1);
    opt.dispose();
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
