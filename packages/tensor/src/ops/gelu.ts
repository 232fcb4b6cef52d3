import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { columnSum } from './bias.js';
import { hasFusedKernel, runFused } from './fused.js';

/** Exact GELU as composite ops (what the blocks computed before the fused kernel). */
export function geluComposite(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

/**
 * dy * GELU'(x) as composite ops (the fused gradients' fallback), with
 * GELU'(x) = 0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi).
 */
export function geluGradComposite(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const cdf = tf.mul(tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))), 0.5);
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf)));
  });
}

/**
 * Exact GELU, 0.5 x (1 + erf(x / sqrt 2)) (PyTorch's default). x: any shape.
 * One dispatch forward and one backward where the backend has the kernels (webgpu), else the
 * composite ops.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (x.dtype === 'float32' && hasFusedKernel(K.gelu, geluGradConfig)) return runFused(K.gelu, { x }) as tf.Tensor;
  return geluComposite(x);
}

/**
 * GELU(x + bias): a Linear layer's bias and activation. x: [..., cols], bias: [cols] -> like x.
 * One dispatch forward and one backward (the input gradient and the bias gradient together)
 * where the backend has the kernels (webgpu), else the composite add and GELU.
 */
export function biasGelu(x: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const cols = x.shape[x.rank - 1];
  if (bias.rank !== 1 || bias.shape[0] !== cols) throw new Error(`biasGelu: bias [${bias.shape}] is not [${cols}] (x [${x.shape}])`);
  if (x.dtype === 'float32' && bias.dtype === 'float32' && hasFusedKernel(K.biasGelu, biasGeluGradConfig)) {
    return runFused(K.biasGelu, { x, bias }) as tf.Tensor;
  }
  return tf.tidy(() => geluComposite(tf.add(x, bias)));
}

const geluGradConfig: tf.GradConfig = {
  kernelName: K.gelu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    const d = dy as tf.Tensor;
    return { x: () => (hasFusedKernel(K.geluGrad) ? (runFused(K.geluGrad, { dy: d, x }) as tf.Tensor) : geluGradComposite(d, x)) };
  },
};

const biasGeluGradConfig: tf.GradConfig = {
  kernelName: K.biasGelu,
  inputsToSave: ['x', 'bias'],
  gradFunc: (dy, saved) => {
    const [x, bias] = saved as [tf.Tensor, tf.Tensor];
    const d = dy as tf.Tensor;
    let du: tf.Tensor;
    let dbias: tf.Tensor;
    if (hasFusedKernel(K.biasGeluGrad)) {
      [du, dbias] = runFused(K.biasGeluGrad, { dy: d, x, bias }) as [tf.Tensor, tf.Tensor];
    } else {
      du = geluGradComposite(d, tf.add(x, bias));
      dbias = columnSum(tf.reshape(du, [-1, bias.size]));
    }
    return { x: () => du, bias: () => dbias };
  },
};
