/** A 2-layer causal GPT small enough for the cpu backend, for tests: vocab 32, d 16, 2 heads, MLP 4 x d. */
import type * as tf from '@tensorflow/tfjs-core';
import { Embedding } from './layers/embedding.js';
import { Linear } from './layers/linear.js';
import { TransformerStack } from './layers/transformer-stack.js';
import { Module } from './module.js';
import type { Rng } from './rng.js';

export class TinyGpt extends Module {
  readonly tok: Embedding;
  readonly blocks: TransformerStack;
  readonly head: Linear;
  constructor(rng: Rng) {
    super();
    this.tok = this.addModule('tok', new Embedding({ numEmbeddings: 32, dim: 16, rng }));
    this.blocks = this.addModule('blocks', new TransformerStack({ numLayers: 2, dModel: 16, numHeads: 2, rng }));
    this.head = this.addModule('head', new Linear({ inFeatures: 16, outFeatures: 32, rng }));
  }
  /** ids: int32 [batch, seq] -> logits [batch, seq, 32] */
  forward(ids: tf.Tensor): tf.Tensor {
    return this.head.forward(this.blocks.forward(this.tok.forward(ids), { causal: true }));
  }
}
