import * as tf from '@tensorflow/tfjs-core';
import { init as inits } from '../init.js';
import { Module } from '../module.js';
import type { Rng } from '../rng.js';
import { silu } from './activations.js';
import { Linear } from './linear.js';

export interface AdaLNZeroOptions {
  /** Width of the conditioning vector (e.g. timestep + class embedding). */
  condDim: number;
  dModel: number;
  /** How many [dModel] chunks to produce; a DiT block uses 6 (shift, scale, gate for attn and mlp). */
  chunks: number;
  rng: Rng;
}

/**
 * AdaLN-zero (DiT): cond -> SiLU -> Linear (zero-initialised) -> `chunks` vectors of [batch, 1, dModel].
 * Zero init makes every modulated block start as the identity.
 * Parameter: `proj` [condDim, chunks * dModel].
 */
export class AdaLNZero extends Module {
  readonly chunks: number;
  readonly proj: Linear;

  constructor(o: AdaLNZeroOptions) {
    super();
    this.chunks = o.chunks;
    this.proj = this.addModule('proj', new Linear({ inFeatures: o.condDim, outFeatures: o.chunks * o.dModel, init: inits.zeros(), rng: o.rng }));
  }

  // cond: [batch, condDim] -> chunks x [batch, 1, dModel]; per position (a diffusion timestep
  // per sequence element): [batch, seq, condDim] -> chunks x [batch, seq, dModel]
  forward(cond: tf.Tensor): tf.Tensor[] {
    return tf.tidy(() => {
      const h = this.proj.forward(silu(cond));
      return tf.split(cond.rank === 3 ? h : tf.expandDims(h, 1), this.chunks, 2);
    });
  }
}

/** x * (1 + scale) + shift; x: [batch, seq, d], shift/scale: [batch, 1, d]. */
export function modulate(x: tf.Tensor, shift: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(x, tf.add(scale, 1)), shift));
}
