import * as tf from '@tensorflow/tfjs-core';
import { init as inits, type Init } from '../init.js';
import { Module } from '../module.js';
import { scaledDotProductAttention } from '../ops/attention.js';
import { splitHeads } from '../ops/heads.js';
import { mergedContext, mergedContextInOneKernel } from '../ops/merged-context.js';
import { MASKED, scaledMaskedSoftmax } from '../ops/masked-softmax.js';
import type { Rng } from '../rng.js';
import { dropout } from './dropout.js';
import type { KVCache } from './kv-cache.js';
import { Linear } from './linear.js';
import { RotaryEmbedding } from './positional.js';

export interface AttentionOptions {
  dModel: number;
  numHeads: number;
  /** Width of the context for cross-attention; default dModel. */
  contextDim?: number;
  /** Biases on the q/k/v/out projections; default true. */
  bias?: boolean;
  /** Dropout on the attention probabilities; default 0. */
  dropout?: number;
  /** Apply rotary embeddings to q and k (self-attention only); default false. */
  rotary?: boolean;
  rotaryBase?: number;
  /** Projection init; default normal(0.02). */
  init?: Init;
  /** Init of the output projection (GPT-2 scales it by 1/sqrt(2 layers)); default `init`. */
  outInit?: Init;
  rng: Rng;
}

export interface AttentionCallOptions {
  /** Cross-attention source: [batch, kvLen, contextDim]. Without it this is self-attention. */
  context?: tf.Tensor;
  /** Query i may only see keys at positions <= i (+ the cache offset). */
  causal?: boolean;
  /** Key padding: bool/0-1 [batch, kvLen], true = a real token that may be attended to. */
  keyMask?: tf.Tensor;
  /** Custom mask: bool/0-1 [q, kv], [batch, q, kv] or [batch, heads, q, kv]; true = may attend. */
  mask?: tf.Tensor;
  /** Incremental decoding: self-attention appends this call's keys/values; cross-attention stores them once. */
  cache?: KVCache;
  /** [batch, q, dModel] added to the output (a block's residual stream), in the output projection's epilogue where it can be. */
  residual?: tf.Tensor;
}


/**
 * Multi-head scaled dot-product attention (self or cross).
 * Parameters: `q`, `k`, `v`, `out` Linear layers (weights [in, dModel]).
 * x: [batch, q, dModel] -> [batch, q, dModel].
 * A fully masked row attends uniformly to nothing useful; keep at least one key visible.
 */
export class MultiHeadAttention extends Module {
  readonly dModel: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;
  readonly rotary: RotaryEmbedding | undefined;
  private readonly dropoutRate: number;
  private readonly rng: Rng;

  constructor(o: AttentionOptions) {
    super();
    if (o.dModel % o.numHeads !== 0) throw new Error(`MultiHeadAttention: dModel ${o.dModel} is not divisible by numHeads ${o.numHeads}`);
    this.dModel = o.dModel;
    this.numHeads = o.numHeads;
    this.headDim = o.dModel / o.numHeads;
    const bias = o.bias ?? true;
    const w = o.init ?? inits.normal(0.02);
    const kvIn = o.contextDim ?? o.dModel;
    this.q = this.addModule('q', new Linear({ inFeatures: o.dModel, outFeatures: o.dModel, bias, init: w, rng: o.rng }));
    this.k = this.addModule('k', new Linear({ inFeatures: kvIn, outFeatures: o.dModel, bias, init: w, rng: o.rng }));
    this.v = this.addModule('v', new Linear({ inFeatures: kvIn, outFeatures: o.dModel, bias, init: w, rng: o.rng }));
    this.out = this.addModule('out', new Linear({ inFeatures: o.dModel, outFeatures: o.dModel, bias, init: o.outInit ?? w, rng: o.rng }));
    this.rotary = o.rotary === true ? new RotaryEmbedding(this.headDim, o.rotaryBase) : undefined;
    this.dropoutRate = o.dropout ?? 0;
    this.rng = o.rng;
  }

  // [batch, len, dModel] -> [batch, heads, len, headDim]
  private splitHeads(x: tf.Tensor): tf.Tensor4D {
    const [b, len] = x.shape as [number, number, number];
    return tf.transpose(tf.reshape(x, [b, len, this.numHeads, this.headDim]), [0, 2, 1, 3]);
  }

  /**
   * Several Linear layers on the same input as one matmul against their concatenated weights,
   * split into heads afterwards: one pass over x (and one transpose of x in the backward pass)
   * instead of one per projection, and on webgpu one kernel per head tensor (ops/heads.ts).
   * x: [batch, len, in] -> one [batch, heads, len, headDim] per layer.
   */
  private projectHeads(layers: Linear[], x: tf.Tensor): tf.Tensor4D[] {
    const y = tf.matMul(tf.reshape(x, [-1, x.shape[x.rank - 1]!]), tf.concat(layers.map((l) => l.weight), 1));
    const biases = layers.map((l) => l.bias);
    const all = biases.every((b) => b !== undefined) ? (biases as tf.Tensor[]) : undefined;
    return splitHeads(y, { batch: x.shape[0]!, heads: this.numHeads, parts: layers.length, biases: all });
  }

