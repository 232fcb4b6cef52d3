import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { matMulBias } from '../ops/bias.js';
import { expectClose, onBackend, webgpu, why } from '../ops/compare.testkit.js';
import { Rng } from '../rng.js';
import { MATMUL_FLAG, matMulTilings, selectedTiling, type MatMulTilingName } from './matmul.js';

// The tiled webgpu matmul (SL_WEBGPU_MATMUL) against cpu: edges that are not multiples of a tile,
// K over several staged slices, every transpose, batches with and without broadcast, the bias
// epilogue and the gradients that run through the same kernel.
afterEach(() => {
  tf.env().set(MATMUL_FLAG, 'tfjs');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const rng = new Rng(3);
const t = (shape: number[]) => ({ shape, data: rng.normalArray(shape.reduce((a, b) => a * b, 1)) });

/** [a, b, transposeA, transposeB]: shapes as stored. */
const cases: Array<[ReturnType<typeof t>, ReturnType<typeof t>, boolean, boolean]> = [
  [t([37, 19]), t([19, 53]), false, false], // every edge partial
  [t([70, 300]), t([300, 129]), false, false], // K over many slices, M and N past one 64 tile
  [t([19, 37]), t([19, 53]), true, false],
  [t([37, 19]), t([53, 19]), false, true],
  [t([19, 37]), t([53, 19]), true, true],
  [t([3, 17, 24]), t([3, 24, 9]), false, false], // batched
  [t([2, 3, 16, 8]), t([2, 3, 16, 8]), false, true], // attention's q k^T: [B, H, S, D] x [B, H, S, D]^T
  [t([2, 3, 16, 16]), t([2, 3, 16, 8]), false, false], // attention's p v
  [t([4, 33, 20]), t([20, 7]), false, false], // b broadcast over a's batch
  [t([20, 7]), t([4, 33, 20]), true, true], // a broadcast over b's batch
];

// A Linear's shapes: x [45, 70], w [70, 66], bias [66], and weights on its output for a loss.
const linear = { x: t([45, 70]), w: t([70, 66]), bias: t([66]), dy: t([45, 66]) };

function compute(): tf.Tensor[] {
  const outs: tf.Tensor[] = [];
  for (const [a, b, ta, tb] of cases) outs.push(tf.matMul(tf.tensor(a.data, a.shape), tf.tensor(b.data, b.shape), ta, tb));
  // The matmul gradients (both transposed products) and a Linear's bias epilogue.
  const [x, w, bias, dyWeights] = [linear.x, linear.w, linear.bias, linear.dy].map((v) => tf.tensor(v.data, v.shape));
  const [dx, dw] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p, q), dyWeights!)))([x!, w!]);
  outs.push(dx!, dw!, matMulBias(x!, w!, bias!));
  return outs;
}

describe('tiled webgpu matmul', () => {
  it('the flag selects a tiling by name, tfjs by default, and refuses other values', () => {
    expect(tf.env().get(MATMUL_FLAG)).toBe('tfjs');
    expect(selectedTiling()).toBeUndefined();
    tf.env().set(MATMUL_FLAG, 'tiled128');
    expect(selectedTiling()).toEqual(matMulTilings.tiled128);
    expect(() => tf.env().set(MATMUL_FLAG, 'tiled32')).toThrow('SL_WEBGPU_MATMUL must be one of tfjs, tiled64, tiled128, got "tiled32"');
    expect(tf.env().get(MATMUL_FLAG)).toBe('tiled128'); // the refused value is not kept
  });

  it.skipIf(!webgpu.ok)(`every tiling equals cpu, and its program is the one that ran (${why})`, async () => {
    const want = await onBackend('cpu', compute);
    for (const name of Object.keys(matMulTilings) as MatMulTilingName[]) {
      tf.env().set(MATMUL_FLAG, name);
      const got = await onBackend('webgpu', compute);
      got.forEach((g, i) => expectClose(g, want[i]!));
      const { tileM, tileN, tileK } = matMulTilings[name];
      const keys = Object.keys((tf.backend() as unknown as { pipelineCache: Record<string, unknown> }).pipelineCache);
      // Plain, transposed either way, and with the bias epilogue: each its own compiled program.
      for (const variant of ['false_false_false', 'true_false_false', 'false_true_false', 'true_true_false', 'false_false_true']) {
        expect(keys.some((k) => k.startsWith(`slMatMul_${tileM}_${tileN}_${tileK}_16_16_${variant}`)), `${name} ${variant}`).toBe(true);
      }
    }
  });
});
