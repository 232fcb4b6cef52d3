import * as tf from '@tensorflow/tfjs-core';
import { sentenceBatches, type DatasetDocument } from '@sentencelab/data';
import { SentenceVAE, sentenceVaeConfigSchema } from '@sentencelab/sentence-vae';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test } from 'vitest';
import { variationalValidation } from './svae.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

/** Documents of 1..4 sentences of 1..5 token ids (4..11). */
function documents(n: number): DatasetDocument[] {
  return Array.from({ length: n }, (_, d) => {
    const sentences = Array.from({ length: 1 + (d % 4) }, (_, s) => Int32Array.from({ length: 1 + ((d + s) % 5) }, (_, t) => 4 + ((d * 3 + s + t) % 8)));
    return { id: `d${d}`, sentences, texts: sentences.map(() => ''), paragraphStarts: sentences.map(() => false) };
  });
}

describe('variationalValidation', () => {
  test('KL per sentence: the Gaussian KL of each real sentence\'s posterior, summed over every batch, over the sentences (not the tokens, not the padding slots)', async () => {
    const model = new SentenceVAE(
      sentenceVaeConfigSchema.parse({ vocabSize: 12, dModel: 8, maxTokens: 6, variational: true, encoder: { layers: 1, heads: 2 }, decoder: { layers: 1, heads: 2 }, seed: 3 }),
    ).eval();
    const batches = [...sentenceBatches(documents(7), 0, { batchSize: 3, maxSentences: 3, maxTokens: 6, shuffle: false })];
    expect(batches.length).toBe(3);
    let kl = 0;
    let sentences = 0;
    for (const b of batches) {
      const { mean, logVar } = model.encoder.posterior(model.sentences(b));
      const [mu, lv] = [await mean.data(), await logVar.data()];
      for (let i = 0; i < mu.length; i++) kl += 0.5 * (mu[i]! ** 2 + Math.exp(lv[i]!) - 1 - lv[i]!);
      sentences += mean.shape[0];
      tf.dispose([mean, logVar]);
    }
    // 7 documents of 1, 2, 3, 4, 1, 2, 3 sentences; slots beyond them are padding.
    expect(sentences).toBe(16);
    const v = await variationalValidation(model, batches, 5);
    expect(v.klPerSentence).toBeCloseTo(kl / sentences, 4);
    expect(v.negElboPerToken).toBeGreaterThan(0);
    // The same seed draws the same samples: the same figures.
    expect(await variationalValidation(model, batches, 5)).toEqual(v);
  });
});
