import * as tf from '@tensorflow/tfjs-core';
import { init as inits } from '../init.js';
import { Module } from '../module.js';
import type { Rng } from '../rng.js';
import { Linear } from './linear.js';

/**
 * Sinusoidal timestep features (DDPM/DiT): t: [batch] (float, may be fractional) ->
 * [batch, dim] = [cos(t f_0..f_{h-1}), sin(t f_0..f_{h-1})], f_i = maxPeriod^(-i/h), h = dim/2.
 */
export function timestepFeatures(t: tf.Tensor, dim: number, maxPeriod = 10000): tf.Tensor2D {
  if (dim % 2 !== 0) throw new Error(`timestepFeatures: dim must be even, got ${dim}`);
  if (t.rank !== 1) throw new Error(`timestepFeatures: t must be [batch], got shape [${t.shape}]`);
  const half = dim / 2;
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = Math.exp((-Math.log(maxPeriod) * i) / half);
  return tf.tidy(() => {
    // args: [batch, half]
    const args = tf.mul(tf.reshape(tf.cast(t, 'float32'), [-1, 1]), tf.tensor2d(freqs, [1, half]));
    return tf.concat([tf.cos(args), tf.sin(args)], 1) as tf.Tensor2D;
  });
}

export interface TimestepEmbedderOptions {
  dim: number;
  /** Width of the sinusoidal features fed to the MLP; default 256. */
  frequencyDim?: number;
  rng: Rng;
}

/** DiT timestep embedder: features -> Linear -> SiLU -> Linear. t: [batch] -> [batch, dim]. */
export class TimestepEmbedder extends Module {
  readonly frequencyDim: number;
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(o: TimestepEmbedderOptions) {
    super();
    this.frequencyDim = o.frequencyDim ?? 256;
    this.fc1 = this.addModule('fc1', new Linear({ inFeatures: this.frequencyDim, outFeatures: o.dim, init: inits.normal(0.02), rng: o.rng }));
    this.fc2 = this.addModule('fc2', new Linear({ inFeatures: o.dim, outFeatures: o.dim, init: inits.normal(0.02), rng: o.rng }));
  }

  forward(t: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = this.fc1.forward(timestepFeatures(t, this.frequencyDim));
      return this.fc2.forward(tf.mul(h, tf.sigmoid(h)));
    });
  }
}