  forward(x: tf.Tensor, o: AttentionCallOptions = {}): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.dModel) {
      throw new Error(`MultiHeadAttention: x must be [batch, seq, ${this.dModel}], got [${x.shape}]`);
    }
    const cross = o.context !== undefined;
    if (cross && (o.context!.rank !== 3 || o.context!.shape[0] !== x.shape[0] || o.context!.shape[2] !== this.k.inFeatures)) {
      throw new Error(`MultiHeadAttention: context must be [batch=${x.shape[0]}, len, contextDim=${this.k.inFeatures}], got [${o.context!.shape}]`);
    }
    if (cross && this.rotary !== undefined) throw new Error('MultiHeadAttention: rotary embeddings apply to self-attention only');
    return tf.tidy(() => {
      const [batch, qLen] = x.shape as [number, number, number];
      const offset = !cross && o.cache !== undefined ? o.cache.length : 0;
      let q: tf.Tensor4D;
      let k: tf.Tensor4D;
      let v: tf.Tensor4D;
      if (cross && o.cache?.frozen === true) {
        q = this.splitHeads(this.q.forward(x));
        k = o.cache.k!;
        v = o.cache.v!;
      } else {
        if (cross) {
          q = this.splitHeads(this.q.forward(x));
          [k, v] = this.projectHeads([this.k, this.v], o.context!) as [tf.Tensor4D, tf.Tensor4D];
        } else {
          [q, k, v] = this.projectHeads([this.q, this.k, this.v], x) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        }
        if (this.rotary !== undefined) {
          q = this.rotary.apply(q, offset) as tf.Tensor4D;
          k = this.rotary.apply(k, offset) as tf.Tensor4D;
        }
        if (o.cache !== undefined) {
          if (cross) o.cache.freeze(k, v);
          else ({ k, v } = o.cache.append(k, v));
        }
      }
      const kvLen = k.shape[2];
      const bias = this.maskBias(batch, qLen, kvLen, o);
      const softmax = { scale: 1 / Math.sqrt(this.headDim), causal: o.causal === true, offset, bias };
      // merged: [batch, q, dModel], the heads' contexts side by side; one fused op where the
      // backend has it (native), else the probabilities and mergedContext (on webgpu with a tiled
      // matmul the product is written merged: no Transpose), or as before.
      let merged: tf.Tensor;
      // scores: [batch, heads, q, kv] (k enters transposed through the matmul flag, not a Transpose)
      const probs = () => scaledMaskedSoftmax(tf.matMul(q, k, false, true), softmax);
      if (this.training && this.dropoutRate !== 0) {
        merged = mergedContext(dropout(probs(), this.dropoutRate, this.rng, this.training), v);
      } else if (mergedContextInOneKernel()) {
        merged = mergedContext(probs(), v);
      } else {
        // ctx: [batch, heads, q, headDim] -> [batch, q, dModel]
        const ctx = scaledDotProductAttention(q, k, v, softmax);
        merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [batch, qLen, this.dModel]);
      }
      return this.out.forward(merged, undefined, o.residual);
    });
  }

  // Additive padding/custom-mask bias (0 = visible, -1e9 = hidden) broadcastable to [batch, heads, q, kv]; the causal mask is the softmax op's.
  private maskBias(batch: number, qLen: number, kvLen: number, o: AttentionCallOptions): tf.Tensor | undefined {
    const parts: tf.Tensor[] = [];
    if (o.keyMask !== undefined) {
      if (!tf.util.arraysEqual(o.keyMask.shape, [batch, kvLen])) {
        throw new Error(`MultiHeadAttention: keyMask must be [batch, kvLen] = [${batch}, ${kvLen}], got [${o.keyMask.shape}]`);
      }
      parts.push(tf.reshape(toBias(o.keyMask), [batch, 1, 1, kvLen]));
    }
    if (o.mask !== undefined) {
      const m = o.mask;
      const shape = m.rank === 2 ? [1, 1, qLen, kvLen] : m.rank === 3 ? [m.shape[0]!, 1, qLen, kvLen] : m.shape;
      if (m.shape[m.rank - 1] !== kvLen || m.shape[m.rank - 2] !== qLen || m.rank < 2 || m.rank > 4) {
        throw new Error(`MultiHeadAttention: mask must end in [q, kv] = [${qLen}, ${kvLen}], got [${m.shape}]`);
      }
      parts.push(tf.reshape(toBias(m), shape));
    }
    if (parts.length === 0) return undefined;
    return parts.reduce((a, b) => tf.add(a, b));
  }
}

function toBias(mask: tf.Tensor): tf.Tensor {
  return tf.mul(tf.sub(1, tf.cast(mask, 'float32')), MASKED);
}
