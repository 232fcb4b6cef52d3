import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

// The fused ops and their gradients live in @sentencelab/tensor (imported by path, see
// backend.test.ts). On cpu they run their composite ops; on native, these C++ kernels.
import '../../../tensor/src/gradients.js';
import { adamwUpdate } from '../../../tensor/src/ops/adamw-update.js';
import { scaledDotProductAttention } from '../../../tensor/src/ops/attention.js';
import { columnSum, matMulBias } from '../../../tensor/src/ops/bias.js';
import { softmaxCrossEntropy } from '../../../tensor/src/ops/cross-entropy.js';
import { biasGelu, gelu } from '../../../tensor/src/ops/gelu.js';
import { splitHeads } from '../../../tensor/src/ops/heads.js';
import { layerNorm } from '../../../tensor/src/ops/layer-norm.js';
import { scaledMaskedSoftmax } from '../../../tensor/src/ops/masked-softmax.js';
import { rmsNorm } from '../../../tensor/src/ops/rms-norm.js';
import { Embedding } from '../../../tensor/src/layers/embedding.js';
import { MultiHeadAttention } from '../../../tensor/src/layers/attention.js';
import { Linear } from '../../../tensor/src/layers/linear.js';
import { TransformerStack } from '../../../tensor/src/layers/transformer-stack.js';
import { Rng } from '../../../tensor/src/rng.js';
import { crossEntropy } from '../../../tensor/src/train/losses.js';
import { AdamW } from '../../../tensor/src/train/adamw.js';
import { setNativeThreads } from '../backend.js';
import { compareWithCpu, expectClose, randomArray, setup, skipReason, type Input } from '../test/compare.js';
import { fusedKernelNames as tensorKernelNames } from '../../../tensor/src/webgpu/register.js';
import { fusedKernelNames as K } from './fused.js';

// Shapes cross the SIMD widths (16/8 floats) and the row split between threads.
const ROWS = 70;
const COLS = 37;
const x: Input = { values: Array.from(randomArray(ROWS * COLS, 1), (v) => 3 * v + 0.5), shape: [2, 35, COLS] };
const gamma: Input = { values: Array.from(randomArray(COLS, 2), (v) => 1 + v), shape: [COLS] };
const beta: Input = { values: randomArray(COLS, 3), shape: [COLS] };
const w: Input = { values: randomArray(ROWS * COLS, 4), shape: [2, 35, COLS] };

