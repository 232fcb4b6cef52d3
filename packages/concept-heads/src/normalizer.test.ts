import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingNormalizer } from './normalizer.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('EmbeddingNormalizer', () => {
  // Column 0: 1 2 3 4 100 (an outlier); column 1 constant; column 2: -2 0 2 4 6.
  const rows = [
    [1, 5, -2],
    [2, 5, 0],
    [3, 5, 2],
    [4, 5, 4],
    [100, 5, 6],
  ];

  it('robust: median and IQR / 1.349 on a hand example; a constant dim keeps scale 1', () => {
    const n = EmbeddingNormalizer.fit(rows, 'robust');
    // Quartiles of 1 2 3 4 100 at positions 1 and 3 (linear interpolation): 2 and 4.
    expect(Array.from(n.center)).toEqual([3, 5, 2]);
    expect(n.scale[0]).toBeCloseTo(2 / 1.349, 6);
    expect(n.scale[1]).toBe(1);
    expect(n.scale[2]).toBeCloseTo(4 / 1.349, 6);
  });

  it('robust quartiles interpolate between order statistics', () => {
    const n = EmbeddingNormalizer.fit([[0], [10], [20], [30]], 'robust');
    // positions 0.75 and 2.25 -> 7.5 and 22.5; median 15
    expect(n.center[0]).toBe(15);
    expect(n.scale[0]).toBeCloseTo(15 / 1.349, 5);
  });

  it('standard: mean and population std', () => {
    const n = EmbeddingNormalizer.fit(rows, 'standard');
    expect(n.center[0]).toBeCloseTo(22, 5);
    const std0 = Math.sqrt([1, 2, 3, 4, 100].reduce((s, v) => s + (v - 22) ** 2, 0) / 5);
    expect(n.scale[0]).toBeCloseTo(std0, 4);
    expect(n.center[2]).toBeCloseTo(2, 6);
    expect(n.scale[2]).toBeCloseTo(Math.sqrt(8), 5);
  });

  it('none is the identity', () => {
    const n = EmbeddingNormalizer.fit(rows, 'none');
    expect(Array.from(n.normalizeVector([1, 2, 3]))).toEqual([1, 2, 3]);
  });

  it('normalise then denormalise is the identity on tensors and vectors, and matches the formula', () => {
    const n = EmbeddingNormalizer.fit(rows, 'robust');
    const x = tf.tensor3d([1.5, -7, 3, 250, 5, 0.25], [1, 2, 3]);
    const z = n.normalize(x);
    const back = n.denormalize(z);
    const zd = z.dataSync();
    expect(zd[0]).toBeCloseTo((1.5 - 3) / (2 / 1.349), 5);
    const bd = back.dataSync();
    x.dataSync().forEach((v, i) => expect(bd[i]).toBeCloseTo(v, 4));
    const v = n.denormalizeVector(n.normalizeVector([1.5, -7, 3]));
    [1.5, -7, 3].forEach((want, i) => expect(v[i]).toBeCloseTo(want, 5));
    tf.dispose([x, z, back]);
  });

  it('serialises to JSON and back exactly, and rejects bad input by name', () => {
    const n = EmbeddingNormalizer.fit(rows, 'robust');
    const again = EmbeddingNormalizer.fromJSON(JSON.parse(JSON.stringify(n.toJSON())));
    expect(again.kind).toBe('robust');
    expect(Array.from(again.center)).toEqual(Array.from(n.center));
    expect(Array.from(again.scale)).toEqual(Array.from(n.scale));
    expect(() => EmbeddingNormalizer.fromJSON({ kind: 'robust', center: [0], scale: [0] })).toThrow(/scale\[0\]/);
    expect(() => EmbeddingNormalizer.fit([[1, 2], [3]], 'standard')).toThrow(/vector 1 has 1 dims/);
    const t = tf.zeros([2, 4]);
    expect(() => n.normalize(t)).toThrow(/3-d embeddings/);
    t.dispose();
  });
});
