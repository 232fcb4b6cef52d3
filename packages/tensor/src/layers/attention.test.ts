import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { Rng } from '../rng.js';
import { legacyAttentionLayout } from '../testing/legacy-layout.js';
import { MultiHeadAttention } from './attention.js';
import { KVCache } from './kv-cache.js';
import { Linear } from './linear.js';
import { TransformerStack } from './transformer-stack.js';

const B = 2, S = 5, D = 8, H = 2;

function randn(rng: Rng, shape: number[]): tf.Tensor {
  return tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1)), shape);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`attention on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend, { log: false });
    });
    afterAll(() => tf.disposeVariables());

    it('causal: changing a future token leaves earlier outputs unchanged', () => {
      const rng = new Rng(1);
      const attn = new MultiHeadAttention({ dModel: D, numHeads: H, rng });
      const x = randn(rng, [B, S, D]);
      // perturb only the last position
      const x2 = tf.concat([tf.slice(x, [0, 0, 0], [B, S - 1, D]), randn(rng, [B, 1, D])], 1);
      const y = attn.forward(x, { causal: true });
      const y2 = attn.forward(x2, { causal: true });
      expect(maxAbsDiff(tf.slice(y, [0, 0, 0], [B, S - 1, D]), tf.slice(y2, [0, 0, 0], [B, S - 1, D]))).toBeLessThan(1e-6);
      expect(maxAbsDiff(tf.slice(y, [0, S - 1, 0], [B, 1, D]), tf.slice(y2, [0, S - 1, 0], [B, 1, D]))).toBeGreaterThan(1e-4);
    });

    it('keyMask: padded keys have no influence', () => {
      const rng = new Rng(2);
      const attn = new MultiHeadAttention({ kind: 'cross', dModel: D, numHeads: H, rng });
      const x = randn(rng, [B, S, D]);
      const ctx = randn(rng, [B, 3, D]);
      const ctx2 = tf.concat([tf.slice(ctx, [0, 0, 0], [B, 2, D]), randn(rng, [B, 1, D])], 1);
      const keyMask = tf.tensor2d([[1, 1, 0], [1, 1, 0]], [B, 3], 'bool');
      const y = attn.forward(x, { context: ctx, keyMask });
      const y2 = attn.forward(x, { context: ctx2, keyMask });
      expect(maxAbsDiff(y, y2)).toBeLessThan(1e-6);
      expect(maxAbsDiff(y, attn.forward(x, { context: ctx2 }))).toBeGreaterThan(1e-4);
      expect(() => attn.forward(x, { context: randn(rng, [B, 3, D + 1]) })).toThrow(/context must be \[batch=2, len, contextDim=8\], got \[2,3,9\]/);
    });

    it('custom mask: hidden keys have no influence, per batch row', () => {
      const rng = new Rng(3);
      const attn = new MultiHeadAttention({ dModel: D, numHeads: H, rng });
      const x = randn(rng, [1, 3, D]);
      // query 0 sees key 0 only; query 1 sees keys 0-1; query 2 sees keys 0 and 2
      const mask = tf.tensor2d([[1, 0, 0], [1, 1, 0], [1, 0, 1]], [3, 3], 'bool');
      const y = attn.forward(x, { mask });
      const x2 = tf.concat([tf.slice(x, [0, 0, 0], [1, 1, D]), randn(rng, [1, 1, D]), tf.slice(x, [0, 2, 0], [1, 1, D])], 1);
      const y2 = attn.forward(x2, { mask });
      // changing token 1 changes query 1's own output (its query) but not query 0's or query 2's
      expect(maxAbsDiff(tf.slice(y, [0, 0, 0], [1, 1, D]), tf.slice(y2, [0, 0, 0], [1, 1, D]))).toBeLessThan(1e-6);
      expect(maxAbsDiff(tf.slice(y, [0, 2, 0], [1, 1, D]), tf.slice(y2, [0, 2, 0], [1, 1, D]))).toBeLessThan(1e-6);
      expect(() => attn.forward(x, { mask: tf.ones([3, 4], 'bool') })).toThrow(/mask must end in \[q, kv\] = \[3, 3\]/);
    });

    for (const rotary of [false, true]) {
      it(`KV-cache decoding equals the full causal pass (rotary=${rotary})`, () => {
        const rng = new Rng(4);
        const stack = new TransformerStack({ numLayers: 2, dModel: D, numHeads: H, rotary, crossAttention: true, rng });
        stack.eval();
        const x = randn(rng, [B, S, D]);
        const ctx = randn(rng, [B, 3, D]);
        const full = stack.forward(x, { causal: true, context: ctx });
        const cache = stack.createCache();
        const before = tf.memory().numTensors;
        // prefill 2 positions, then one at a time
        const steps = [tf.slice(x, [0, 0, 0], [B, 2, D])];
        for (let i = 2; i < S; i++) steps.push(tf.slice(x, [0, i, 0], [B, 1, D]));
        const outs = steps.map((xs) => stack.forward(xs, { causal: true, context: ctx, cache }));
        expect(cache.length).toBe(S);
        expect(tf.tidy(() => maxAbsDiff(tf.concat(outs, 1), full))).toBeLessThan(1e-5);
        cache.dispose();
        outs.forEach((o) => o.dispose());
        steps.forEach((o) => o.dispose());
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('KVCache refuses to append to a frozen cross-attention cache', () => {
      const c = new KVCache();
      c.freeze(tf.zeros([1, 1, 2, 2]) as tf.Tensor4D, tf.zeros([1, 1, 2, 2]) as tf.Tensor4D);
      expect(() => c.append(tf.zeros([1, 1, 1, 2]) as tf.Tensor4D, tf.zeros([1, 1, 1, 2]) as tf.Tensor4D)).toThrow(/frozen/);
      c.dispose();
    });
  });
}

describe('packed projections', () => {
  beforeAll(async () => {
    await initBackend('cpu', { log: false });
  });
  afterAll(() => tf.disposeVariables());

  const values = (t: tf.Tensor) => Array.from(t.dataSync());

  it('self-attention packs q, k, v into qkv, cross-attention k, v into kv; shapes and kinds', () => {
    const self = new MultiHeadAttention({ dModel: D, numHeads: H, rng: new Rng(1) });
    expect(self.namedParameters().map(([n, v]) => `${n} [${v.shape}]`)).toEqual([`qkv.weight [${D},${3 * D}]`, `qkv.bias [${3 * D}]`, `out.weight [${D},${D}]`, `out.bias [${D}]`]);
    const cross = new MultiHeadAttention({ dModel: D, numHeads: H, contextDim: 6, rng: new Rng(1) });
    expect(cross.kind).toBe('cross');
    expect(cross.namedParameters().map(([n, v]) => `${n} [${v.shape}]`)).toEqual([`q.weight [${D},${D}]`, `q.bias [${D}]`, `kv.weight [6,${2 * D}]`, `kv.bias [${2 * D}]`, `out.weight [${D},${D}]`, `out.bias [${D}]`]);
    const x = tf.zeros([1, 2, D]);
    expect(() => self.forward(x, { context: tf.zeros([1, 3, D]) })).toThrow(/a context was given to self-attention \(construct it with kind: "cross"\)/);
    expect(() => cross.forward(x)).toThrow(/cross-attention needs a context/);
    expect(() => new MultiHeadAttention({ kind: 'self', contextDim: 6, dModel: D, numHeads: H, rng: new Rng(1) })).toThrow(/contextDim is for cross-attention/);
  });

  it('initialises every part exactly as the separate q, k, v layers did (same draws, same order)', () => {
    const packed = new MultiHeadAttention({ dModel: D, numHeads: H, rng: new Rng(5) });
    const rng = new Rng(5);
    const [q, k, v, out] = [0, 1, 2, 3].map(() => new Linear({ inFeatures: D, outFeatures: D, rng }));
    expect(values(packed.qkv!.weight)).toEqual(values(tf.concat([q!.weight, k!.weight, v!.weight], 1)));
    expect(values(packed.out.weight)).toEqual(values(out!.weight));
    const cross = new MultiHeadAttention({ kind: 'cross', dModel: D, numHeads: H, rng: new Rng(6) });
    const rng2 = new Rng(6);
    const [q2, k2, v2] = [0, 1, 2].map(() => new Linear({ inFeatures: D, outFeatures: D, rng: rng2 }));
    expect(values(cross.q!.weight)).toEqual(values(q2!.weight));
    expect(values(cross.kv!.weight)).toEqual(values(tf.concat([k2!.weight, v2!.weight], 1)));
  });

  it('loads weights saved as separate q, k, v layers, and refuses an incomplete set by name', () => {
    const a = new TransformerStack({ numLayers: 1, dModel: D, numHeads: H, crossAttention: true, rng: new Rng(7) });
    const old: Map<string, tf.Tensor> = legacyAttentionLayout(a.namedParameters());
    expect([...old.keys()]).toEqual(expect.arrayContaining(['layers.0.attn.q.weight', 'layers.0.attn.v.bias', 'layers.0.crossAttn.q.weight', 'layers.0.crossAttn.k.weight']));
    const b = new TransformerStack({ numLayers: 1, dModel: D, numHeads: H, crossAttention: true, rng: new Rng(8) });
    b.loadParameters(old);
    const x = tf.tensor(new Rng(9).normalArray(B * S * D), [B, S, D]);
    const context = tf.tensor(new Rng(10).normalArray(B * 3 * D), [B, 3, D]);
    expect(maxAbsDiff(b.forward(x, { causal: true, context }), a.forward(x, { causal: true, context }))).toBe(0);
    old.delete('layers.0.attn.v.weight');
    expect(() => b.loadParameters(old)).toThrow(/missing layers\.0\.attn\.qkv\.weight; unknown layers\.0\.attn\.q\.weight, layers\.0\.attn\.k\.weight/);
  });
});
