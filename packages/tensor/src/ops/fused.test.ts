import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { TransformerStack } from '../layers/transformer-stack.js';
import { Rng } from '../rng.js';
import { AdamW } from '../train/adamw.js';
import { crossEntropyGradComposite, softmaxCrossEntropy } from './cross-entropy.js';
import { splitHeads } from './heads.js';
import { layerNorm, layerNormGradComposite } from './layer-norm.js';
import { scaledMaskedSoftmax } from './masked-softmax.js';
import { rmsNorm, rmsNormGradComposite } from './rms-norm.js';
import { expectClose, onBackend, webgpu, webgpuKernels, why } from './compare.testkit.js';

// Each fused op against the composite code it replaces (cpu, always) and, where a WebGPU
// adapter exists (a GPU or Mesa's lavapipe), its webgpu kernels against cpu.

const rng = new Rng(3);
const shape = [2, 3, 40];
const x = rng.normalArray(240, 0.5, 2);
const gamma = rng.normalArray(40, 1, 0.3);
const beta = rng.normalArray(40, 0, 0.3);
const w = rng.normalArray(240); // loss = sum(w * y) gives a dy that differs per element

// The LayerNorm the blocks used before the fused op existed.
function reference(xt: tf.Tensor, g: tf.Tensor | undefined, b: tf.Tensor | undefined, eps: number): tf.Tensor {
  const mean = tf.mean(xt, -1, true);
  const c = tf.sub(xt, mean);
  let y = tf.mul(c, tf.rsqrt(tf.add(tf.mean(tf.square(c), -1, true), eps)));
  if (g !== undefined) y = tf.mul(y, g);
  if (b !== undefined) y = tf.add(y, b);
  return y;
}

// y and d(sum(w * y))/d(x, gamma, beta) through `norm`
function forwardAndGrads(norm: typeof layerNorm, affine: boolean): tf.Tensor[] {
  const xt = tf.tensor(x, shape);
  const g = tf.tensor1d(gamma);
  const b = tf.tensor1d(beta);
  const wt = tf.tensor(w, shape);
  const f = affine
    ? (a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(norm(a, gg, bb, 1e-5), wt))
    : (a: tf.Tensor) => tf.sum(tf.mul(norm(a, undefined, undefined, 1e-5), wt));
  const y = norm(xt, affine ? g : undefined, affine ? b : undefined, 1e-5);
  return [y, ...tf.grads(f)(affine ? [xt, g, b] : [xt])];
}

beforeAll(() => initBackend('cpu', { log: false }));
afterAll(() => initBackend('cpu', { log: false }));

describe('layerNorm', () => {
  it('on cpu is exactly the composite it replaced (forward and tf.grads)', async () => {
    for (const affine of [true, false]) {
      const got = await onBackend('cpu', () => forwardAndGrads(layerNorm, affine));
      const want = await onBackend('cpu', () => forwardAndGrads(reference, affine));
      got.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(want[i]!)));
    }
  });

  it('composite backward formula matches autodiff of the forward and finite differences', async () => {
    const [dx, dgamma, dbeta, auto] = await onBackend('cpu', () => {
      const xt = tf.tensor(x, shape);
      const g = tf.tensor1d(gamma);
      const r = layerNormGradComposite(tf.tensor(w, shape), xt, g, 1e-5);
      return [r.dx, r.dgamma!, r.dbeta!, ...tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(reference(a, gg, bb, 1e-5), tf.tensor(w, shape))))([xt, g, tf.tensor1d(beta)])];
    });
    expectClose(dx!, auto!);
    // Central differences in float64 on a few coordinates of x.
    const loss = (xs: Float64Array) => {
      let s = 0;
      for (let r = 0; r < 6; r++) {
        const row = xs.subarray(r * 40, r * 40 + 40);
        const mean = row.reduce((a, b) => a + b, 0) / 40;
        const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / 40;
        for (let c = 0; c < 40; c++) s += w[r * 40 + c]! * (((row[c]! - mean) / Math.sqrt(v + 1e-5)) * gamma[c]! + beta[c]!);
      }
      return s;
    };
    for (const i of [0, 17, 63, 128, 239]) {
      const xp = Float64Array.from(x);
      const xm = Float64Array.from(x);
      xp[i]! += 1e-4;
      xm[i]! -= 1e-4;
      expect(dx![i]!).toBeCloseTo((loss(xp) - loss(xm)) / 2e-4, 3);
    }
    const all = await onBackend('cpu', () => tf.grads((gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(reference(tf.tensor(x, shape), gg, bb, 1e-5), tf.tensor(w, shape))))([tf.tensor1d(gamma), tf.tensor1d(beta)]));
    expectClose(dgamma!, all[0]!);
    expectClose(dbeta!, all[1]!);
  });

  it.skipIf(!webgpu.ok)(`fused webgpu kernels match cpu, forward and gradients (${why})`, async () => {
    for (const affine of [true, false]) {
      const want = await onBackend('cpu', () => forwardAndGrads(layerNorm, affine));
      const got = await onBackend('webgpu', () => forwardAndGrads(layerNorm, affine));
      expect(got).toHaveLength(want.length);
      got.forEach((g, i) => expectClose(g, want[i]!));
    }
  }, 120_000);

  it.skipIf(!webgpu.ok)(`runs as one kernel on webgpu (${why})`, async () => {
    const names = await webgpuKernels(() => [tf.tensor(x, shape), tf.tensor1d(gamma), tf.tensor1d(beta)], (a, g, b) => layerNorm(a!, g, b, 1e-5));
    expect(names).toEqual(['SlLayerNorm']);
  }, 60_000);
});

