import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MultiHeadAttention } from '../layers/attention.js';
import { Rng } from '../rng.js';
import { MATMUL_FLAG, matMulTilings, type MatMulTilingName } from '../webgpu/matmul.js';
import { expectClose, onBackend, webgpu, webgpuKernels, why } from './compare.testkit.js';
import { mergedContext } from './merged-context.js';

// mergedContext (p v per head, heads side by side) against the matMul, transpose and reshape it
// replaces: exactly on cpu; on webgpu with every tiling (the product written in the merged layout,
// its gradients read from it) against cpu, for shapes read 16 bytes at a time and float by float.
afterEach(() => {
  tf.env().set(MATMUL_FLAG, 'tfjs');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const rng = new Rng(13);
const t = (shape: number[]) => ({ shape, data: rng.normalArray(shape.reduce((a, b) => a * b, 1)) });
// [p [batch, heads, q, kv], v [batch, heads, kv, dimV], dy weights [batch, q, heads * dimV]]
const cases = [
  [t([2, 3, 8, 12]), t([2, 3, 12, 16]), t([2, 8, 48])], // vec4 reads of every operand
  [t([2, 2, 7, 5]), t([2, 2, 5, 9]), t([2, 7, 18])], // float reads, edges inside one tile
  [t([1, 2, 70, 70]), t([1, 2, 70, 8]), t([1, 70, 16])], // q and kv past a 64 tile, K over slices
];

function compute(fused: boolean): tf.Tensor[] {
  return cases.flatMap(([p, v, w]) => {
    const [pt, vt, wt] = [p!, v!, w!].map((x) => tf.tensor(x.data, x.shape));
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      fused ? mergedContext(a, b) : tf.reshape(tf.transpose(tf.matMul(a, b), [0, 2, 1, 3]), [a.shape[0]!, a.shape[2]!, a.shape[1]! * b.shape[3]!]);
    const [dp, dv] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), wt!)))([pt!, vt!]);
    return [f(pt!, vt!), dp!, dv!];
  });
}

describe('mergedContext', () => {
  it('on cpu is matMul, transpose and reshape exactly, and names bad shapes', async () => {
    expect(await onBackend('cpu', () => compute(true))).toEqual(await onBackend('cpu', () => compute(false)));
    expect(() => mergedContext(tf.zeros([2, 3, 4, 5]), tf.zeros([2, 3, 6, 7]))).toThrow('mergedContext: p must be [batch, heads, q, kv] and v [batch, heads, kv, dimV]');
  });

  it.skipIf(!webgpu.ok)(`on webgpu with every tiling matches cpu, values and gradients, as one kernel each way (${why})`, async () => {
    const want = await onBackend('cpu', () => compute(false));
    for (const name of Object.keys(matMulTilings) as MatMulTilingName[]) {
      tf.env().set(MATMUL_FLAG, name);
      const got = await onBackend('webgpu', () => compute(true));
      got.forEach((g, i) => expectClose(g, want[i]!));
    }
    const mk = () => cases[0]!.map((x) => tf.tensor(x.data, x.shape));
    tf.env().set(MATMUL_FLAG, 'vec128');
    // (tf.grads seeds dy and hands gradients on with Identity kernels, which dispatch nothing.)
    const kernels = await webgpuKernels(mk, (p, v) => tf.grads((a: tf.Tensor, b: tf.Tensor) => mergedContext(a, b))([p!, v!]));
    expect(kernels.filter((k) => k !== 'Identity')).toEqual(['SlMergedContext', 'SlMergedContextGrad']);
    // Self-attention then runs no Transpose; with tfjs's matmul the head merge is one.
    const attnKernels = async () => {
      const attn = new MultiHeadAttention({ dModel: 16, numHeads: 4, rng: new Rng(2) });
      const kernels = await webgpuKernels(() => [tf.tensor(t([2, 6, 16]).data, [2, 6, 16])], (x) => attn.forward(x!, { causal: true }));
      attn.dispose();
      return kernels.filter((k) => k === 'Transpose' || k === 'SlMergedContext');
    };
    expect(await attnKernels()).toEqual(['SlMergedContext']);
    tf.env().set(MATMUL_FLAG, 'tfjs');
    expect(await attnKernels()).toEqual(['Transpose']);
    await tf.setBackend('cpu');
  });
});
