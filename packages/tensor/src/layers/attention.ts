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
  /**
   * Self-attention (the default) or cross-attention (the default when `contextDim` is given):
   * which projections are packed into one parameter (`qkv`; `q` and `kv`).
   */
  kind?: 'self' | 'cross';
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
 * Parameters, Linear layers: self-attention `qkv` (weight [dModel, 3 dModel]: q, k and v side by
 * side, one matmul and one parameter each for weight and bias), cross-attention `q` (weight
 * [dModel, dModel]) and `kv` (weight [contextDim, 2 dModel]); both `out` ([dModel, dModel]).
 * Each part is initialised as its own layer was before the packing, and weights saved as
 * separate `q`, `k`, `v` layers still load (Module.packLegacyParameters).
 * x: [batch, q, dModel] -> [batch, q, dModel].
 * A fully masked row attends uniformly to nothing useful; keep at least one key visible.
 */
export class MultiHeadAttention extends Module {
  readonly dModel: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly kind: 'self' | 'cross';
  /** Self-attention: q, k and v packed. */
  readonly qkv: Linear | undefined;
  /** Cross-attention: the query projection and k, v packed. */
  readonly q: Linear | undefined;
  readonly kv: Linear | undefined;
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
    this.kind = o.kind ?? (o.contextDim === undefined ? 'self' : 'cross');
    if (this.kind === 'self' && o.contextDim !== undefined) throw new Error('MultiHeadAttention: contextDim is for cross-attention (kind: "cross")');
    // The same RNG draws, in the same order, as the separate q, k, v layers before the packing.
    const project = (inFeatures: number, parts: number) => new Linear({ inFeatures, outFeatures: parts * o.dModel, parts, bias, init: w, rng: o.rng });
    if (this.kind === 'self') {
      this.qkv = this.addModule('qkv', project(o.dModel, 3), ['q', 'k', 'v']);
    } else {
      this.q = this.addModule('q', project(o.dModel, 1));
      this.kv = this.addModule('kv', project(o.contextDim ?? o.dModel, 2), ['k', 'v']);
    }
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
   * A packed projection (`qkv`, `kv`) as one matmul, split into heads with its bias added by one
   * kernel where the backend has it (ops/heads.ts): one pass over x and no concatenation of
   * weights or split of their gradient.
   * x: [batch, len, in] -> one [batch, heads, len, headDim] per part.
   */
  private projectHeads(layer: Linear, x: tf.Tensor): tf.Tensor4D[] {
    const y = tf.matMul(tf.reshape(x, [-1, layer.inFeatures]), layer.weight); // [batch * len, parts * dModel]
    return splitHeads(y, { batch: x.shape[0]!, heads: this.numHeads, parts: layer.outFeatures / this.dModel, bias: layer.bias });
  }

  forward(x: tf.Tensor, o: AttentionCallOptions = {}): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.dModel) {
      throw new Error(`MultiHeadAttention: x must be [batch, seq, ${this.dModel}], got [${x.shape}]`);
    }
    const cross = this.kind === 'cross';
    if (cross !== (o.context !== undefined)) {
      throw new Error(cross ? 'MultiHeadAttention: cross-attention needs a context' : 'MultiHeadAttention: a context was given to self-attention (construct it with kind: "cross")');
    }
    if (cross && (o.context!.rank !== 3 || o.context!.shape[0] !== x.shape[0] || o.context!.shape[2] !== this.kv!.inFeatures)) {
      throw new Error(`MultiHeadAttention: context must be [batch=${x.shape[0]}, len, contextDim=${this.kv!.inFeatures}], got [${o.context!.shape}]`);
    }
    if (cross && this.rotary !== undefined) throw new Error('MultiHeadAttention: rotary embeddings apply to self-attention only');
    return tf.tidy(() => {
      const [batch, qLen] = x.shape as [number, number, number];
      const offset = !cross && o.cache !== undefined ? o.cache.length : 0;
      let q: tf.Tensor4D;
      let k: tf.Tensor4D;
      let v: tf.Tensor4D;
      if (cross && o.cache?.frozen === true) {
        q = this.splitHeads(this.q!.forward(x));
        k = o.cache.k!;
        v = o.cache.v!;
      } else {
        if (cross) {
          q = this.splitHeads(this.q!.forward(x));
          [k, v] = this.projectHeads(this.kv!, o.context!) as [tf.Tensor4D, tf.Tensor4D];
        } else {
          [q, k, v] = this.projectHeads(this.qkv!, x) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
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
      // keys: the cached positions (a webgpu cache's tensors have spare slots past them, zeros)
      const kvLen = o.cache === undefined ? k.shape[2] : o.cache.length;
      const bias = this.hideSpareSlots(this.maskBias(batch, qLen, kvLen, o), kvLen, k.shape[2] - kvLen, o.causal === true);
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

  /**
   * The mask bias widened over a cache's `spare` slots past its kvLen positions, which no query
   * may see: the bias padded with the masked value; with no bias, the causal mask hides them
   * already (a spare slot lies after every query), else a bias of their own. bias: broadcastable
   * to [batch, heads, q, kvLen] -> to [batch, heads, q, kvLen + spare].
   */
  private hideSpareSlots(bias: tf.Tensor | undefined, kvLen: number, spare: number, causal: boolean): tf.Tensor | undefined {
    if (spare === 0 || (bias === undefined && causal)) return bias;
    const b = bias ?? tf.zeros([1, 1, 1, kvLen]);
    const pad = b.shape.map((): [number, number] => [0, 0]);
    pad[pad.length - 1] = [0, spare];
    return tf.pad(b, pad, MASKED);
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
