import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';

/**
 * LayerNorm over the last dim: (x - mean) / sqrt(var + eps) * gamma + beta.
 * x: [..., dim], gamma/beta: [dim] (both or neither for the fused kernel) -> [..., dim].
 * One fused kernel where the backend has it (webgpu), else the composite ops.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined, eps: number): tf.Tensor {
  const affine = gamma !== undefined && beta !== undefined;
  const name = affine ? K.layerNorm : K.layerNormPlain;
  if ((affine || (gamma === undefined && beta === undefined)) && x.dtype === 'float32' && hasFusedKernel(name, layerNormGradConfig(name))) {
    return runFused(name, affine ? { x, gamma, beta } : { x }, { eps }) as tf.Tensor;
  }
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const mean = tf.mean(x, axis, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), axis, true);
    let y = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
    if (gamma !== undefined) y = tf.mul(y, gamma);
    if (beta !== undefined) y = tf.add(y, beta);
    return y;
  });
}

export interface LayerNormGrads {
  dx: tf.Tensor;
  /** Present when gamma was given. */
  dgamma?: tf.Tensor;
  dbeta?: tf.Tensor;
}

/**
 * The analytic LayerNorm backward as composite ops (the fused gradient's fallback):
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma;
 * dgamma = sum over rows of dy * xhat; dbeta = sum over rows of dy.
 * dy, x: [..., dim], gamma: [dim].
 */
export function layerNormGradComposite(dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor | undefined, eps: number): LayerNormGrads {
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const dim = x.shape[axis]!;
    const mean = tf.mean(x, axis, true);
    const centered = tf.sub(x, mean);
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), axis, true), eps));
    const xhat = tf.mul(centered, rstd);
    const g = gamma === undefined ? dy : tf.mul(dy, gamma);
    const m1 = tf.mean(g, axis, true);
    const m2 = tf.mean(tf.mul(g, xhat), axis, true);
    const dx = tf.mul(rstd, tf.sub(tf.sub(g, m1), tf.mul(xhat, m2)));
    if (gamma === undefined) return { dx };
    const rows = [-1, dim];
    return {
      dx,
      dgamma: tf.sum(tf.reshape(tf.mul(dy, xhat), rows), 0),
      dbeta: tf.sum(tf.reshape(dy, rows), 0),
    };
  }) as LayerNormGrads;
}

function layerNormGradConfig(name: string): tf.GradConfig {
  return {
    kernelName: name,
    inputsToSave: name === K.layerNorm ? ['x', 'gamma'] : ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x, gamma] = saved as [tf.Tensor, tf.Tensor | undefined];
      const eps = attrs.eps as number;
      let g: LayerNormGrads;
      if (hasFusedKernel(K.layerNormGrad)) {
        const inputs: Record<string, tf.Tensor> = gamma === undefined ? { dy: dy as tf.Tensor, x } : { dy: dy as tf.Tensor, x, gamma };
        const [dx, dgamma, dbeta] = runFused(K.layerNormGrad, inputs, { eps }) as tf.Tensor[];
        g = { dx: dx!, dgamma, dbeta };
      } else {
        g = layerNormGradComposite(dy as tf.Tensor, x, gamma, eps);
      }
      const grads: Record<string, () => tf.Tensor> = { x: () => g.dx };
      if (gamma !== undefined) Object.assign(grads, { gamma: () => g.dgamma!, beta: () => g.dbeta! });
      return grads;
    },
  };
}
