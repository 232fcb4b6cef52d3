import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { packSentences } from './batch.js';
import { groupedPositions, lengthGroups, selectSentences } from './length-groups.js';
import { SentenceVAE } from './model.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('lengthGroups', () => {
  it('splits where the padded positions plus a cost per group are least (worked by hand)', () => {
    // 40 sentences of 2 tokens, then 60, 57, 9 and 3. One group: 44 x 60 + 256 = 2,896 positions.
    // {2, 3} and {9, 57, 60}: 41 x 3 + 3 x 60 + 2 x 256 = 815, the least (three groups: 986 at best).
    const lengths = [...Array<number>(40).fill(2), 60, 57, 9, 3];
    const groups = lengthGroups(lengths);
    expect(groups.map((g) => Array.from(g))).toEqual([[...Array.from({ length: 40 }, (_, i) => i), 43], [40, 41, 42]]);
    expect(Array.from(groupedPositions(groups, 44)).slice(38)).toEqual([38, 39, 41, 42, 43, 40]);
    // Alike lengths, or a batch too small to repay a group: one group, in order.
    expect(lengthGroups([5, 6, 5, 7]).map((g) => Array.from(g))).toEqual([[0, 1, 2, 3]]);
    expect(lengthGroups([1, 64]).length).toBe(1);
    expect(lengthGroups([1, 64], { groupCost: 0 }).map((g) => Array.from(g))).toEqual([[0], [1]]);
  });

  it('selectSentences pads the chosen sentences to their own longest', () => {
    const batch = packSentences([[4, 5, 6, 7], [8], [9, 10]], { pad: 0 });
    expect(selectSentences(batch, [2, 1])).toEqual({ tokens: Int32Array.from([9, 10, 8, 0]), lengths: Int32Array.from([2, 1]), n: 2, maxLen: 2 });
  });
});

describe('grouped encoding and teacher forcing', () => {
  it('give each sentence the vector, loss and gradients it gets alone', () => {
    const model = new SentenceVAE({ vocabSize: 12, dModel: 8, maxTokens: 64, loss: { type: 'cross-entropy' }, encoder: { heads: 2, dropout: 0 }, decoder: { heads: 2, dropout: 0 } });
    const rng = new Rng(3);
    const lengths = [...Array<number>(40).fill(2), 60, 57, 9, 3];
    const sentences = lengths.map((l) => Array.from({ length: l }, () => 4 + Math.floor(rng.uniform() * 8)));
    const pad = model.config.specialIds.pad;
    const batch = packSentences(sentences, { pad });
    expect(lengthGroups(batch.lengths).length).toBe(2);
    const vectors = tf.tidy(() => model.encoder.forward(batch).arraySync());
    sentences.forEach((s, i) => {
      const alone = tf.tidy(() => model.encoder.forward(packSentences([s], { pad })).arraySync()[0]!);
      alone.forEach((v, j) => expect(vectors[i]![j]!).toBeCloseTo(v, 5));
    });
    // Reconstruction loss summed over the batch = the sum of the sentences' own, and so its gradients.
    const loss = (b: ReturnType<typeof packSentences>) => model.decoder.loss(model.encoder.forward(b), b).sum;
    const params = [...model.parameterMap().values()];
    const together = tf.variableGrads(() => loss(batch), params);
    const apart = tf.variableGrads(() => tf.addN(sentences.map((s) => loss(packSentences([s], { pad })))) as tf.Scalar, params);
    expect(together.value.dataSync()[0]!).toBeCloseTo(apart.value.dataSync()[0]!, 2);
    for (const [name, g] of Object.entries(together.grads)) {
      const a = g.dataSync();
      const b = apart.grads[name]!.dataSync();
      const scale = Math.max(...Array.from(b, Math.abs), 1e-6);
      a.forEach((v, k) => expect(Math.abs(v - b[k]!) / scale).toBeLessThan(1e-4));
    }
    tf.dispose([together.value, apart.value, ...Object.values(together.grads), ...Object.values(apart.grads)]);
  });
});
