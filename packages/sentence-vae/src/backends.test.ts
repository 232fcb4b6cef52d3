import * as tf from '@tensorflow/tfjs-core';
import { disposeGrads, initBackend, valueAndGrads } from '@sentencelab/tensor';
import { describe, expect, it } from 'vitest';
import { SentenceVAE } from './model.js';
import { trainBriefly } from './train.testkit.js';

const sentences = [
  [4, 5, 6, 7],
  [8, 9],
  [10, 11, 12, 13, 14, 15],
];

/** Loss, a few gradient entries and greedy decodes of one model on the active backend. */
async function probe(model: SentenceVAE) {
  const { loss, grads } = await valueAndGrads(model, () => model.loss(sentences, { step: 3 }).loss);
  const picks = ['encoder.embed.weight', 'encoder.transformer.layers.0.mlp.up.weight', 'decoder.transformer.layers.1.crossAttn.kv.weight', 'decoder.head.weight'].map(
    // rows from 4 on: token ids 0..3 are specials the batch never uses
    (name) => Array.from(grads.get(name)!.dataSync().slice(64, 192)),
  );
  disposeGrads(grads);
  const vectors = model.encode(sentences);
  const encoded = Array.from(vectors.dataSync());
  const decoded = await model.decode(vectors, { maxTokens: 6 });
  vectors.dispose();
  return { loss, picks, encoded, decoded };
}

describe('backends', () => {
  it('wasm gives the cpu reference\'s loss, gradients, vectors and decodes', async () => {
    await initBackend('wasm', { log: false });
    const model = new SentenceVAE({
      vocabSize: 16,
      dModel: 16,
      maxTokens: 8,
      encoder: { heads: 2, dropout: 0, pooling: 'attention' },
      decoder: { heads: 2, dropout: 0, layers: 2, memorySlots: 2 },
      seed: 8,
    });
    // A little training first, so that the decoder listens to its memory and decodes differ.
    await trainBriefly(model, sentences);
    const got = await probe(model);
    await initBackend('cpu', { log: false });
    expect(tf.getBackend()).toBe('cpu');
    const ref = await probe(model);
    expect(got.loss).toBeCloseTo(ref.loss, 4);
    got.picks.forEach((g, i) => {
      const scale = Math.max(...ref.picks[i]!.map(Math.abs));
      expect(scale).toBeGreaterThan(1e-5);
      g.forEach((x, j) => expect(Math.abs(x - ref.picks[i]![j]!)).toBeLessThan(1e-3 * scale));
    });
    got.encoded.forEach((x, j) => expect(x).toBeCloseTo(ref.encoded[j]!, 4));
    expect(got.decoded).toEqual(ref.decoded);
    expect(new Set(ref.decoded.map(String)).size).toBeGreaterThan(1);
    model.dispose();
  });
});
