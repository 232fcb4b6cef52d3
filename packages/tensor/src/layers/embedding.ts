import * as tf from '@tensorflow/tfjs-core';
import { init as inits, type Init } from '../init.js';
import { Module } from '../module.js';
import type { Rng } from '../rng.js';

export interface EmbeddingOptions {
  numEmbeddings: number;
  dim: number;
  /** Default normal(0.02). */
  init?: Init;
  rng: Rng;
}

/** Token embedding table `weight` [numEmbeddings, dim], with an optional tied output projection. */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly dim: number;
  readonly weight: tf.Variable;

  constructor(o: EmbeddingOptions) {
    super();
    this.numEmbeddings = o.numEmbeddings;
    this.dim = o.dim;
    this.weight = this.addParam('weight', [o.numEmbeddings, o.dim], o.init ?? inits.normal(0.02), o.rng);
  }

  // ids: int32 [...] -> [..., dim]. The wasm backend's missing gather gradient is supplied by
  // the kernel `initBackend` registers, so this is a plain gather on every backend.
  forward(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== 'int32') throw new Error(`Embedding: ids must be int32, got ${ids.dtype}`);
    return tf.tidy(() => {
      const flat = tf.reshape(ids, [-1]);
      return tf.reshape(tf.gather(this.weight, flat), [...ids.shape, this.dim]);
    });
  }

  // Tied output projection (logits = x Eᵀ): x: [..., dim] -> [..., numEmbeddings].
  project(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const y = tf.matMul(tf.reshape(x, [-1, this.dim]), this.weight, false, true);
      return tf.reshape(y, [...lead, this.numEmbeddings]);
    });
  }
}