describe('rmsNorm', () => {
  // The RMSNorm the blocks used before the fused op existed.
  const reference = (xt: tf.Tensor, g: tf.Tensor | undefined, eps: number) => {
    const y = tf.mul(xt, tf.rsqrt(tf.add(tf.mean(tf.square(xt), -1, true), eps)));
    return g === undefined ? y : tf.mul(y, g);
  };
  // y and d(sum(w * y))/d(x, gamma)
  const forwardAndGrads = (norm: typeof rmsNorm, affine: boolean) => () => {
    const xt = tf.tensor(x, shape);
    const wt = tf.tensor(w, shape);
    const g = tf.tensor1d(gamma);
    const f = (a: tf.Tensor, gg?: tf.Tensor) => tf.sum(tf.mul(norm(a, gg, 1e-6), wt));
    return [norm(xt, affine ? g : undefined, 1e-6), ...tf.grads(f)(affine ? [xt, g] : [xt])];
  };

  it('on cpu is exactly the composite it replaced, and its backward formula matches autodiff', async () => {
    for (const affine of [true, false]) {
      const got = await onBackend('cpu', forwardAndGrads(rmsNorm, affine));
      const want = await onBackend('cpu', forwardAndGrads(reference, affine));
      got.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(want[i]!)));
      const formula = await onBackend('cpu', () => {
        const r = rmsNormGradComposite(tf.tensor(w, shape), tf.tensor(x, shape), affine ? tf.tensor1d(gamma) : undefined, 1e-6);
        return r.dgamma === undefined ? [r.dx] : [r.dx, r.dgamma];
      });
      formula.forEach((g, i) => expectClose(g, want[i + 1]!));
    }
  });

  it.skipIf(!webgpu.ok)(`fused webgpu kernels match cpu, forward and gradients, one kernel forward (${why})`, async () => {
    for (const affine of [true, false]) {
      const want = await onBackend('cpu', forwardAndGrads(rmsNorm, affine));
      const got = await onBackend('webgpu', forwardAndGrads(rmsNorm, affine));
      expect(got).toHaveLength(want.length);
      got.forEach((g, i) => expectClose(g, want[i]!));
    }
    const names = await webgpuKernels(() => [tf.tensor(x, shape), tf.tensor1d(gamma)], (a, g) => rmsNorm(a!, g, 1e-6));
    expect(names).toEqual(['SlRmsNorm']);
  }, 120_000);
});

