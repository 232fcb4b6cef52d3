import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../module.js';
import type { Rng } from '../rng.js';

/**
 * Inverted dropout with a mask drawn from the seeded Rng (so a run is reproducible on every
 * backend). x: any shape -> same shape. Identity when `rate` is 0 or `training` is false.
 */
export function dropout(x: tf.Tensor, rate: number, rng: Rng, training: boolean): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
  if (!training || rate === 0) return x;
  const keep = 1 - rate;
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < keep ? 1 / keep : 0;
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32')));
}

/** Dropout as a module: follows the owner's train/eval mode. */
export class Dropout extends Module {
  constructor(
    readonly rate: number,
    private readonly rng: Rng,
  ) {
    super();
    if (!(rate >= 0 && rate < 1)) throw new Error(`Dropout rate must be in [0, 1), got ${rate}`);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return dropout(x, this.rate, this.rng, this.training);
  }
}
