import * as tf from '@tensorflow/tfjs-core';
import { init as inits, type Init } from '../init.js';
import { Module } from '../module.js';
import type { Rng } from '../rng.js';

/**
 * Fixed sinusoidal encodings (Vaswani et al.): [seqLen, dim], rows for positions
 * offset..offset+seqLen-1; even columns sin, odd columns cos. Add to [batch, seq, dim].
 */
export function sinusoidalEncoding(seqLen: number, dim: number, offset = 0, base = 10000): tf.Tensor2D {
  if (dim % 2 !== 0) throw new Error(`sinusoidalEncoding: dim must be even, got ${dim}`);
  const out = new Float32Array(seqLen * dim);
  for (let p = 0; p < seqLen; p++) {
    for (let i = 0; i < dim / 2; i++) {
      const angle = (p + offset) / Math.pow(base, (2 * i) / dim);
      out[p * dim + 2 * i] = Math.sin(angle);
      out[p * dim + 2 * i + 1] = Math.cos(angle);
    }
  }
  return tf.tensor2d(out, [seqLen, dim]);
}

export interface LearnedPositionalOptions {
  maxLen: number;
  dim: number;
  /** Default normal(0.02). */
  init?: Init;
  rng: Rng;
}

/** Learned absolute positions. Parameter `weight` [maxLen, dim]. */
export class LearnedPositionalEmbedding extends Module {
  readonly maxLen: number;
  readonly dim: number;
  readonly weight: tf.Variable;

  constructor(o: LearnedPositionalOptions) {
    super();
    this.maxLen = o.maxLen;
    this.dim = o.dim;
    this.weight = this.addParam('weight', [o.maxLen, o.dim], o.init ?? inits.normal(0.02), o.rng);
  }

  // -> [seqLen, dim] for positions offset..offset+seqLen-1 (a slice, so no gather gradient).
  forward(seqLen: number, offset = 0): tf.Tensor2D {
    if (offset + seqLen > this.maxLen) {
      throw new Error(`LearnedPositionalEmbedding: positions up to ${offset + seqLen - 1} exceed maxLen ${this.maxLen}`);
    }
    return tf.slice(this.weight, [offset, 0], [seqLen, this.dim]) as tf.Tensor2D;
  }
}

/**
 * Rotary position embedding (RoFormer, "rotate half" layout as in GPT-NeoX/LLaMA):
 * pairs (i, i + headDim/2) are rotated by angle pos * base^(-2i/headDim).
 */
export class RotaryEmbedding {
  constructor(
    readonly headDim: number,
    readonly base = 10000,
  ) {
    if (headDim % 2 !== 0) throw new Error(`RotaryEmbedding: headDim must be even, got ${headDim}`);
  }

  // cos, sin tables: [seqLen, headDim] for positions offset..offset+seqLen-1.
  tables(seqLen: number, offset: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
    const half = this.headDim / 2;
    const cos = new Float32Array(seqLen * this.headDim);
    const sin = new Float32Array(seqLen * this.headDim);
    for (let p = 0; p < seqLen; p++) {
      for (let i = 0; i < half; i++) {
        const a = (p + offset) * Math.pow(this.base, (-2 * i) / this.headDim);
        const c = Math.cos(a);
        const s = Math.sin(a);
        const row = p * this.headDim;
        cos[row + i] = c;
        cos[row + i + half] = c;
        sin[row + i] = s;
        sin[row + i + half] = s;
      }
    }
    return { cos: tf.tensor2d(cos, [seqLen, this.headDim]), sin: tf.tensor2d(sin, [seqLen, this.headDim]) };
  }

  // x: [batch, heads, seq, headDim] at positions offset.. -> same shape.
  apply(x: tf.Tensor, offset = 0): tf.Tensor {
    return tf.tidy(() => {
      const seq = x.shape[x.rank - 2]!;
      const { cos, sin } = this.tables(seq, offset);
      const [x1, x2] = tf.split(x, 2, x.rank - 1);
      const rotated = tf.concat([tf.neg(x2!), x1!], x.rank - 1);
      return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
    });
  }
}