describe('softmaxCrossEntropy', () => {
  const rows = 12;
  const vocab = 37;
  const logits = new Rng(5).normalArray(rows * vocab, 0, 3);
  // Row 0's target is near-certain (p rounds to 1 in float32), so the focal weights meet u = 0.
  logits[0] = 40;
  // -1 is ignored, -3 (another negative) counts as class 0, 40 (>= vocab) counts with no target term.
  const targets = [0, 36, 5, -1, 17, -3, 9, 40, -1, 2, 30, 11];
  const build = (): [tf.Tensor, tf.Tensor] => [tf.tensor2d(logits, [rows, vocab]), tf.tensor1d(targets, 'int32')];

  // float64: loss and d loss / d logits; gamma 0 is cross-entropy, else the focal loss
  // -(1 - p)^gamma log p, differentiated by hand: d/dz = (u^g + g p u^(g-1) (-log p)) (softmax - onehot), u = 1 - p.
  function reference(gamma: number): { loss: number; grad: Float64Array } {
    const count = targets.filter((t) => t !== -1).length;
    let loss = 0;
    const grad = new Float64Array(rows * vocab);
    for (let r = 0; r < rows; r++) {
      if (targets[r] === -1) continue;
      const t = Math.max(targets[r]!, 0);
      if (t >= vocab) continue;
      const row = Array.from(logits.subarray(r * vocab, (r + 1) * vocab));
      const max = Math.max(...row);
      const sum = row.reduce((a, v) => a + Math.exp(v - max), 0);
      const nll = max + Math.log(sum) - row[t]!;
      const u = -Math.expm1(-nll);
      const weight = gamma === 0 ? 1 : u ** gamma;
      const gradWeight = gamma === 0 ? 1 : u === 0 ? 0 : u ** gamma + gamma * (1 - u) * u ** (gamma - 1) * nll;
      loss += weight * nll;
      for (let c = 0; c < vocab; c++) grad[r * vocab + c] = (gradWeight * (Math.exp(row[c]! - max) / sum - (c === t ? 1 : 0))) / count;
    }
    return { loss: loss / count, grad };
  }

  const lossAndGrad = (gamma: number) => () => {
    const [l, t] = build();
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => softmaxCrossEntropy(tf.reshape(x, [3, 4, vocab]), tf.reshape(t, [3, 4]), -1, gamma))(l);
    return [value, grad];
  };

  for (const gamma of [0, 2, 0.5]) {
    const what = gamma === 0 ? 'cross-entropy' : `focal loss, gamma ${gamma}`;

    it(`${what}: on cpu matches float64 loss and gradient, ignore/negative/out-of-range targets included`, async () => {
      const ref = reference(gamma);
      const [loss, grad] = await onBackend('cpu', lossAndGrad(gamma));
      expect(loss![0]).toBeCloseTo(ref.loss, 5);
      expectClose(grad!, Float32Array.from(ref.grad));
    });

    it(`${what}: composite backward (the fused gradient fallback) equals autodiff of the composite loss`, async () => {
      const [manual, auto] = await onBackend('cpu', () => {
        const [l, t] = build();
        const dy = tf.scalar(1.7);
        return [crossEntropyGradComposite(dy, l, t, -1, gamma), tf.mul(tf.grad((x: tf.Tensor) => softmaxCrossEntropy(x, t, -1, gamma))(l), dy)];
      });
      expectClose(manual!, auto!);
    });
  }

  it('focal loss weights the cross-entropy of each row by (1 - p)^gamma', async () => {
    const [ce, focal] = await onBackend('cpu', () => [softmaxCrossEntropy(...build()), softmaxCrossEntropy(...build(), -1, 2)]);
    expect(focal![0]).toBeLessThan(ce![0]!);
    expect(focal![0]).toBeCloseTo(reference(2).loss, 5);
  });

  it('rejects a target count that does not match the logits rows, and a negative gamma', () => {
    expect(() => softmaxCrossEntropy(tf.zeros([2, 3, 5]), tf.zeros([2, 2], 'int32'))).toThrow(/logits \[2,3,5\] need one target per row of 5, but targets are \[2,2\]/);
    expect(() => softmaxCrossEntropy(tf.zeros([2, 5]), tf.zeros([2], 'int32'), -1, -1)).toThrow(/gamma must be >= 0, got -1/);
  });

  it.skipIf(!webgpu.ok)(`fused webgpu kernels match cpu, loss and gradient, cross-entropy and focal (${why})`, async () => {
    for (const gamma of [0, 2]) {
      const want = await onBackend('cpu', lossAndGrad(gamma));
      const got = await onBackend('webgpu', lossAndGrad(gamma));
      got.forEach((g, i) => expectClose(g, want[i]!));
    }
    const names = await webgpuKernels(build, (l, t) => softmaxCrossEntropy(l!, t!, -1, 2));
    expect(names).toEqual(['Reshape', 'Reshape', 'SlSoftmaxCrossEntropy']);
  }, 120_000);
});

