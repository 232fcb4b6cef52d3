import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { traceNativeGemm } from './gemm-trace.js';
import { randomArray, setup, skipReason } from './test/compare.js';

describe.skipIf(skipReason !== '')('traceNativeGemm', () => {
  beforeAll(async () => {
    await setup();
    await tf.setBackend('native');
  });

  it('records each GEMM with its shape, transposes and broadcast operands, results unchanged', async () => {
    const a = tf.tensor(randomArray(6 * 5 * 7, 1), [6, 5, 7]); // [batch 6, k 5, m 7], used transposed
    const w = tf.tensor(randomArray(9 * 5, 2), [9, 5]); // [n 9, k 5], used transposed, broadcast
    const x = tf.tensor(randomArray(3 * 4, 3), [3, 4]);
    const y = tf.tensor(randomArray(4 * 2, 4), [4, 2]);
    const expected = tf.matMul(a, w, true, true).dataSync().slice();
    const { result, calls } = await traceNativeGemm(() => {
      const batched = tf.matMul(a, w, true, true);
      const plain = tf.matMul(x, y);
      return [batched, plain] as const;
    });
    for (const c of calls) expect(Math.min(c.ms, c.cpuMs)).toBeGreaterThanOrEqual(0);
    expect(calls.map(({ ms, cpuMs, ...shape }) => shape)).toEqual([
      { batch: 6, m: 7, n: 9, k: 5, transposeA: true, transposeB: true, aMatrices: 6, bMatrices: 1 },
      { batch: 1, m: 3, n: 2, k: 4, transposeA: false, transposeB: false, aMatrices: 1, bMatrices: 1 },
    ]);
    expect(result[0].dataSync()).toEqual(expected);
    // The trace is over: later products are not recorded and a new trace starts empty.
    const after = await traceNativeGemm(() => tf.add(x, x));
    expect(after.calls).toEqual([]);
    tf.dispose([a, w, x, y, ...result, after.result]);
  });

  it('restores the untraced GEMM when fn throws, and refuses nested traces', async () => {
    const x = tf.ones([4, 4]);
    await expect(traceNativeGemm(() => {
      tf.matMul(x, x).dispose();
      throw new Error('boom');
    })).rejects.toThrow('boom');
    await expect(traceNativeGemm(() => traceNativeGemm(() => 1))).rejects.toThrow('traces do not nest');
    const { calls } = await traceNativeGemm(() => tf.matMul(x, x).dispose());
    expect(calls).toHaveLength(1);
    x.dispose();
  });
});