/** y and the gradients of sum(w * y) with respect to every input of f. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor) {
  return (wt: tf.Tensor, ...xs: tf.Tensor[]) => [f(...xs), ...tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), wt)))(xs)];
}

/** Names of the kernels fn runs on native. */
async function nativeKernelsOf(inputs: Input[], fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<string[]> {
  await tf.setBackend('native');
  const xs = inputs.map((i) => tf.tensor(Array.from(i.values), i.shape, i.dtype ?? 'float32'));
  const info = await tf.profile(() => fn(...xs));
  tf.dispose([...xs, info.result as tf.Tensor | tf.Tensor[]].flat());
  return info.kernels.map((k) => k.name);
}

describe('fused kernel names', () => {
  it("each native kernel name is the one tensor's fused op runs (the list is repeated here: tensor depends on this package)", () => {
    for (const [op, name] of Object.entries(K)) expect([op, name]).toEqual([op, (tensorKernelNames as Record<string, string>)[op]]);
  });
});

describe.skipIf(skipReason !== '')('fused-op kernels on native match the composite ops on cpu', () => {
  beforeAll(setup);

  it('LayerNorm and RMSNorm, affine and plain: forward and gradients, one kernel each way', async () => {
    const cases: Array<[string, (...t: tf.Tensor[]) => tf.Tensor, Input[], string[]]> = [
      ['layerNorm', (a, g, b) => layerNorm(a!, g, b, 1e-5), [x, gamma, beta], [K.layerNorm, K.layerNormGrad]],
      ['layerNorm plain', (a) => layerNorm(a!, undefined, undefined, 1e-5), [x], [K.layerNormPlain, K.layerNormGrad]],
      ['rmsNorm', (a, g) => rmsNorm(a!, g, 1e-6), [x, gamma], [K.rmsNorm, K.rmsNormGrad]],
      ['rmsNorm plain', (a) => rmsNorm(a!, undefined, 1e-6), [x], [K.rmsNormPlain, K.rmsNormGrad]],
    ];
    for (const [what, f, inputs, kernels] of cases) {
      await compareWithCpu([w, ...inputs], valueAndGrads(f), 2e-5, 2e-5, what);
      const ran = await nativeKernelsOf([w, ...inputs], valueAndGrads(f));
      for (const k of kernels) expect(ran, what).toContain(k);
    }
  });

  for (const gamma of [0, 2, 0.5]) {
    it(`softmax ${gamma === 0 ? 'cross-entropy' : `focal loss (gamma ${gamma})`} with ignored, negative and out-of-range targets, and its gradient`, async () => {
      const V = 53;
      const values = Array.from(randomArray(ROWS * V, 5), (v) => 4 * v);
      values[3 * V + 1] = 60; // a near-certain target (p rounds to 1): the focal weights' edge
      const logits: Input = { values, shape: [ROWS, V] };
      const t = Array.from({ length: ROWS }, (_, i) => (i === 3 ? 1 : i % 11 === 0 ? -1 : i % 13 === 0 ? -5 : i % 17 === 0 ? V + 2 : (i * 7) % V));
      const targets: Input = { values: t, shape: [ROWS], dtype: 'int32' };
      const f = (l: tf.Tensor, tt: tf.Tensor) => {
        const loss = softmaxCrossEntropy(l, tt, -1, gamma);
        return [loss, tf.grad((ll: tf.Tensor) => tf.mul(softmaxCrossEntropy(ll, tt, -1, gamma), 3))(l)];
      };
      await compareWithCpu([logits, targets], f, 2e-5, 1e-6, `crossEntropy gamma ${gamma}`);
      const ran = await nativeKernelsOf([logits, targets], f);
      expect(ran).toContain(K.crossEntropy);
      expect(ran).toContain(K.crossEntropyGrad);
      expect(ran).not.toContain('OneHot');
    });
  }

  it('scaled masked softmax: causal with offset, broadcast bias, and gradients of scores and bias', async () => {
    const shape = [2, 3, 9, 21];
    const scores: Input = { values: Array.from(randomArray(2 * 3 * 9 * 21, 6), (v) => 5 * v), shape };
    const bias: Input = { values: Array.from(randomArray(2 * 21, 7), (v) => (v > 0.6 ? -1e9 : v)), shape: [2, 1, 1, 21] };
    const ws: Input = { values: randomArray(2 * 3 * 9 * 21, 8), shape };
    const f = (s: tf.Tensor, b: tf.Tensor) => scaledMaskedSoftmax(s, { scale: 0.35, causal: true, offset: 4, bias: b });
    await compareWithCpu([ws, scores, bias], valueAndGrads(f), 2e-5, 1e-6, 'maskedSoftmax');
    const plain = (s: tf.Tensor) => scaledMaskedSoftmax(s, { scale: 0.125, causal: true });
    await compareWithCpu([ws, scores], valueAndGrads(plain), 2e-5, 1e-6, 'maskedSoftmax causal');
    const ran = await nativeKernelsOf([ws, scores], valueAndGrads(plain));
    expect(ran).toContain(K.maskedSoftmax);
    expect(ran).toContain(K.maskedSoftmaxGrad);
  });

  it('scaled dot-product attention: every mask, cross-attention, one query over a cache, blocks of queries; forward and q/k/v gradients', async () => {
    const input = (shape: number[], seed: number, amp = 1): Input => ({ values: Array.from(randomArray(shape.reduce((a, b) => a * b), seed), (v) => amp * v), shape });
    // [batch, heads, q, kv, dim, dimV], options, bias: dims cross the SIMD widths and the GEMM
    // tiles; q 300 over kv 300 spans two chunks of the backward (2^16 / kv = 218 query rows).
    const keyPad: Input = { values: Array.from(randomArray(2 * 21, 7), (v) => (v > 0.5 ? -1e9 : 0)), shape: [2, 1, 1, 21] };
    const custom: Input = { values: Array.from(randomArray(9 * 21, 9), (v) => (v > 0.3 ? -1e9 : 0.25 * v)), shape: [1, 1, 9, 21] };
    const cases: Array<[string, number[], { causal?: boolean; offset?: number }, Input | undefined]> = [
      ['causal self-attention', [2, 3, 21, 21, 19, 19], { causal: true }, undefined],
      ['causal with a cache offset and key padding', [2, 3, 9, 21, 19, 19], { causal: true, offset: 12 }, keyPad],
      ['causal with a cache offset', [2, 3, 9, 21, 19, 19], { causal: true, offset: 12 }, undefined],
      ['custom mask, cross-attention (q 9, kv 21), dimV != dim', [2, 3, 9, 21, 19, 11], {}, custom],
      ['one query over a cache of 20', [2, 3, 1, 21, 19, 19], { causal: true, offset: 20 }, undefined],
      ['causal with more queries than keys', [1, 2, 10, 4, 8, 8], { causal: true }, undefined],
      ['causal with a negative offset (fully masked first rows attend uniformly)', [1, 2, 10, 6, 8, 8], { causal: true, offset: -2 }, undefined],
      ['two chunks of queries, causal', [1, 2, 300, 300, 8, 8], { causal: true }, undefined],
      ['two chunks of queries, causal + key padding', [1, 2, 300, 300, 8, 8], { causal: true }, { values: Array.from({ length: 300 }, (_, j) => (j % 7 === 3 ? -1e9 : 0)), shape: [1, 1, 1, 300] }],
    ];
    for (const [what, [b, h, q, kv, d, dv], o, bias] of cases) {
      const inputs = [input([b!, h!, q!, dv!], 11), input([b!, h!, q!, d!], 12, 2), input([b!, h!, kv!, d!], 13, 2), input([b!, h!, kv!, dv!], 14)];
      const all = bias === undefined ? inputs : [...inputs, bias];
      // The bias is a constant mask: gradients of q, k, v only.
      const g = (wt: tf.Tensor, qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, bb?: tf.Tensor) => {
        const y = (a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => scaledDotProductAttention(a, c, e, { scale: 1 / Math.sqrt(d!), ...o, bias: bb });
        return [y(qq, kk, vv), ...tf.grads((a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(y(a, c, e), wt)))([qq, kk, vv])];
      };
      await compareWithCpu(all, g as (...xs: tf.Tensor[]) => tf.Tensor[], 1e-4, 2e-6, what);
      const ran = await nativeKernelsOf(all, g as (...xs: tf.Tensor[]) => tf.Tensor[]);
      expect(ran, what).toContain(bias === undefined ? K.attention : K.attentionBias);
      expect(ran, what).toContain(K.attentionGrad);
      expect(ran, what).not.toContain('BatchMatMul');
    }
  });

  it('scaled dot-product attention: the gradient of a bias on the backward path', async () => {
    const [b, h, q, kv, d] = [2, 3, 9, 21, 19];
    const bias: Input = { values: randomArray(b * q * kv, 21), shape: [b, 1, q, kv] };
    const inputs = [{ values: randomArray(b * h * q * d, 22), shape: [b, h, q, d] }, { values: randomArray(b * h * q * d, 23), shape: [b, h, q, d] }, { values: randomArray(b * h * kv * d, 24), shape: [b, h, kv, d] }, { values: randomArray(b * h * kv * d, 25), shape: [b, h, kv, d] }, bias];
    const f = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, bb: tf.Tensor) => scaledDotProductAttention(qq, kk, vv, { scale: 0.3, causal: true, offset: 12, bias: bb });
    await compareWithCpu(inputs, valueAndGrads(f as (...xs: tf.Tensor[]) => tf.Tensor), 1e-4, 2e-6, 'attention bias');
  });

  it('MultiHeadAttention through the fused op: KV-cache decoding with rotary and cross-attention, key padding, and dropout taking the unfused path', async () => {
    const [batch, seq, dModel] = [2, 7, 16];
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const rng = new Rng(3);
      const stack = new TransformerStack({ numLayers: 2, dModel, numHeads: 4, rotary: true, crossAttention: true, rng });
      stack.eval();
      const x = tf.tensor(rng.normalArray(batch * seq * dModel), [batch, seq, dModel]);
      const ctx = tf.tensor(rng.normalArray(batch * 5 * dModel), [batch, 5, dModel]);
      const keyMask = tf.tensor2d([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0]], [batch, seq], 'bool');
      const full = stack.forward(x, { causal: true, context: ctx });
      const cache = stack.createCache();
      const steps = [tf.slice(x, [0, 0, 0], [batch, 3, dModel]), ...[3, 4, 5, 6].map((i) => tf.slice(x, [0, i, 0], [batch, 1, dModel]))];
      const decoded = tf.concat(steps.map((xs) => stack.forward(xs, { causal: true, context: ctx, cache })), 1);
      const padded = stack.forward(x, { keyMask, context: ctx });
      const out = [full, decoded, padded].map((t) => Array.from(t.dataSync()));
      const attn = new MultiHeadAttention({ dModel, numHeads: 4, dropout: 0.5, rng });
      const info = await tf.profile(() => attn.forward(x, { causal: true }));
      tf.dispose(info.result as tf.Tensor);
      tf.dispose([x, ctx, keyMask, full, decoded, padded, ...steps]);
      cache.dispose();
      stack.dispose();
      attn.dispose();
      return { out, kernels: info.kernels.map((k) => k.name) };
    };
    const native = await run('native');
    const cpu = await run('cpu');
    expectClose(native.out[1]!, native.out[0]!, 1e-4, 1e-5, 'cached decoding vs the full pass');
    native.out.forEach((o, i) => expectClose(o, cpu.out[i]!, 1e-4, 1e-5, ['full', 'decoded', 'key padding'][i]));
    expect(native.kernels).toContain(K.maskedSoftmax);
    expect(native.kernels).not.toContain(K.attention);
  });

  it('GELU, bias + GELU, the bias gradient and x W + b: forward and gradients', async () => {
    const wide: Input = { values: Array.from(randomArray(ROWS * COLS, 9), (v) => 4 * v), shape: [ROWS, COLS] };
    const wWide: Input = { values: randomArray(ROWS * COLS, 10), shape: [ROWS, COLS] };
    await compareWithCpu([wWide, wide], valueAndGrads((a) => gelu(a!)), 1e-5, 1e-6, 'gelu');
    await compareWithCpu([wWide, wide, beta], valueAndGrads((a, b) => biasGelu(a!, b!)), 1e-5, 1e-6, 'biasGelu');
    await compareWithCpu([wide], (a) => columnSum(a), 1e-5, 1e-5, 'columnSum');
    const weight: Input = { values: randomArray(COLS * 19, 11), shape: [COLS, 19] };
    const b19: Input = { values: randomArray(19, 12), shape: [19] };
    const w19: Input = { values: randomArray(ROWS * 19, 13), shape: [ROWS, 19] };
    await compareWithCpu([w19, wide, weight, b19], valueAndGrads((a, ww, b) => matMulBias(a!, ww!, b!)), 1e-5, 1e-5, 'matMulBias');
    const ran = await nativeKernelsOf([wWide, wide, beta], valueAndGrads((a, b) => biasGelu(a!, b!)));
    expect(ran).toContain(K.biasGelu);
    expect(ran).toContain(K.biasGeluGrad);
  });

  it('AdamW update: p, m and v like the composite, with and without decay', async () => {
    const n = 1000;
    const inputs: Input[] = [1, 2, 3, 4].map((s) => ({ values: Array.from(randomArray(n, 20 + s), (v) => (s === 3 ? Math.abs(v) : v)), shape: [n] }));
    for (const decay of [1, 1 - 3e-4 * 0.01]) {
      const s = { beta1: 0.9, beta2: 0.999, eps: 1e-8, lr: 3e-4, bc1: 1 - 0.9 ** 3, bc2: 1 - 0.999 ** 3, decay };
      const f = (p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor) => {
        const u = adamwUpdate(p, m, v, g, s);
        return [u.p, u.m, u.v];
      };
      await compareWithCpu(inputs, (p, m, v, g) => f(p!, m!, v!, g!), 1e-6, 1e-7, `adamw decay ${decay}`);
      expect(await nativeKernelsOf(inputs, (p, m, v, g) => f(p!, m!, v!, g!))).toEqual([K.adamw]);
    }
  });

  it('split heads with and without the bias: the parts, and the gradients of y and the bias', async () => {
    const [batch, len, heads, headDim, parts] = [2, 5, 3, 6, 3];
    const width = parts * heads * headDim;
    const y: Input = { values: randomArray(batch * len * width, 30), shape: [batch * len, width] };
    const bias: Input = { values: randomArray(width, 31), shape: [width] };
    const ws: Input[] = [34, 35, 36].map((s) => ({ values: randomArray(batch * len * width / parts, s), shape: [batch, heads, len, headDim] }));
    // sum over parts of sum(w_p * out_p), and its gradients.
    const loss = (w: tf.Tensor[], withBias: boolean) => (yt: tf.Tensor, bt?: tf.Tensor) =>
      tf.addN(splitHeads(yt, { batch, heads, parts, ...(withBias ? { bias: bt } : {}) }).map((o, p) => tf.sum(tf.mul(o, w[p]!))));
    const f = (withBias: boolean) => (w0: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, yt: tf.Tensor, bt?: tf.Tensor) => {
      const outs = splitHeads(yt, { batch, heads, parts, ...(withBias ? { bias: bt } : {}) });
      return [...outs, ...tf.grads(loss([w0, w1, w2], withBias))(withBias ? [yt, bt!] : [yt])];
    };
    await compareWithCpu([...ws, y, bias], (...t) => f(true)(t[0]!, t[1]!, t[2]!, t[3]!, t[4]), 1e-6, 1e-6, 'splitHeads + bias');
    await compareWithCpu([...ws, y], (...t) => f(false)(t[0]!, t[1]!, t[2]!, t[3]!), 0, 0, 'splitHeads');
    const ran = await nativeKernelsOf([...ws, y, bias], (...t) => f(true)(t[0]!, t[1]!, t[2]!, t[3]!, t[4]));
    expect(ran).toContain(K.splitHeads);
    expect(ran).toContain(K.splitHeadsGrad);
  });

  it('a GPT trained through the fused ops: losses bit-identical run to run and across thread counts, close to cpu', async () => {
    const [vocab, dModel, seq, batch] = [37, 32, 12, 3];
    const train = async (backend: string, threads: number): Promise<number[]> => {
      await tf.setBackend(backend);
      if (backend === 'native') setNativeThreads(threads);
      const rng = new Rng(5);
      const tok = new Embedding({ numEmbeddings: vocab, dim: dModel, rng });
      const stack = new TransformerStack({ numLayers: 2, dModel, numHeads: 4, rng });
      const head = new Linear({ inFeatures: dModel, outFeatures: vocab, bias: false, rng });
      const params = Object.entries({ tok, stack, head }).flatMap(([prefix, m]) => m.namedParameters().map(([n, v]): [string, tf.Variable] => [`${prefix}.${n}`, v]));
      const opt = new AdamW(params, { lr: 1e-2, weightDecay: 0.01 });
      const ids = tf.tensor2d(Int32Array.from({ length: batch * seq }, () => rng.int(vocab)), [batch, seq], 'int32');
      const targets = tf.tensor2d(Int32Array.from({ length: batch * seq }, () => rng.int(vocab)), [batch, seq], 'int32');
      const losses: number[] = [];
      for (let step = 0; step < 4; step++) {
        const { value, grads } = tf.variableGrads(() => crossEntropy(head.forward(stack.forward(tok.forward(ids), { causal: true })), targets), params.map(([, v]) => v));
        opt.applyGradients(new Map(params.map(([name, v]) => [name, grads[v.name]!])));
        tf.dispose(Object.values(grads));
        losses.push(value.dataSync()[0]!);
        value.dispose();
      }
      tf.dispose([ids, targets]);
      opt.dispose();
      for (const m of [tok, stack, head]) m.dispose();
      return losses;
    };
    const a = await train('native', 2);
    const b = await train('native', 2);
    const one = await train('native', 1);
    setNativeThreads(2);
    expect(b).toEqual(a);
    expect(one).toEqual(a);
    expect(a[3]).toBeLessThan(a[0]!);
    expectClose(a, await train('cpu', 1), 1e-4, 1e-5, 'losses vs cpu');
  });
});
