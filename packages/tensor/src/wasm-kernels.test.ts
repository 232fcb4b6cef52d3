/** The wasm kernel replacements against the cpu backend on awkward shapes. */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { Rng } from './rng.js';

type Case = { name: string; inputs: Array<{ shape: number[]; dtype?: 'float32' | 'int32' }>; fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[] };

const cases: Case[] = [
  ...([[[8, 4, 16, 8], [8, 4, 8, 16], false, false], [[8, 4, 16, 8], [8, 4, 16, 8], false, true], [[3, 5, 7], [3, 5, 6], true, false],
    [[2, 3, 5, 7], [7, 4], false, false], [[5, 7], [3, 7, 4], false, false], [[2, 3, 7, 5], [2, 3, 4, 7], true, true],
    [[4, 6], [3, 6], false, true], [[2, 1, 3, 4], [1, 3, 4, 2], false, false]] as Array<[number[], number[], boolean, boolean]>).map(
    ([a, b, ta, tb]): Case => ({ name: `BatchMatMul [${a}]${ta ? 'ᵀ' : ''} x [${b}]${tb ? 'ᵀ' : ''}`, inputs: [{ shape: a }, { shape: b }], fn: (x, y) => tf.matMul(x, y, ta, tb) }),
  ),
  { name: 'Slice contiguous rows', inputs: [{ shape: [5, 4] }], fn: (x) => tf.slice(x, [1, 0], [3, 4]) },
  { name: 'Slice columns', inputs: [{ shape: [5, 6] }], fn: (x) => tf.slice(x, [0, 2], [5, 3]) },
  { name: 'Slice 4-D middle', inputs: [{ shape: [2, 3, 4, 5] }], fn: (x) => tf.slice(x, [1, 1, 0, 2], [1, 2, 4, 2]) },
  { name: 'Slice int32 with -1 size', inputs: [{ shape: [3, 4], dtype: 'int32' }], fn: (x) => tf.slice(x, [1, 1], [-1, -1]) },
  { name: 'Slice scalar-like', inputs: [{ shape: [1, 1, 6] }], fn: (x) => tf.slice(x, [0, 0, 5], [1, 1, 1]) },
  { name: 'SplitV last axis', inputs: [{ shape: [4, 9] }], fn: (x) => tf.split(x, [2, 3, 4], 1) },
  { name: 'SplitV middle axis', inputs: [{ shape: [2, 6, 3] }], fn: (x) => tf.split(x, 3, 1) },
  { name: 'Identity survives disposal of its source', inputs: [{ shape: [3, 3] }], fn: (x) => {
    const y = tf.clone(x);
    const z = tf.add(x, 0);
    const w = tf.clone(z);
    z.dispose();
    return tf.add(y, w);
  } },
  { name: 'Slice and clone of string tensors', inputs: [], fn: () => {
    const s = tf.tensor2d([['a', 'b', 'c'], ['d', 'e', 'f']]);
    const part = tf.slice(tf.clone(s), [0, 1], [2, 2]);
    return tf.tensor1d((part.dataSync() as unknown as string[]).map((v) => v.charCodeAt(0)));
  } },
  { name: 'UnsortedSegmentSum', inputs: [{ shape: [5, 3] }], fn: (x) => tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, 7, 1], 'int32'), 4) },
];

describe('wasm kernel replacements match cpu', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const rng = new Rng(c.name.length);
      const values = c.inputs.map((i) => {
        const n = i.shape.reduce((a, b) => a * b, 1);
        return i.dtype === 'int32' ? Int32Array.from({ length: n }, () => rng.int(100)) : rng.normalArray(n);
      });
      const run = () =>
        tf.tidy(() => {
          const xs = c.inputs.map((i, k) => tf.tensor(values[k]!, i.shape, i.dtype ?? 'float32'));
          const y = c.fn(...xs);
          return (Array.isArray(y) ? y : [y]).map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) }));
        });
      await initBackend('cpu', { log: false });
      const expected = run();
      await initBackend('wasm', { log: false });
      const before = tf.memory().numTensors;
      const got = run();
      expect(tf.memory().numTensors).toBe(before);
      expect(got.length).toBe(expected.length);
      got.forEach((g, i) => {
        expect(g.shape).toEqual(expected[i]!.shape);
        g.data.forEach((v, j) => expect(Math.abs(v - expected[i]!.data[j]!)).toBeLessThan(1e-4));
      });
    });
  }
});
