import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, type BackendChoice } from './backend.js';
import { FlopCounter, formatFlops, kernelFlops, notMatrixProducts } from './flops.js';
import { Linear } from './layers/linear.js';
import { columnSum, residualInEpilogue } from './ops/bias.js';
import { mergedContextInOneKernel } from './ops/merged-context.js';
import { MATMUL_FLAG } from './webgpu/matmul.js';
import { Rng } from './rng.js';
import { TinyGpt } from './tiny-gpt.testkit.js';
import { crossEntropy } from './train/losses.js';
import { disposeGrads, valueAndGrads } from './train/grads.js';
import { webgpuAvailability } from './testing/webgpu.js';

const shape = (...s: number[]) => ({ shape: s });

describe('kernelFlops: two FLOPs per multiply-add of each product', () => {
  it('matmuls by hand: transposes, broadcast batches', () => {
    // [2, 3, 4] @ [4, 5]: 2 x (3 x 5 outputs x 4 terms) x 2 = 240
    expect(kernelFlops('BatchMatMul', { a: shape(2, 3, 4), b: shape(4, 5) })).toBe(240);
    // a^T: [4, 3] holds a [3, 4]; b^T: [5, 4] holds b [4, 5]: the same product
    expect(kernelFlops('BatchMatMul', { a: shape(2, 4, 3), b: shape(5, 4) }, { transposeA: true, transposeB: true })).toBe(240);
    // batches [2, 1] and [5] broadcast to [2, 5]: 10 products of 3 x 6 x 4
    expect(kernelFlops('_FusedMatMul', { a: shape(2, 1, 3, 4), b: shape(5, 4, 6) })).toBe(2 * 10 * 3 * 6 * 4);
    expect(kernelFlops('Add', { a: shape(100, 100), b: shape(100, 100) })).toBe(0);
  });

  it('fused kernels count the products of the composite they replace', () => {
    // x: [7, 3] @ w: [3, 5] (+ bias, + residual: not products)
    expect(kernelFlops('SlMatMulBias', { x: shape(7, 3), w: shape(3, 5), bias: shape(5) })).toBe(2 * 7 * 3 * 5);
    expect(kernelFlops('SlMatMulBiasAdd', { x: shape(7, 3), w: shape(3, 5), bias: shape(5), residual: shape(7, 5) })).toBe(2 * 7 * 3 * 5);
    // q: [2, 4, 6, 8], k: [2, 4, 9, 8], v: [2, 4, 9, 5]: q k^T (6 x 9 x 8) and p v (6 x 5 x 9), 8 heads-batches
    const qkv = { q: shape(2, 4, 6, 8), k: shape(2, 4, 9, 8), v: shape(2, 4, 9, 5) };
    const forward = 2 * 8 * (6 * 9 * 8 + 6 * 5 * 9);
    expect(kernelFlops('SlAttention', qkv)).toBe(forward);
    expect(kernelFlops('SlAttentionBias', { ...qkv, bias: shape(1, 1, 6, 9) })).toBe(forward);
    expect(kernelFlops('SlAttentionGrad', { ...qkv, dy: shape(2, 4, 6, 5), probs: shape(2, 4, 6, 9) })).toBe(2 * forward);
    // p: [2, 4, 6, 9] @ v: [2, 4, 9, 5]
    expect(kernelFlops('SlMergedContext', { p: shape(2, 4, 6, 9), v: shape(2, 4, 9, 5) })).toBe(2 * 8 * 6 * 5 * 9);
    expect(kernelFlops('SlMergedContextGrad', { dy: shape(2, 6, 20), p: shape(2, 4, 6, 9), v: shape(2, 4, 9, 5) })).toBe(4 * 8 * 6 * 5 * 9);
  });

  it('formats in the largest unit that keeps three significant digits at least 1', () => {
    expect(formatFlops(0)).toBe('0 FLOP');
    expect(formatFlops(240)).toBe('240 FLOP');
    expect(formatFlops(2.3456e13)).toBe('23.5 TFLOP');
    expect(formatFlops(999_960)).toBe('1.00 MFLOP');
    expect(formatFlops(1.5e15)).toBe('1.50 PFLOP');
  });
});

