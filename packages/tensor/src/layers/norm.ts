import * as tf from '@tensorflow/tfjs-core';
import { init as inits } from '../init.js';
import { Module } from '../module.js';
import { layerNorm } from '../ops/layer-norm.js';
import { normWithSkip } from '../ops/norm-skip.js';
import { rmsNorm } from '../ops/rms-norm.js';
import type { Rng } from '../rng.js';

export interface NormOptions {
  dim: number;
  /** Default 1e-5 (LayerNorm) / 1e-6 (RMSNorm). */
  eps?: number;
  /** Learn a per-feature scale (and for LayerNorm a bias). Default true; AdaLN blocks turn it off. */
  affine?: boolean;
  rng: Rng;
}

/** LayerNorm over the last dim. Parameters: `weight` [dim] (ones), `bias` [dim] (zeros). */
export class LayerNorm extends Module {
  readonly dim: number;
  readonly eps: number;
  readonly weight: tf.Variable | undefined;
  readonly bias: tf.Variable | undefined;

  constructor(o: NormOptions) {
    super();
    this.dim = o.dim;
    this.eps = o.eps ?? 1e-5;
    const affine = o.affine ?? true;
    this.weight = affine ? this.addParam('weight', [o.dim], inits.ones(), o.rng) : undefined;
    this.bias = affine ? this.addParam('bias', [o.dim], inits.zeros(), o.rng) : undefined;
  }

  // x: [..., dim] -> [..., dim] (one fused kernel on webgpu, see ops/layer-norm.ts)
  forward(x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }

  /** [x, norm(x)] for a pre-norm residual branch: x's two gradients are summed in the norm's backward where it can be (ops/norm-skip.ts). */
  forwardWithSkip(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
    return normWithSkip(x, { center: true, gamma: this.weight, beta: this.bias, eps: this.eps });
  }
}

/** RMSNorm over the last dim: x / rms(x) * weight. Parameter: `weight` [dim] (ones). */
export class RMSNorm extends Module {
  readonly dim: number;
  readonly eps: number;
  readonly weight: tf.Variable | undefined;

  constructor(o: NormOptions) {
    super();
    this.dim = o.dim;
    this.eps = o.eps ?? 1e-6;
    this.weight = (o.affine ?? true) ? this.addParam('weight', [o.dim], inits.ones(), o.rng) : undefined;
  }

  // x: [..., dim] -> [..., dim] (one fused kernel on webgpu, see ops/rms-norm.ts)
  forward(x: tf.Tensor): tf.Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }

  /** [x, norm(x)] for a pre-norm residual branch (see LayerNorm.forwardWithSkip). */
  forwardWithSkip(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
    return normWithSkip(x, { center: false, gamma: this.weight, eps: this.eps });
  }
}

export type NormKind = 'layer' | 'rms';

export function makeNorm(kind: NormKind, o: NormOptions): LayerNorm | RMSNorm {
  return kind === 'layer' ? new LayerNorm(o) : new RMSNorm(o);
}
