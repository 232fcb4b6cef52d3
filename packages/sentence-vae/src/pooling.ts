import * as tf from '@tensorflow/tfjs-core';
import { init, Linear, Module, MultiHeadAttention, type Rng } from '@sentencelab/tensor';
import type { PoolingKind } from './config.js';

export interface PoolingOptions {
  kind: PoolingKind;
  dModel: number;
  /** Heads of the attention pooling. */
  numHeads: number;
  rng: Rng;
}

/**
 * Token states -> one vector per sentence. h: [n, L, d] (padding rows already zero),
 * mask: [n, L] 0/1 -> [n, d]. Padding never contributes:
 * - sum: sum over real tokens (the paper's shipped configs);
 * - mean: sum / length;
 * - learnable-add: sum of alpha_t h_t with alpha_t = Linear(d, 1)(h_t), unnormalised (the paper's option);
 * - attention: a learned query attends over the real tokens (multi-head).
 * Parameters: `weight` (learnable-add: Linear `weight` [d, 1], `bias`), `query` [1, 1, d] and
 * `attn` (attention).
 */
export class Pooling extends Module {
  readonly kind: PoolingKind;
  readonly weight: Linear | undefined;
  readonly query: tf.Variable | undefined;
  readonly attn: MultiHeadAttention | undefined;

  constructor(o: PoolingOptions) {
    super();
    this.kind = o.kind;
    if (o.kind === 'learnable-add') {
      this.weight = this.addModule('weight', new Linear({ inFeatures: o.dModel, outFeatures: 1, rng: o.rng }));
    }
    if (o.kind === 'attention') {
      this.query = this.addParam('query', [1, 1, o.dModel], init.normal(1), o.rng);
      this.attn = this.addModule('attn', new MultiHeadAttention({ kind: 'cross', dModel: o.dModel, numHeads: o.numHeads, rng: o.rng }));
    }
  }

  forward(h: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [n, , d] = h.shape;
      const m3 = tf.reshape(mask, [n, mask.shape[1], 1]); // [n, L, 1]
      const masked = tf.mul(h, m3);
      switch (this.kind) {
        case 'sum':
          return tf.sum(masked, 1) as tf.Tensor2D;
        case 'mean':
          return tf.div(tf.sum(masked, 1), tf.sum(m3, 1)) as tf.Tensor2D;
        case 'learnable-add': {
          const alpha = this.weight!.forward(masked); // [n, L, 1]
          return tf.sum(tf.mul(tf.mul(masked, alpha), m3), 1) as tf.Tensor2D;
        }
        case 'attention': {
          const q = tf.tile(this.query!, [n, 1, 1]); // [n, 1, d]
          return tf.reshape(this.attn!.forward(q, { context: masked, keyMask: mask }), [n, d]) as tf.Tensor2D;
        }
      }
    });
  }
}