describe('FlopCounter on the cpu backend', () => {
  beforeAll(async () => {
    await initBackend('cpu', { log: false });
  });

  it('counts products run while started, by every running counter, and nothing else', async () => {
    const a = tf.ones([3, 4]);
    const b = tf.ones([4, 5]);
    const outer = new FlopCounter(1000).start();
    const inner = new FlopCounter();
    const r = await inner.during(() => [tf.matMul(a, b), tf.add(a, a), notMatrixProducts(() => tf.matMul(a, b))]);
    expect(inner.flops).toBe(120);
    tf.dispose(tf.matMul(a, b));
    outer.stop();
    tf.dispose(tf.matMul(a, b));
    expect(outer.flops).toBe(1000 + 240);
    expect(inner.flops).toBe(120);
    tf.dispose([a, b, ...r]);
  });

  it('a column sum is a reduction: no FLOPs although cpu computes it as ones @ dy', async () => {
    const dy = tf.ones([6, 4]);
    const c = new FlopCounter();
    const s = await c.during(() => columnSum(dy));
    expect(Array.from(await s.data())).toEqual([6, 6, 6, 6]);
    expect(c.flops).toBe(0);
    tf.dispose([dy, s]);
  });

  it('a Linear layer\'s training step: x W forward, x^T dy backward, and dy W^T only where x needs a gradient', async () => {
    const layer = new Linear({ inFeatures: 3, outFeatures: 5, rng: new Rng(1) });
    const x = tf.ones([7, 3]);
    const c = new FlopCounter();
    const r = await c.during(() => valueAndGrads(layer, () => tf.sum(layer.forward(x)) as tf.Scalar));
    // x is a constant: 2 x rows x in x out forward, the same for W's gradient.
    expect(c.flops).toBe(4 * 7 * 3 * 5);
    disposeGrads(r.grads);
    // x trainable (as the output of a layer below would be): dy W^T too.
    const xv = tf.variable(x, true, 'flops-test-x');
    const params: Array<[string, tf.Variable]> = [...layer.namedParameters(), ['x', xv]];
    const withX = new FlopCounter();
    const r2 = await withX.during(() => valueAndGrads(params, () => tf.sum(layer.forward(xv)) as tf.Scalar));
    expect(withX.flops).toBe(6 * 7 * 3 * 5);
    disposeGrads(r2.grads);
    tf.dispose([x, xv]);
    layer.dispose();
  });
});

const webgpu = await webgpuAvailability();
const others = [
  { name: 'wasm', skip: undefined },
  { name: 'native', skip: await initBackend('native', { log: false }).then(() => undefined, (e: Error) => e.message.split('\n')[0]) },
  { name: 'webgpu', skip: webgpu.ok ? undefined : webgpu.reason },
] as const;

describe('a transformer\'s training step: the textbook count on every backend', () => {
  afterAll(async () => {
    await initBackend('cpu', { log: false });
  });

  // batch 2, seq 8: 6 x (matmul weights) x tokens + 3 x (q k^T and p v: 2 x 2 x seq^2 x d per sequence) per layer
  const [batch, seq, d, layers] = [2, 8, 16, 2];

  async function stepFlops(backend: BackendChoice): Promise<{ flops: number; weights: number }> {
    await initBackend(backend, { log: false });
    const rng = new Rng(3);
    const model = new TinyGpt(rng);
    const ids = tf.tensor2d(Int32Array.from({ length: batch * seq }, () => rng.int(32)), [batch, seq], 'int32');
    const targets = tf.tensor2d(Int32Array.from({ length: batch * seq }, () => rng.int(32)), [batch, seq], 'int32');
    const c = new FlopCounter();
    const r = await c.during(() => valueAndGrads(model, () => crossEntropy(model.forward(ids), targets)));
    // Matrix weights: every 2-D parameter but the token table (a lookup).
    const weights = model
      .namedParameters()
      .filter(([name, v]) => v.rank === 2 && !name.startsWith('tok.'))
      .reduce((n, [, v]) => n + v.size, 0);
    disposeGrads(r.grads);
    tf.dispose([ids, targets]);
    model.dispose();
    return { flops: c.flops, weights };
  }

  it('cpu (composite attention, matmuls): 6 N T + 12 B T^2 d L', async () => {
    const { flops, weights } = await stepFlops('cpu');
    expect(weights).toBe(layers * 12 * d * d + d * 32);
    expect(flops).toBe(6 * weights * batch * seq + 12 * batch * seq * seq * d * layers);
  }, 60_000);

  for (const b of others) {
    it.skipIf(b.skip !== undefined)(`${b.name} (its fused kernels where it has them) counts what cpu counts${b.skip === undefined ? '' : ` (skipped: ${b.skip})`}`, async () => {
      const cpu = await stepFlops('cpu');
      expect((await stepFlops(b.name)).flops).toBe(cpu.flops);
    }, 60_000);
  }

  it.skipIf(!webgpu.ok)('webgpu with a tiled matmul (the merged attention context and the residual added in the epilogue: one kernel each) counts what cpu counts', async () => {
    const cpu = await stepFlops('cpu');
    await initBackend('webgpu', { log: false });
    tf.env().set(MATMUL_FLAG, 'vec128');
    try {
      expect(mergedContextInOneKernel() && residualInEpilogue()).toBe(true);
      expect((await stepFlops('webgpu')).flops).toBe(cpu.flops);
    } finally {
      tf.env().set(MATMUL_FLAG, 'tfjs');
    }
  }, 60_000);
});
