import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TransformerBlock } from '../layers/transformer-block.js';
import { matMulBias, matMulBiasAdd } from '../ops/bias.js';
import { expectClose, onBackend, webgpu, webgpuKernels, why } from '../ops/compare.testkit.js';
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
  // Multiples of 4 where an operand is contiguous: the vec4 tilings read these 16 bytes at a time
  // (the cases above read float by float), over several tiles in M and N and a partial K slice.
  [t([260, 40]), t([40, 136]), false, false],
  [t([40, 260]), t([40, 136]), true, false],
  [t([260, 40]), t([136, 40]), false, true],
  [t([40, 260]), t([136, 40]), true, true],
  [t([2, 3, 16, 8]), t([2, 3, 16, 8]), false, true], // vec4 reads with a batch
  [t([68, 300]), t([300, 129]), false, false], // A by vec4, B float by float
];

// A Linear's shapes: x [45, 70], w [70, 66], bias [66], and weights on its output for a loss;
// a residual [45, 66] for x W + b + r.
const linear = { x: t([45, 70]), w: t([70, 66]), bias: t([66]), dy: t([45, 66]), residual: t([45, 66]) };

function compute(): tf.Tensor[] {
  const outs: tf.Tensor[] = [];
  for (const [a, b, ta, tb] of cases) outs.push(tf.matMul(tf.tensor(a.data, a.shape), tf.tensor(b.data, b.shape), ta, tb));
  // The matmul gradients (both transposed products) and a Linear's bias epilogue.
  const [x, w, bias, dyWeights] = [linear.x, linear.w, linear.bias, linear.dy].map((v) => tf.tensor(v.data, v.shape));
  const [dx, dw] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p, q), dyWeights!)))([x!, w!]);
  outs.push(dx!, dw!, matMulBias(x!, w!, bias!));
  // x W + b + r (the residual in the epilogue) and its four gradients.
  const r = tf.tensor(linear.residual.data, linear.residual.shape);
  const f = (p: tf.Tensor, q: tf.Tensor, c: tf.Tensor, s: tf.Tensor) => tf.sum(tf.mul(matMulBiasAdd(p, q, c, s), dyWeights!));
  outs.push(matMulBiasAdd(x!, w!, bias!, r), ...tf.grads(f)([x!, w!, bias!, r]));
  return outs;
}

