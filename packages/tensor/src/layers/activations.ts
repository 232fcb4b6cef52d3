import * as tf from '@tensorflow/tfjs-core';

/** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)) (PyTorch's default); fused on webgpu (see ../ops/gelu.ts). */
export { gelu } from '../ops/gelu.js';

/** SiLU / swish, x * sigmoid(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}