describe('AdamW fused update', () => {
  // Three steps on a decayed matrix and an undecayed vector; returns params and moments.
  function train(): tf.Tensor[] {
    const rng = new Rng(8);
    const w = tf.variable(tf.tensor2d(rng.normalArray(6 * 5), [6, 5]));
    const b = tf.variable(tf.tensor1d(rng.normalArray(5)));
    const opt = new AdamW([['w', w], ['b', b]], { lr: 0.05, weightDecay: 0.1 });
    for (let s = 0; s < 3; s++) {
      const gw = tf.tensor2d(rng.normalArray(30, 0, 0.5), [6, 5]);
      const gb = tf.tensor1d(rng.normalArray(5, 0, 2));
      opt.applyGradients({ w: gw, b: gb }, 0.05 / (s + 1));
      tf.dispose([gw, gb]);
    }
    const { m, v } = opt.getState();
    const out = [w, b, m.get('w')!, v.get('w')!, m.get('b')!, v.get('b')!].map((t) => tf.clone(t));
    opt.dispose();
    tf.dispose([w, b]);
    return out;
  }

  it.skipIf(!webgpu.ok)(`webgpu matches cpu over three steps (the first on new tensors, then in place) (${why})`, async () => {
    const want = await onBackend('cpu', train);
    const got = await onBackend('webgpu', train);
    got.forEach((g, i) => expectClose(g, want[i]!));
  }, 120_000);

  // Two steps on a [3, 2] parameter, read back in between (on webgpu the read leaves a CPU copy
  // next to the GPU buffer): the kernels of the second step, the value before it and after it,
  // and the value of a clone taken before it (when `cloned`).
  async function twoSteps(cloned: boolean): Promise<{ kernels: string[]; before: Float32Array; after: Float32Array; clone?: Float32Array }> {
    const init = tf.tensor2d([1, -2, 3, -4, 5, -6], [3, 2]);
    const w = tf.variable(init);
    init.dispose();
    const opt = new AdamW([['w', w]], { lr: 0.1, weightDecay: 0.5 });
    const g = tf.tensor2d([0.5, 0.5, -1, 2, 0, 1], [3, 2]);
    opt.applyGradients({ w: g });
    const before = Float32Array.from(await w.data());
    const clone = cloned ? tf.clone(w) : undefined;
    const info = await tf.profile(() => opt.applyGradients({ w: g }));
    const after = Float32Array.from(await w.data());
    const out = { kernels: info.kernels.map((k) => k.name), before, after, ...(clone === undefined ? {} : { clone: Float32Array.from(await clone.data()) }) };
    tf.dispose([w, g, ...(clone === undefined ? [] : [clone])]);
    opt.dispose();
    return out;
  }

  it.skipIf(!webgpu.ok)(`updates an unshared parameter in place in one kernel, never a shared one (${why})`, async () => {
    await tf.setBackend('cpu');
    const want = await twoSteps(false);
    await tf.setBackend('webgpu');
    const own = await twoSteps(false);
    expect(own.kernels).toEqual(['SlAdamWInPlace']);
    expectClose(own.after, want.after);
    const shared = await twoSteps(true);
    expect(shared.kernels).toEqual(['SlAdamW']);
    expectClose(shared.after, want.after);
    expect(Array.from(shared.clone!)).toEqual(Array.from(shared.before));
  }, 120_000);
});

