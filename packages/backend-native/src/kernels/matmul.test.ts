import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { nativeInfo, setNativeBlas, setNativeSimd, setNativeThreads } from '../backend.js';
import { compareWithCpu, expectClose, randomArray, runOn, setup, skipReason } from '../test/compare.js';
import { planMatMul } from './matmul.js';

/** float64 reference of op(a) @ op(b) for one matrix pair. */
function refMatMul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number, ta: boolean, tb: boolean, aOff = 0, bOff = 0): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[aOff + (ta ? p * m + i : i * k + p)]! * b[bOff + (tb ? j * k + p : p * n + j)]!;
      out[i * n + j] = s;
    }
  return out;
}

const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 3], // M = 1: the vector-matrix path
  [1, 300, 70],
  [5, 1, 9],
  [13, 17, 29],
  [14, 32, 64], // exactly one AVX-512 tile
  [15, 33, 257], // one past the tile and the K block
  [64, 48, 0], // K = 0: zeros
  [0, 5, 3], // empty output
  [129, 95, 300],
];

describe.skipIf(skipReason !== '')('MatMul / BatchMatMul on native', () => {
  beforeAll(setup);
  afterAll(() => setNativeSimd(nativeInfo().simdAvailable![0]!));

  for (const level of ['avx512', 'avx2', 'generic']) {
    it(`matches an exact reference for every size and transpose (${level})`, async (ctx) => {
      if (!nativeInfo().simdAvailable?.includes(level)) ctx.skip();
      setNativeSimd(level);
      for (const [m, n, k] of SIZES)
        for (const ta of [false, true])
          for (const tb of [false, true]) {
            const a = randomArray(m * k, m + 3 * k);
            const b = randomArray(k * n, n + 7 * k);
            const [out] = await runOn('native', [
              { values: a, shape: ta ? [k, m] : [m, k] },
              { values: b, shape: tb ? [n, k] : [k, n] },
            ], (x, y) => tf.matMul(x!, y!, ta, tb));
            expect(out!.shape).toEqual([m, n]);
            expectClose(out!.values, refMatMul(a, b, m, n, k, ta, tb), 1e-4, 1e-5, `${level} ${m}x${n}x${k} ta=${ta} tb=${tb}`);
          }
    });
  }

  it('matches the cpu backend on batched products in all transpose combinations', async () => {
    for (const [aShape, bShape] of [
      [[3, 20, 30], [3, 30, 10]],
      [[2, 4, 33, 16], [2, 4, 16, 33]],
      [[5, 8, 12], [12, 7]], // b broadcast over the batch
      [[8, 12], [4, 12, 6]], // a broadcast over the batch
    ] as [number[], number[]][])
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const swapA = ta ? [...aShape.slice(0, -2), aShape.at(-1)!, aShape.at(-2)!] : aShape;
          const swapB = tb ? [...bShape.slice(0, -2), bShape.at(-1)!, bShape.at(-2)!] : bShape;
          await compareWithCpu(
            [
              { values: randomArray(swapA.reduce((p, q) => p * q, 1), 1), shape: swapA },
              { values: randomArray(swapB.reduce((p, q) => p * q, 1), 2), shape: swapB },
            ],
            (x, y) => tf.matMul(x!, y!, ta, tb),
            1e-4,
            1e-5,
            `${aShape}x${bShape} ta=${ta} tb=${tb}`,
          );
        }
  });

  it('broadcasts batch dims numpy-style ([2,1] x [1,3] batches)', async () => {
    const [m, n, k] = [4, 5, 6];
    const a = randomArray(2 * m * k, 3);
    const b = randomArray(3 * k * n, 4);
    const [out] = await runOn('native', [
      { values: a, shape: [2, 1, m, k] },
      { values: b, shape: [1, 3, k, n] },
    ], (x, y) => tf.matMul(x!, y!));
    expect(out!.shape).toEqual([2, 3, m, n]);
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expected.push(...refMatMul(a, b, m, n, k, false, false, i * m * k, j * k * n));
    expectClose(out!.values, expected, 1e-5, 1e-6);
    expect(planMatMul([2, 1, m, k], [1, 3, k, n], false, false)!.batchB).toEqual(Int32Array.from([0, 1, 2, 0, 1, 2]));
  });

  it('propagates NaN and Inf like the cpu backend', async () => {
    const a = Array.from(randomArray(6 * 5, 9));
    a[7] = NaN; // row 1
    a[20] = Infinity; // row 4
    await compareWithCpu([{ values: a, shape: [6, 5] }, { values: randomArray(5 * 40, 10), shape: [5, 40] }], (x, y) => tf.matMul(x!, y!), 1e-5, 1e-6);
  });

  it('fuses bias and activations (_FusedMatMul) like the cpu backend', async () => {
    for (const activation of ['linear', 'relu', 'relu6', 'sigmoid', 'leakyrelu', 'elu', 'prelu'] as const)
      for (const biasShape of [[48], [1, 48], [30, 1], null]) {
        const inputs = [
          { values: randomArray(2 * 30 * 20, 11), shape: [2, 30, 20] },
          { values: randomArray(48 * 20, 12), shape: [48, 20] },
          { values: randomArray(48, 13), shape: [48] },
          ...(biasShape ? [{ values: randomArray(biasShape[0]! * biasShape[1]! || biasShape[0]!, 14), shape: biasShape }] : []),
        ];
        await compareWithCpu(
          inputs,
          (a, b, alpha, bias) =>
            tf.fused.matMul({ a: a!, b: b!, transposeB: true, bias, activation, preluActivationWeights: alpha, leakyreluAlpha: 0.1 }),
          1e-4,
          1e-5,
          `${activation} bias=${JSON.stringify(biasShape)}`,
        );
      }
  });

  it('routes GEMM to a system OpenBLAS on request, with the same results', async (ctx) => {
    try {
      setNativeBlas('openblas');
    } catch (e) {
      ctx.skip(`OpenBLAS not available: ${(e as Error).message}`);
    }
    try {
      expect(nativeInfo().blas).toBe('openblas');
      const a = randomArray(70 * 90, 21);
      const b = randomArray(90 * 50, 22);
      for (const [ta, tb] of [[false, false], [true, true]] as const) {
        const [out] = await runOn('native', [{ values: a, shape: ta ? [90, 70] : [70, 90] }, { values: b, shape: tb ? [50, 90] : [90, 50] }], (x, y) => tf.matMul(x!, y!, ta, tb));
        expectClose(out!.values, refMatMul(a, b, 70, 50, 90, ta, tb), 1e-4, 1e-5);
      }
    } finally {
      setNativeBlas('builtin');
    }
    expect(nativeInfo().blas).toBe('builtin');
  });

  it('gives bit-identical results on repeated runs and across thread counts', async () => {
    const inputs = [
      { values: randomArray(200 * 300, 5), shape: [200, 300] },
      { values: randomArray(300 * 150, 6), shape: [300, 150] },
    ];
    const product = (x?: tf.Tensor, y?: tf.Tensor) => tf.softmax(tf.matMul(x!, y!));
    const first = await runOn('native', inputs, product);
    expect((await runOn('native', inputs, product))[0]!.values).toEqual(first[0]!.values);
    setNativeThreads(1);
    const single = await runOn('native', inputs, product);
    setNativeThreads(2);
    expect(single[0]!.values).toEqual(first[0]!.values);
  });
});
