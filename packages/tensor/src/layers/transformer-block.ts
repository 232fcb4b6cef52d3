import * as tf from '@tensorflow/tfjs-core';
import { init as inits, type Init } from '../init.js';
import { Module } from '../module.js';
import type { Rng } from '../rng.js';
import { AdaLNZero, modulate } from './adaln.js';
import { MultiHeadAttention } from './attention.js';
import { dropout } from './dropout.js';
import { KVCache } from './kv-cache.js';
import { MLP, type Activation } from './mlp.js';
import { makeNorm, type LayerNorm, type NormKind, type RMSNorm } from './norm.js';

export interface TransformerBlockOptions {
  dModel: number;
  numHeads: number;
  /** MLP hidden width; default 4 * dModel. */
  mlpHidden?: number;
  /** Default 'gelu'. */
  activation?: Activation;
  /** Default 'layer'. */
  norm?: NormKind;
  /** Pre-norm (GPT-2, default) or post-norm (original Transformer). */
  prenorm?: boolean;
  /** Add a cross-attention sublayer (decoder over an encoder's output). */
  crossAttention?: boolean;
  /** Width of the cross-attention context; default dModel. */
  contextDim?: number;
  /** Conditioning width for AdaLN-zero modulation (DiT); omit for none. Requires prenorm. */
  adaLNCondDim?: number;
  /** Residual dropout (and attention dropout); default 0. */
  dropout?: number;
  bias?: boolean;
  rotary?: boolean;
  init?: Init;
  /** Init of the residual output projections; default `init`. */
  outInit?: Init;
  rng: Rng;
}

export interface BlockCache {
  self: KVCache;
  cross: KVCache;
}

export interface TransformerBlockCallOptions {
  causal?: boolean;
  /** Self-attention key padding [batch, seq] (true = real token). */
  keyMask?: tf.Tensor;
  /** Custom self-attention mask, see {@link AttentionCallOptions.mask}. */
  mask?: tf.Tensor;
  /** Cross-attention source [batch, ctxLen, contextDim] (required when the block has cross-attention). */
  context?: tf.Tensor;
  /** Cross-attention key padding [batch, ctxLen]. */
  contextKeyMask?: tf.Tensor;
  /** Custom cross-attention mask [q, ctxLen], [batch, q, ctxLen] or [batch, heads, q, ctxLen] (true = may attend). */
  contextMask?: tf.Tensor;
  /** AdaLN conditioning [batch, adaLNCondDim], or [batch, seq, adaLNCondDim] per position (required when the block has AdaLN). */
  cond?: tf.Tensor;
  cache?: BlockCache;
}

/**
 * One transformer layer. Parameters: `norm1`, `attn`, (`normCross`, `crossAttn`), `norm2`, `mlp`,
 * (`adaLN`). x: [batch, seq, dModel] -> [batch, seq, dModel].
 * Pre-norm: x += attn(norm(x)); post-norm: x = norm(x + attn(x)). With AdaLN-zero the norms have
 * no affine parameters and each residual branch is modulated and gated by `cond`.
 */
export class TransformerBlock extends Module {
  readonly prenorm: boolean;
  readonly norm1: LayerNorm | RMSNorm;
  readonly attn: MultiHeadAttention;
  readonly normCross: LayerNorm | RMSNorm | undefined;
  readonly crossAttn: MultiHeadAttention | undefined;
  readonly norm2: LayerNorm | RMSNorm;
  readonly mlp: MLP;
  readonly adaLN: AdaLNZero | undefined;
  private readonly dropoutRate: number;
  private readonly rng: Rng;

