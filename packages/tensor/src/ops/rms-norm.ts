import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';

/**
 * RMSNorm over the last dim: x / sqrt(mean(x²) + eps) * gamma.
 * x: [..., dim], gamma: [dim] or none -> [..., dim]. One fused kernel where the backend has it
 * (webgpu), else the composite ops.
 */
export function rmsNorm(x: tf.Tensor, gamma: tf.Tensor | undefined, eps: number): tf.Tensor {
  const name = gamma === undefined ? K.rmsNormPlain : K.rmsNorm;
  if (x.dtype === 'float32' && hasFusedKernel(name, rmsNormGradConfig(name))) {
    return runFused(name, gamma === undefined ? { x } : { x, gamma }, { eps }) as tf.Tensor;
  }
  return tf.tidy(() => {
    const ms = tf.mean(tf.square(x), x.rank - 1, true);
    const y = tf.mul(x, tf.rsqrt(tf.add(ms, eps)));
    return gamma === undefined ? y : tf.mul(y, gamma);
  });
}

/**
 * The analytic RMSNorm backward as composite ops (the fused gradient's fallback), with
 * xhat = x * rstd and g = dy * gamma: dx = rstd * (g - xhat * mean(g * xhat)),
 * dgamma = sum over rows of dy * xhat. dy, x: [..., dim], gamma: [dim].
 */
export function rmsNormGradComposite(dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor | undefined, eps: number): { dx: tf.Tensor; dgamma?: tf.Tensor } {
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(x), axis, true), eps));
    const xhat = tf.mul(x, rstd);
    const g = gamma === undefined ? dy : tf.mul(dy, gamma);
    const dx = tf.mul(rstd, tf.sub(g, tf.mul(xhat, tf.mean(tf.mul(g, xhat), axis, true))));
    if (gamma === undefined) return { dx };
    return { dx, dgamma: tf.sum(tf.reshape(tf.mul(dy, xhat), [-1, x.shape[axis]!]), 0) };
  }) as { dx: tf.Tensor; dgamma?: tf.Tensor };
}

function rmsNormGradConfig(name: string): tf.GradConfig {
  return {
    kernelName: name,
    inputsToSave: name === K.rmsNorm ? ['x', 'gamma'] : ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x, gamma] = saved as [tf.Tensor, tf.Tensor | undefined];
      const eps = attrs.eps as number;
      let g: { dx: tf.Tensor; dgamma?: tf.Tensor };
      if (hasFusedKernel(K.rmsNormGrad)) {
        const inputs: Record<string, tf.Tensor> = gamma === undefined ? { dy: dy as tf.Tensor, x } : { dy: dy as tf.Tensor, x, gamma };
        const [dx, dgamma] = runFused(K.rmsNormGrad, inputs, { eps }) as tf.Tensor[];
        g = { dx: dx!, dgamma };
      } else {
        g = rmsNormGradComposite(dy as tf.Tensor, x, gamma, eps);
      }
      const grads: Record<string, () => tf.Tensor> = { x: () => g.dx };
      if (gamma !== undefined) grads.gamma = () => g.dgamma!;
      return grads;
    },
  };
}
