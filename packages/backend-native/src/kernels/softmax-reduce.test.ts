import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { compareWithCpu, expectClose, randomArray, runOn, setup, skipReason } from '../test/compare.js';

const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
const scaled = (n: number, seed: number, k = 5) => Array.from(randomArray(n, seed), (v) => v * k);

describe.skipIf(skipReason !== '')('softmax and reductions on native', () => {
  beforeAll(setup);

  it('softmax matches cpu over the last axis, with -Inf, Inf and NaN rows', async () => {
    for (const shape of [[40, 33], [2, 4, 16, 16], [1, 2000], [700, 1]]) {
      const v = scaled(size(shape), 1, 20);
      v[0] = -Infinity; // a masked logit
      if (v.length > shape.at(-1)! + 1) v[shape.at(-1)! + 1] = NaN; // a NaN in row 1
      await compareWithCpu([{ values: v, shape }], (x) => tf.softmax(x!), 1e-5, 1e-7, `softmax ${shape}`);
    }
  });

  it('LogSoftmax (engine kernel) equals log of softmax, computed stably', async () => {
    const v = scaled(30 * 50, 2, 40);
    const [got] = await runOn('native', [{ values: v, shape: [30, 50] }], (x) => tf.engine().runKernel('LogSoftmax', { logits: x! }, { axis: -1 }) as tf.Tensor);
    const [ref] = await runOn('cpu', [{ values: v, shape: [30, 50] }], (x) => tf.logSoftmax(x!));
    expect(got!.shape).toEqual([30, 50]);
    expectClose(got!.values, ref!.values, 1e-5, 1e-5);
  });

  const cases: [number[], number | number[], boolean][] = [
    [[64, 48], -1, false],
    [[64, 48], 0, false], // bias-gradient shape: sum over rows
    [[64, 48], [0, 1], false],
    [[8, 16, 24], 1, true],
    [[8, 16, 24], [0, 2], false], // not contiguous: transposed first
    [[8, 16, 24], [1, 2], true],
    [[3, 5, 7, 11], [0, 1, 3], false],
    [[5000], 0, true],
  ];
  for (const [name, op] of [
    ['sum', tf.sum],
    ['mean', tf.mean],
    ['max', tf.max],
    ['min', tf.min],
  ] as const) {
    it(`${name} matches cpu over contiguous and scattered axes (keepDims too)`, async () => {
      for (const [shape, axis, keepDims] of cases) {
        const v = scaled(size(shape), 3);
        await compareWithCpu([{ values: v, shape }], (x) => op(x!, axis, keepDims), 1e-5, 1e-5, `${name} ${shape} ${axis}`);
      }
      // NaN propagates; -Inf/Inf are ordinary values.
      const v = scaled(40 * 30, 4);
      v[5] = NaN;
      v[100] = Infinity;
      v[200] = -Infinity;
      await compareWithCpu([{ values: v, shape: [40, 30] }], (x) => op(x!, -1), 1e-5, 1e-5, `${name} specials`);
      await compareWithCpu([{ values: v, shape: [40, 30] }], (x) => op(x!, 0), 1e-5, 1e-5, `${name} specials axis 0`);
    });
  }
});