describe('scaledMaskedSoftmax', () => {
  const [batch, heads, q, kv] = [2, 3, 4, 6];
  const scores = new Rng(11).normalArray(batch * heads * q * kv, 0, 2);
  const keep = [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0]; // [batch, kv] key padding
  const bias = keep.map((k) => (k === 1 ? 0 : -1e9));
  const w = new Rng(12).normalArray(scores.length);
  const scale = 0.4;
  const offset = 2;

  // float64 softmax(scale * s + bias + causal) per row
  function reference(): Float32Array {
    const out = new Float32Array(scores.length);
    for (let r = 0; r < batch * heads * q; r++) {
      const bi = Math.floor(r / (heads * q));
      const i = r % q;
      const z = Array.from({ length: kv }, (_, j) => scores[r * kv + j]! * scale + bias[bi * kv + j]! + (j > i + offset ? -1e9 : 0));
      const max = Math.max(...z);
      const sum = z.reduce((a, v) => a + Math.exp(v - max), 0);
      z.forEach((v, j) => (out[r * kv + j] = Math.exp(v - max) / sum));
    }
    return out;
  }

  // probs and d(sum(w * probs)) / d(scores, bias)
  const probsAndGrads = () => {
    const s = tf.tensor4d(scores, [batch, heads, q, kv]);
    const b = tf.tensor4d(bias, [batch, 1, 1, kv]);
    const wt = tf.tensor4d(w, [batch, heads, q, kv]);
    const f = (ss: tf.Tensor, bb: tf.Tensor) => scaledMaskedSoftmax(ss, { scale, causal: true, offset, bias: bb });
    return [f(s, b), ...tf.grads((ss: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(ss, bb), wt)))([s, b])];
  };

  it('on cpu matches a float64 reference (causal offset, broadcast key-padding bias)', async () => {
    const [probs] = await onBackend('cpu', probsAndGrads);
    expectClose(probs!, reference());
  });

  it('rejects a bias that does not broadcast', () => {
    expect(() => scaledMaskedSoftmax(tf.zeros([2, 3, 4, 6]), { scale: 1, bias: tf.zeros([2, 1, 4, 5]) })).toThrow(/bias \[2,1,4,5\] must be 4-D and broadcast to scores \[2,3,4,6\]/);
  });

  it.skipIf(!webgpu.ok)(`fused webgpu kernels match cpu, forward and gradients (${why})`, async () => {
    const want = await onBackend('cpu', probsAndGrads);
    const got = await onBackend('webgpu', probsAndGrads);
    got.forEach((g, i) => expectClose(g, want[i]!));
    const names = await webgpuKernels(
      () => [tf.tensor4d(scores, [batch, heads, q, kv]), tf.tensor4d(bias, [batch, 1, 1, kv])],
      (s, b) => scaledMaskedSoftmax(s!, { scale, causal: true, offset, bias: b }),
    );
    expect(names).toEqual(['SlScaledMaskedSoftmax']);
  }, 120_000);
});

describe('splitHeads', () => {
  const [batch, len, heads, headDim, parts] = [2, 5, 3, 4, 3];
  const dModel = heads * headDim;
  const rng = new Rng(31);
  const y = rng.normalArray(batch * len * parts * dModel);
  const bias = rng.normalArray(parts * dModel); // the parts' biases side by side
  const ws = Array.from({ length: parts }, () => rng.normalArray(batch * heads * len * headDim));

  // the head tensors and d(sum_p w_p * head_p)/d(y, bias)
  const headsAndGrads = (withBias: boolean) => () => {
    const yt = tf.tensor2d(y, [batch * len, parts * dModel]);
    const bt = tf.tensor1d(bias);
    const f = (...a: tf.Tensor[]) => splitHeads(a[0]!, { batch, heads, parts, bias: withBias ? a[1] : undefined });
    const loss = (...a: tf.Tensor[]) => tf.addN(f(...a).map((h, p) => tf.sum(tf.mul(h, tf.tensor4d(ws[p]!, h.shape)))));
    return [...f(yt, bt), ...tf.grads(loss)(withBias ? [yt, bt] : [yt])];
  };

  it('on cpu puts y[b * len + l, p * dModel + h * headDim + d] + bias[p * dModel + h * headDim + d] at [b, h, l, d] of part p', async () => {
    const out = await onBackend('cpu', headsAndGrads(true));
    for (const [p, b, h, l, d] of [[0, 0, 0, 0, 0], [1, 1, 2, 4, 3], [2, 1, 1, 3, 2], [2, 0, 2, 1, 0]] as const) {
      const want = y[(b * len + l) * parts * dModel + p * dModel + h * headDim + d]! + bias[p * dModel + h * headDim + d]!;
      expect(out[p]![((b * heads + h) * len + l) * headDim + d]).toBeCloseTo(want, 5);
    }
    // d/dy is w_p back in y's layout; d/dbias at part p sums w_p over batch and positions
    const dy = out[parts]!;
    expect(dy[(1 * len + 4) * parts * dModel + 1 * dModel + 2 * headDim + 3]).toBeCloseTo(ws[1]![((1 * heads + 2) * len + 4) * headDim + 3]!, 6);
    let s = 0;
    for (let b = 0; b < batch; b++) for (let l = 0; l < len; l++) s += ws[2]![((b * heads + 1) * len + l) * headDim + 2]!;
    expect(out[parts + 1]![2 * dModel + 1 * headDim + 2]).toBeCloseTo(s, 5);
  });

  it.skipIf(!webgpu.ok)(`fused webgpu kernels match cpu, with and without the bias (${why})`, async () => {
    for (const withBias of [true, false]) {
      const want = await onBackend('cpu', headsAndGrads(withBias));
      const got = await onBackend('webgpu', headsAndGrads(withBias));
      expect(got).toHaveLength(want.length);
      got.forEach((g, i) => expectClose(g, want[i]!));
    }
    const names = await webgpuKernels(() => [tf.tensor2d(y, [batch * len, parts * dModel])], (t) => splitHeads(t!, { batch, heads, parts }));
    expect(names).toEqual(['SlSplitHeads']);
  }, 120_000);
});

