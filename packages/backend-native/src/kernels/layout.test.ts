import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { compareWithCpu, randomArray, runOn, setup, skipReason } from '../test/compare.js';

const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
const permutations = (n: number): number[][] =>
  n === 1 ? [[0]] : permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));

describe.skipIf(skipReason !== '')('layout kernels on native', () => {
  beforeAll(setup);

  it('transpose matches cpu for every permutation of rank 3 and 4 (float32 and int32)', async () => {
    for (const shape of [[7, 19, 33], [3, 1, 40, 17], [4, 5, 6, 7]]) {
      for (const perm of permutations(shape.length)) {
        await compareWithCpu([{ values: randomArray(size(shape), 1), shape }], (x) => tf.transpose(x!, perm), 0, 0, `${shape} ${perm}`);
      }
    }
    const ints = Array.from({ length: 2 * 300 * 4 }, (_, i) => i);
    await compareWithCpu([{ values: ints, shape: [2, 300, 4], dtype: 'int32' }], (x) => tf.transpose(x!, [2, 0, 1]), 0, 0);
  });

  it('gather matches cpu on axis 0 and 1, and rejects an out-of-range index naming it', async () => {
    const table = { values: randomArray(100 * 64, 2), shape: [100, 64] };
    const idx = { values: Array.from({ length: 60 }, (_, i) => (i * 37) % 100), shape: [6, 10], dtype: 'int32' as const };
    await compareWithCpu([table, idx], (x, i) => tf.gather(x!, i!), 0, 0);
    await compareWithCpu([{ values: randomArray(8 * 100 * 3, 3), shape: [8, 100, 3] }, idx], (x, i) => tf.gather(x!, i!, 1), 0, 0);
    await expect(runOn('native', [table, { values: [3, 100, ...new Array(40).fill(1)], shape: [42], dtype: 'int32' }], (x, i) => tf.gather(x!, i!))).rejects.toThrow(
      /index value 100 is not in \[0, 99\]/,
    );
  });

  it('unsortedSegmentSum matches cpu (the gradient of gather), dropping out-of-range ids', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => ((i * 7) % 53) - 1); // includes -1
    await compareWithCpu(
      [{ values: randomArray(300 * 32, 4), shape: [300, 32] }, { values: ids, shape: [300], dtype: 'int32' }],
      (x, i) => tf.unsortedSegmentSum(x!, i! as tf.Tensor1D, 50),
      1e-5,
      1e-6,
    );
  });

  it('slice, split and concat match cpu for strided and contiguous pieces', async () => {
    const x = { values: randomArray(4 * 30 * 48, 5), shape: [4, 30, 48] };
    await compareWithCpu([x], (t) => tf.slice(t!, [1, 3, 5], [2, 20, 30]), 0, 0);
    await compareWithCpu([x], (t) => tf.slice(t!, [1, 0, 0], [2, 30, 48]), 0, 0);
    await compareWithCpu([x], (t) => tf.split(t!, 3, 2), 0, 0);
    await compareWithCpu([x], (t) => tf.split(t!, [10, 0, 20], 1), 0, 0);
    await compareWithCpu([x], (t) => tf.split(t!, 2, 0), 0, 0);
    await compareWithCpu([x, { values: randomArray(4 * 30 * 8, 6), shape: [4, 30, 8] }], (a, b) => tf.concat([a!, b!, a!], 2), 0, 0);
    await compareWithCpu([x, { values: randomArray(4 * 0 * 48, 6), shape: [4, 0, 48] }], (a, b) => tf.concat([a!, b!, a!], 1), 0, 0);
  });

  it('fill (ones, zeros, fill) matches cpu for float32 and int32', async () => {
    await compareWithCpu([], () => [tf.ones([30, 40]), tf.zeros([3, 500]), tf.fill([2000], -2.5), tf.fill([700], 3, 'int32'), tf.fill([2], 1)], 0, 0);
  });

  it('pad matches cpu (float32 and int32, zero and non-zero fill, zero-width dims)', async () => {
    const x = { values: randomArray(5 * 30 * 40, 7), shape: [5, 30, 40] };
    await compareWithCpu([x], (t) => tf.pad(t!, [[1, 2], [0, 3], [4, 0]]), 0, 0);
    await compareWithCpu([x], (t) => tf.pad(t!, [[0, 0], [2, 2], [0, 0]], -1.5), 0, 0);
    await compareWithCpu([{ values: Array.from({ length: 600 }, (_, i) => i), shape: [20, 30], dtype: 'int32' }], (t) => tf.pad(t!, [[3, 1], [2, 5]], 7), 0, 0);
    await compareWithCpu([{ values: [], shape: [0, 30] }], (t) => tf.pad(t!, [[20, 20], [0, 0]], 2), 0, 0);
  });
});
