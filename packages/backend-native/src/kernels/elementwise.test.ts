import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { nativeInfo, setNativeSimd } from '../backend.js';
import { compareWithCpu, randomArray, setup, skipReason } from '../test/compare.js';

/** Values that exercise every branch: specials, tiny, huge, both signs, around 0 and 1. */
function specials(n: number, seed: number, scale = 10): number[] {
  const fixed = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 1e-30, -1e-30, 1e-42, 88.5, -88.5, 89, -104, 0.5, 0.62, 0.63, 2, 3];
  return [...fixed, ...Array.from(randomArray(n - fixed.length, seed), (v) => v * scale)];
}

const N = 3000; // above the native threshold and not a multiple of any vector width

describe.skipIf(skipReason !== '')('element-wise kernels on native', () => {
  beforeAll(setup);
  afterAll(() => setNativeSimd(nativeInfo().simdAvailable![0]!));

  const binaries: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
    ['maximum', tf.maximum],
    ['minimum', tf.minimum],
    ['squaredDifference', tf.squaredDifference],
    ['pow', tf.pow],
  ];
  const broadcasts: [number[], number[]][] = [
    [[N], [N]],
    [[60, 50], [50]], // row vector
    [[60, 50], [60, 1]], // column vector
    [[6, 1, 50], [1, 10, 50]], // both sides broadcast
    [[5, 1, 7, 1], [1, 9, 1, 20]],
    [[60, 50], []], // scalar
    [[], [60, 50]],
    [[2, 3, 0], [3, 1]], // empty
  ];
  for (const [name, op] of binaries) {
    it(`${name} matches cpu for broadcasting shapes and special values`, async () => {
      for (const [sa, sb] of broadcasts) {
        const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
        const a = specials(Math.max(size(sa), 19), 1).slice(0, size(sa));
        const b = name === 'pow' ? [...Array.from(randomArray(size(sb), 2), (v) => v * 3)] : specials(Math.max(size(sb), 19), 2).slice(0, size(sb)).reverse();
        await compareWithCpu([{ values: a, shape: sa }, { values: b, shape: sb }], (x, y) => op(x!, y!), 1e-5, 1e-6, `${name} ${JSON.stringify([sa, sb])}`);
      }
    });
  }

  it('pow with small integer exponents (the GELU path) matches cpu', async () => {
    for (const e of [2, 3, 1, -1, 0, 0.5]) {
      await compareWithCpu([{ values: specials(N, 3), shape: [N] }, { values: [e], shape: [] }], (x, y) => tf.pow(x!, y!), 1e-5, 1e-6, `pow ${e}`);
    }
  });

  const unaries: [string, (x: tf.Tensor) => tf.Tensor, number][] = [
    ['exp', tf.exp, 2e-6],
    ['log', tf.log, 2e-6],
    ['sqrt', tf.sqrt, 1e-6],
    ['rsqrt', tf.rsqrt, 1e-6],
    ['tanh', tf.tanh, 2e-6],
    ['sigmoid', tf.sigmoid, 2e-6],
    ['relu', tf.relu, 0],
    ['relu6', tf.relu6, 0],
    ['neg', tf.neg, 0],
    ['square', tf.square, 1e-7],
    ['abs', tf.abs, 0],
    ['reciprocal', tf.reciprocal, 1e-7],
    ['erf', tf.erf, 2e-6],
    ['leakyRelu', (x) => tf.leakyRelu(x, 0.15), 1e-7],
    ['elu', tf.elu, 2e-6],
    ['step', (x) => tf.step(x), 0],
    ['step alpha', (x) => tf.step(x, 0.3), 0],
  ];
  for (const level of ['avx512', 'avx2', 'generic']) {
    it(`unary math matches cpu on special and random values (${level})`, async (ctx) => {
      if (!nativeInfo().simdAvailable?.includes(level)) ctx.skip();
      setNativeSimd(level);
      for (const [name, op, rtol] of unaries) {
        // Positive-only copies for log/sqrt/rsqrt as well, to check the range away from NaN.
        await compareWithCpu([{ values: specials(N, 4), shape: [N] }], (x) => op(x!), rtol, 1e-6, `${level} ${name}`);
        await compareWithCpu([{ values: specials(N, 5, 50).map(Math.abs), shape: [50, 60] }], (x) => op(x!), rtol, 1e-6, `${level} ${name} |x|`);
      }
    });
  }

  it('small tensors take the cpu kernels and still agree', async () => {
    await compareWithCpu([{ values: [1, -2, 3], shape: [3] }, { values: [0.5], shape: [1] }], (x, y) => tf.exp(tf.mul(x!, y!)));
  });
});
