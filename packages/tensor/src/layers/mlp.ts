import * as tf from '@tensorflow/tfjs-core';
import { init as inits, type Init } from '../init.js';
import { Module } from '../module.js';
import type { Rng } from '../rng.js';
import { silu } from './activations.js';
import { dropout } from './dropout.js';
import { Linear } from './linear.js';

export type Activation = 'relu' | 'gelu' | 'swiglu';

export interface MLPOptions {
  dModel: number;
  /** Hidden width; default 4 * dModel (for swiglu, 8/3 * dModel rounded up to a multiple of 8 is common). */
  hidden?: number;
  /** Default 'gelu'. */
  activation?: Activation;
  bias?: boolean;
  dropout?: number;
  init?: Init;
  /** Init of the down projection; default `init`. */
  outInit?: Init;
  rng: Rng;
}

/**
 * Position-wise feed-forward: down(act(up(x))), or for swiglu down(silu(gate(x)) * up(x)).
 * Parameters: `up` [dModel, hidden], (`gate` [dModel, hidden]), `down` [hidden, dModel].
 * x: [..., dModel] -> [..., dModel].
 */
export class MLP extends Module {
  readonly activation: Activation;
  readonly up: Linear;
  readonly gate: Linear | undefined;
  readonly down: Linear;
  private readonly dropoutRate: number;
  private readonly rng: Rng;

  constructor(o: MLPOptions) {
    super();
    const hidden = o.hidden ?? 4 * o.dModel;
    const bias = o.bias ?? true;
    const w = o.init ?? inits.normal(0.02);
    this.activation = o.activation ?? 'gelu';
    this.up = this.addModule('up', new Linear({ inFeatures: o.dModel, outFeatures: hidden, bias, init: w, rng: o.rng }));
    this.gate =
      this.activation === 'swiglu'
        ? this.addModule('gate', new Linear({ inFeatures: o.dModel, outFeatures: hidden, bias, init: w, rng: o.rng }))
        : undefined;
    this.down = this.addModule('down', new Linear({ inFeatures: hidden, outFeatures: o.dModel, bias, init: o.outInit ?? w, rng: o.rng }));
    this.dropoutRate = o.dropout ?? 0;
    this.rng = o.rng;
  }

  /** `residual` ([..., dModel]) is added to the output, in the down projection's epilogue where it can be (no dropout active). */
  forward(x: tf.Tensor, residual?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h: tf.Tensor;
      if (this.activation === 'relu') h = tf.relu(this.up.forward(x));
      else if (this.activation === 'gelu') h = this.up.forward(x, 'gelu');
      else h = tf.mul(silu(this.gate!.forward(x)), this.up.forward(x));
      if (residual !== undefined && (this.dropoutRate === 0 || !this.training)) return this.down.forward(h, undefined, residual);
      const y = dropout(this.down.forward(h), this.dropoutRate, this.rng, this.training);
      return residual === undefined ? y : tf.add(residual, y);
    });
  }
}
