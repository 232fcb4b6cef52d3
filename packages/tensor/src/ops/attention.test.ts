import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import '../gradients.js';
import { Rng } from '../rng.js';
import { scaledDotProductAttention } from './attention.js';
import { MASKED } from './masked-softmax.js';

// The op on cpu is the composite (matMul, scaledMaskedSoftmax, matMul); here it is checked against
// plain float64 loops and their central differences. @sentencelab/backend-native's fused.test.ts
// checks its native kernel against this cpu composite.

interface Case {
  what: string;
  dims: [number, number, number, number, number, number]; // batch, heads, q, kv, dim, dimV
  causal?: boolean;
  offset?: number;
  /** [batch|1, heads|1, q|1, kv|1] additive bias as a function of its indices. */
  bias?: { shape: [number, number, number, number]; at: (b: number, h: number, i: number, j: number) => number };
}

const cases: Case[] = [
  { what: 'causal self-attention', dims: [2, 2, 5, 5, 4, 4], causal: true },
  { what: 'causal with a cache offset and key padding', dims: [2, 2, 3, 7, 4, 4], causal: true, offset: 4, bias: { shape: [2, 1, 1, 7], at: (b, _h, _i, j) => ((b + j) % 3 === 0 ? MASKED : 0) } },
  { what: 'one query over a cache of 6', dims: [1, 2, 1, 7, 4, 4], causal: true, offset: 6 },
  { what: 'cross-attention (q 3, kv 6), dimV != dim, a custom per-query mask', dims: [2, 2, 3, 6, 4, 3], bias: { shape: [1, 1, 3, 6], at: (_b, _h, i, j) => ((i * 2 + j) % 4 === 1 ? MASKED : 0.1 * j) } },
];

/** softmax(q k^T * scale + bias + causal) v in float64; arrays in [b, h, len, dim] order. */
function reference(c: Case, q: Float64Array, k: Float64Array, v: Float64Array, scale: number): Float64Array {
  const [B, H, Q, KV, D, DV] = c.dims;
  const out = new Float64Array(B * H * Q * DV);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      for (let i = 0; i < Q; i++) {
        const z = new Float64Array(KV);
        for (let j = 0; j < KV; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += q[(bh * Q + i) * D + d]! * k[(bh * KV + j) * D + d]!;
          const [sb, sh, si, sj] = c.bias?.shape ?? [1, 1, 1, 1];
          const add = c.bias === undefined ? 0 : c.bias.at(sb === 1 ? 0 : b, sh === 1 ? 0 : h, si === 1 ? 0 : i, sj === 1 ? 0 : j);
          z[j] = s * scale + add + (c.causal === true && j > i + (c.offset ?? 0) ? MASKED : 0);
        }
        const m = Math.max(...z);
        const e = z.map((x) => Math.exp(x - m));
        const sum = e.reduce((a, x) => a + x, 0);
        for (let d = 0; d < DV; d++) {
          let acc = 0;
          for (let j = 0; j < KV; j++) acc += (e[j]! / sum) * v[(bh * KV + j) * DV + d]!;
          out[(bh * Q + i) * DV + d] = acc;
        }
      }
    }
  }
  return out;
}

function biasTensor(c: Case): tf.Tensor | undefined {
  if (c.bias === undefined) return undefined;
  const [sb, sh, si, sj] = c.bias.shape;
  const vals = new Float32Array(sb * sh * si * sj);
  for (let b = 0; b < sb; b++) for (let h = 0; h < sh; h++) for (let i = 0; i < si; i++) for (let j = 0; j < sj; j++) vals[((b * sh + h) * si + i) * sj + j] = c.bias.at(b, h, i, j);
  return tf.tensor4d(vals, c.bias.shape);
}

describe('scaledDotProductAttention on cpu', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const c of cases) {
    it(`${c.what}: forward and q/k/v gradients match float64 loops and their central differences`, () => {
      const [B, H, Q, KV, D, DV] = c.dims;
      const rng = new Rng(7);
      const [q, k, v, w] = [B * H * Q * D, B * H * KV * D, B * H * KV * DV, B * H * Q * DV].map((n) => Float64Array.from(Float32Array.from(rng.normalArray(n))));
      const scale = 1 / Math.sqrt(D);
      const before = tf.memory().numTensors;
      const bias = biasTensor(c);
      const f = (a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) => scaledDotProductAttention(a, b, e, { scale, causal: c.causal, offset: c.offset, bias });
      const t = (x: Float64Array, shape: number[]) => tf.tensor(Float32Array.from(x), shape);
      const [qt, kt, vt, wt] = [t(q!, [B, H, Q, D]), t(k!, [B, H, KV, D]), t(v!, [B, H, KV, DV]), t(w!, [B, H, Q, DV])];
      const out = f(qt, kt, vt);
      expect(out.shape).toEqual([B, H, Q, DV]);
      const want = reference(c, q!, k!, v!, scale);
      Array.from(out.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 5));
      const gradTensors = tf.grads((a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(f(a, b, e), wt)))([qt, kt, vt]);
      const grads = gradTensors.map((g) => g.dataSync());
      // sum(w * out) in float64 with one input replaced.
      const loss = (which: number, x: Float64Array) => {
        const ins: Float64Array[] = [q!, k!, v!];
        ins[which] = x;
        return reference(c, ins[0]!, ins[1]!, ins[2]!, scale).reduce((s, o, i) => s + o * w![i]!, 0);
      };
      [q!, k!, v!].forEach((x, which) => {
        for (const i of [0, Math.floor(x.length / 2), x.length - 1]) {
          const [xp, xm] = [Float64Array.from(x), Float64Array.from(x)];
          xp[i]! += 1e-4;
          xm[i]! -= 1e-4;
          expect(grads[which]![i]!, `${['dq', 'dk', 'dv'][which]}[${i}]`).toBeCloseTo((loss(which, xp) - loss(which, xm)) / 2e-4, 3);
        }
      });
      tf.dispose([qt, kt, vt, wt, out, ...gradTensors, ...(bias === undefined ? [] : [bias])]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('names the shapes that do not fit', () => {
    const q = tf.zeros([2, 3, 4, 5]);
    expect(() => scaledDotProductAttention(q, tf.zeros([2, 3, 6, 4]), tf.zeros([2, 3, 6, 5]), { scale: 1 })).toThrow(/k must be \[2, 3, kv, 5\] and v \[2, 3, kv, dimV\] with k's kv, got k \[2,3,6,4\], v \[2,3,6,5\]/);
    expect(() => scaledDotProductAttention(tf.zeros([3, 4, 5]), q, q, { scale: 1 })).toThrow(/q, k, v must be \[batch, heads, len, dim\]/);
  });
});