describe('tiled webgpu matmul', () => {
  it('matMulBiasAdd is (x W + b) + r exactly where it runs as composites (cpu), and checks its residual', async () => {
    const [got, want] = await onBackend('cpu', () => {
      const [x, w, bias, r] = [linear.x, linear.w, linear.bias, linear.residual].map((v) => tf.tensor(v.data, v.shape));
      return [matMulBiasAdd(x!, w!, bias!, r!), tf.add(tf.add(tf.matMul(x!, w!), bias!), r!)];
    });
    expect(got).toEqual(want);
    expect(() => matMulBiasAdd(tf.zeros([2, 3]), tf.zeros([3, 4]), tf.zeros([4]), tf.zeros([2, 5]))).toThrow('matMulBiasAdd: residual [2,5] is not [rows, out] = [2, 4]');
  });

  it('a pre-norm block without dropout adds its residuals in the projections: the same sums on cpu', async () => {
    const [got, want] = await onBackend('cpu', () => {
      const block = new TransformerBlock({ dModel: 16, numHeads: 2, crossAttention: true, rng: new Rng(4) });
      const [x, ctx] = [t([2, 5, 16]), t([2, 3, 16])].map((v) => tf.tensor(v.data, v.shape));
      const y = block.forward(x!, { causal: true, context: ctx });
      // What the block computed before: x + f(x) as separate adds.
      let h = tf.add(x!, block.attn.forward(block.norm1.forward(x!), { causal: true }));
      h = tf.add(h, block.crossAttn!.forward(block.normCross!.forward(h), { context: ctx }));
      const ref = tf.add(h, block.mlp.forward(block.norm2.forward(h)));
      block.dispose();
      return [y, ref];
    });
    expect(got).toEqual(want);
  });

  it('the flag selects a tiling by name, tfjs by default, and refuses other values', () => {
    expect(tf.env().get(MATMUL_FLAG)).toBe('tfjs');
    expect(selectedTiling()).toBeUndefined();
    tf.env().set(MATMUL_FLAG, 'tiled128');
    expect(selectedTiling()).toEqual(matMulTilings.tiled128);
    expect(() => tf.env().set(MATMUL_FLAG, 'tiled32')).toThrow('SL_WEBGPU_MATMUL must be one of tfjs, tiled64, tiled128, vec64, vec128, got "tiled32"');
    expect(tf.env().get(MATMUL_FLAG)).toBe('tiled128'); // the refused value is not kept
  });

  it.skipIf(!webgpu.ok)(`every tiling equals cpu, and its program is the one that ran (${why})`, async () => {
    const want = await onBackend('cpu', compute);
    for (const name of Object.keys(matMulTilings) as MatMulTilingName[]) {
      tf.env().set(MATMUL_FLAG, name);
      const got = await onBackend('webgpu', compute);
      got.forEach((g, i) => expectClose(g, want[i]!));
      const { tileM, tileN, tileK, vec4 } = matMulTilings[name];
      const keys = Object.keys((tf.backend() as unknown as { pipelineCache: Record<string, unknown> }).pipelineCache);
      // Plain, transposed either way, and with the bias epilogue: each its own compiled program;
      // the vec4 tilings' also with 16-byte and with float reads of each operand.
      const variants = ['false_false_false', 'true_false_false', 'false_true_false', 'true_true_false', 'false_false_true', `false_false_true${vec4 ? '_false_false' : ''}_res`];
      const reads = vec4 ? ['_true_true', '_false_false', '_true_false'] : [''];
      for (const variant of [...variants, ...reads.map((r) => `false_false_false${r}`)]) {
        const prefix = `slMatMul${vec4 ? 'V4' : ''}_${tileM}_${tileN}_${tileK}_16_16_${variant}`;
        expect(keys.some((k) => k.startsWith(prefix)), `${name} ${variant}`).toBe(true);
      }
    }
    // Every tiling compiles its ~10 programs on the software adapter (Mesa's lavapipe in CI): tens of
    // seconds alone, over a minute on 2 cores shared with other work. A hang guard, not a speed check.
  }, 240_000);

  it.skipIf(!webgpu.ok)(`with a tiling, x W + b + r is one kernel and a pre-norm block has no residual Add (${why})`, async () => {
    const mk = () => [linear.x, linear.w, linear.bias, linear.residual].map((v) => tf.tensor(v.data, v.shape));
    tf.env().set(MATMUL_FLAG, 'vec64');
    expect(await webgpuKernels(mk, (x, w, b, r) => matMulBiasAdd(x!, w!, b!, r!))).toEqual(['SlMatMulBiasAdd']);
    const blockKernels = async () => {
      const block = new TransformerBlock({ dModel: 16, numHeads: 2, rng: new Rng(4) });
      const kernels = await webgpuKernels(() => [tf.tensor(t([2, 5, 16]).data, [2, 5, 16])], (x) => block.forward(x!, { causal: true }));
      block.dispose();
      return kernels.filter((k) => k === 'Add' || k.startsWith('SlMatMulBias'));
    };
    expect(await blockKernels()).toEqual(['SlMatMulBiasAdd', 'SlMatMulBiasAdd']);
    // tfjs's matmul has no residual epilogue: the op keeps the add (and matMulBias's one kernel).
    tf.env().set(MATMUL_FLAG, 'tfjs');
    expect(await blockKernels()).toEqual(['SlMatMulBias', 'Add', 'SlMatMulBias', 'Add']);
    await tf.setBackend('cpu');
  });
});