describe('fused kernels inside the blocks', () => {
  // A 2-layer decoder stack with rotary self-attention, cross-attention and a key-padded context:
  // the full causal pass, and KV-cache decoding (prefill 2, then one token at a time).
  const [B, S, D] = [2, 5, 16];
  const rng = new Rng(41);
  const x = rng.normalArray(B * S * D);
  const ctx = rng.normalArray(B * 3 * D);
  const decode = () => {
    const stack = new TransformerStack({ numLayers: 2, dModel: D, numHeads: 4, rotary: true, crossAttention: true, norm: 'rms', rng: new Rng(42) });
    stack.eval();
    const xt = tf.tensor3d(x, [B, S, D]);
    const o = { causal: true, context: tf.tensor3d(ctx, [B, 3, D]), contextKeyMask: tf.tensor2d([[1, 1, 0], [1, 1, 1]], [B, 3], 'bool') };
    const full = stack.forward(xt, o);
    const cache = stack.createCache();
    const steps = [tf.slice(xt, [0, 0, 0], [B, 2, D]), ...[2, 3, 4].map((i) => tf.slice(xt, [0, i, 0], [B, 1, D]))];
    const incremental = tf.concat(steps.map((s) => stack.forward(s, { ...o, cache })), 1);
    cache.dispose();
    stack.dispose();
    return [full, incremental];
  };

  it.skipIf(!webgpu.ok)(`KV-cache decoding on webgpu equals the full pass, and both equal cpu (${why})`, async () => {
    const [full, incremental] = await onBackend('webgpu', decode);
    const [cpuFull] = await onBackend('cpu', decode);
    expectClose(incremental!, full!);
    expectClose(full!, cpuFull!);
  }, 120_000);
});

describe('fused kernels past one dispatch dimension', () => {
  // 65,540 rows need more than the 65,535 workgroups WebGPU allows along x: the backend folds
  // the dispatch over y, and every row kernel must still find its row (and ignore the extras).
  const rows = 65_540;
  const rng = new Rng(21);
  const x = rng.normalArray(rows * 2);
  const w = rng.normalArray(rows * 2);
  const t = Int32Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? -1 : i % 2));
  const run = () => {
    const xt = tf.tensor2d(x, [rows, 2]);
    const wt = tf.tensor2d(w, [rows, 2]);
    const tt = tf.tensor1d(t, 'int32');
    const g = tf.tensor1d([1.5, -0.5]);
    const b = tf.tensor1d([0.1, 0.2]);
    const norm = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(layerNorm(a, gg, bb, 1e-5), wt)))([xt, g, b]);
    const ce = tf.valueAndGrad((l: tf.Tensor) => softmaxCrossEntropy(l, tt))(xt);
    const s4 = tf.reshape(xt, [2, 2, rows / 4, 2]);
    const sm = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(scaledMaskedSoftmax(a, { scale: 0.7, causal: true }), tf.reshape(wt, a.shape))))(s4);
    return [...norm, ce.value, ce.grad, sm];
  };

  it.skipIf(!webgpu.ok)(`layerNorm, cross-entropy and masked softmax match cpu (${why})`, async () => {
    const want = await onBackend('cpu', run);
    const got = await onBackend('webgpu', run);
    got.forEach((g, i) => expectClose(g, want[i]!));
  }, 180_000);
});
