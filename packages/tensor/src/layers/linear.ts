import * as tf from '@tensorflow/tfjs-core';
import { init as inits, type Init } from '../init.js';
import { Module } from '../module.js';
import { matMulBias, matMulBiasAdd, residualInEpilogue } from '../ops/bias.js';
import { biasGelu, gelu } from '../ops/gelu.js';
import type { Rng } from '../rng.js';

export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  /** Default true. */
  bias?: boolean;
  /** Weight init; default normal(0.02). Bias starts at zero. */
  init?: Init;
  /**
   * The weight is this many projections side by side (attention's packed q/k/v), default 1: each
   * part is initialised as its own [in, out / parts] matrix, in order, so the values, fans and
   * RNG draws are those of separate layers.
   */
  parts?: number;
  rng: Rng;
}

/** y = x W + b. Parameters: `weight` [in, out] (no transpose needed in the forward matmul), `bias` [out]. */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(o: LinearOptions) {
    super();
    if (!(o.inFeatures > 0 && o.outFeatures > 0)) throw new Error(`Linear: bad sizes in=${o.inFeatures} out=${o.outFeatures}`);
    this.inFeatures = o.inFeatures;
    this.outFeatures = o.outFeatures;
    const parts = o.parts ?? 1;
    if (!(Number.isInteger(parts) && parts >= 1 && o.outFeatures % parts === 0)) {
      throw new Error(`Linear: out=${o.outFeatures} is not ${parts} equal parts`);
    }
    this.weight = this.addParam('weight', [o.inFeatures, o.outFeatures], o.init ?? inits.normal(0.02), o.rng, parts);
    this.bias = o.bias === false ? undefined : this.addParam('bias', [o.outFeatures], inits.zeros(), o.rng);
  }

  /**
   * x: [..., in] -> [..., out]; flattened to one 2-D matmul (the fast path on every backend).
   * `activation: 'gelu'` applies exact GELU to x W + b, fused with the bias add where the
   * backend has the kernels (webgpu); so is the bias add without an activation. `residual`
   * ([..., out], no activation) is added to the output: (x W + b) + residual, in the matmul's
   * epilogue where a tiled webgpu matmul runs (ops/bias.ts matMulBiasAdd).
   */
  forward(x: tf.Tensor, activation?: 'gelu', residual?: tf.Tensor): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    if (x.shape[x.shape.length - 1] !== this.inFeatures) {
      throw new Error(`Linear: input last dim ${x.shape[x.shape.length - 1]} != inFeatures ${this.inFeatures} (shape [${x.shape}])`);
    }
    if (residual !== undefined) {
      if (activation !== undefined) throw new Error('Linear: a residual is added after the projection, not with an activation');
      if (!tf.util.arraysEqual(residual.shape, [...lead, this.outFeatures])) {
        throw new Error(`Linear: residual [${residual.shape}] is not the output's shape [${[...lead, this.outFeatures]}]`);
      }
      // Elsewhere a plain add after the projection, exactly as before the epilogue existed.
      if (this.bias === undefined || !residualInEpilogue()) return tf.tidy(() => tf.add(residual, this.forward(x)));
    }
    return tf.tidy(() => {
      const x2 = tf.reshape(x, [-1, this.inFeatures]);
      let y: tf.Tensor;
      if (residual !== undefined) {
        y = matMulBiasAdd(x2, this.weight, this.bias!, tf.reshape(residual, [-1, this.outFeatures]));
      } else if (this.bias === undefined) {
        y = tf.matMul(x2, this.weight);
        if (activation === 'gelu') y = gelu(y);
      } else if (activation === 'gelu') {
        y = biasGelu(tf.matMul(x2, this.weight), this.bias);
      } else {
        y = matMulBias(x2, this.weight, this.bias);
      }
      return tf.reshape(y, [...lead, this.outFeatures]);
    });
  }
}