  constructor(o: TransformerBlockOptions) {
    super();
    this.prenorm = o.prenorm ?? true;
    if (o.adaLNCondDim !== undefined && !this.prenorm) throw new Error('TransformerBlock: AdaLN-zero needs prenorm: true');
    const kind = o.norm ?? 'layer';
    const affine = o.adaLNCondDim === undefined;
    const w = o.init ?? inits.normal(0.02);
    const dropoutRate = o.dropout ?? 0;
    const attnOpts = { dModel: o.dModel, numHeads: o.numHeads, bias: o.bias ?? true, dropout: dropoutRate, init: w, rng: o.rng };
    const outInit = o.outInit ?? w;
    this.norm1 = this.addModule('norm1', makeNorm(kind, { dim: o.dModel, affine, rng: o.rng }));
    this.attn = this.addModule('attn', new MultiHeadAttention({ ...attnOpts, rotary: o.rotary ?? false, outInit }));
    if (o.crossAttention === true) {
      this.normCross = this.addModule('normCross', makeNorm(kind, { dim: o.dModel, rng: o.rng }));
      this.crossAttn = this.addModule('crossAttn', new MultiHeadAttention({ ...attnOpts, contextDim: o.contextDim ?? o.dModel, outInit }));
    }
    this.norm2 = this.addModule('norm2', makeNorm(kind, { dim: o.dModel, affine, rng: o.rng }));
    this.mlp = this.addModule(
      'mlp',
      new MLP({ dModel: o.dModel, hidden: o.mlpHidden, activation: o.activation, bias: o.bias ?? true, dropout: 0, init: w, outInit, rng: o.rng }),
    );
    if (o.adaLNCondDim !== undefined) {
      this.adaLN = this.addModule('adaLN', new AdaLNZero({ condDim: o.adaLNCondDim, dModel: o.dModel, chunks: 6, rng: o.rng }));
    }
    this.dropoutRate = dropoutRate;
    this.rng = o.rng;
  }

  /** A fresh, empty cache for incremental decoding through this block. */
  createCache(): BlockCache {
    return { self: new KVCache(), cross: new KVCache() };
  }

  private drop(x: tf.Tensor): tf.Tensor {
    return dropout(x, this.dropoutRate, this.rng, this.training);
  }

  forward(x: tf.Tensor, o: TransformerBlockCallOptions = {}): tf.Tensor {
    if (this.crossAttn !== undefined && o.context === undefined) throw new Error('TransformerBlock: this block has cross-attention; pass context');
    if (this.adaLN !== undefined && o.cond === undefined) throw new Error('TransformerBlock: this block has AdaLN-zero; pass cond');
    return tf.tidy(() => {
      const selfOpts = { causal: o.causal, keyMask: o.keyMask, mask: o.mask, cache: o.cache?.self };
      const crossOpts = { context: o.context, keyMask: o.contextKeyMask, mask: o.contextMask, cache: o.cache?.cross };
      if (this.adaLN !== undefined) {
        const [shift1, scale1, gate1, shift2, scale2, gate2] = this.adaLN.forward(o.cond!) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        let h = tf.add(x, tf.mul(gate1, this.drop(this.attn.forward(modulate(this.norm1.forward(x), shift1, scale1), selfOpts))));
        if (this.crossAttn !== undefined) h = tf.add(h, this.drop(this.crossAttn.forward(this.normCross!.forward(h), crossOpts)));
        return tf.add(h, tf.mul(gate2, this.drop(this.mlp.forward(modulate(this.norm2.forward(h), shift2, scale2)))));
      }
      if (this.prenorm) {
        // x + drop(f(norm(x))) per sublayer: x's two gradients are summed in the norm's backward
        // (one dispatch fewer on webgpu), and without active dropout the add runs in f's last
        // projection (one fewer where a tiled webgpu matmul runs); the same sums everywhere else.
        const fuse = this.dropoutRate === 0 || !this.training;
        const sublayer = (input: tf.Tensor, norm: LayerNorm | RMSNorm, f: (n: tf.Tensor, residual?: tf.Tensor) => tf.Tensor) => {
          const [skip, n] = norm.forwardWithSkip(input);
          return fuse ? f(n, skip) : tf.add(skip, this.drop(f(n)));
        };
        let h = sublayer(x, this.norm1, (n, residual) => this.attn.forward(n, { ...selfOpts, residual }));
        if (this.crossAttn !== undefined) h = sublayer(h, this.normCross!, (n, residual) => this.crossAttn!.forward(n, { ...crossOpts, residual }));
        return sublayer(h, this.norm2, (n, residual) => this.mlp.forward(n, residual));
      }
      let h = this.norm1.forward(tf.add(x, this.drop(this.attn.forward(x, selfOpts))));
      if (this.crossAttn !== undefined) h = this.normCross!.forward(tf.add(h, this.drop(this.crossAttn.forward(h, crossOpts))));
      return this.norm2.forward(tf.add(h, this.drop(this.mlp.forward(h))));
    });
  }
}
