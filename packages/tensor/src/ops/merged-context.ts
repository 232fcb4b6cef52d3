import * as tf from '@tensorflow/tfjs-core';
import { selectedTiling } from '../webgpu/matmul.js';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';

/**
 * Attention's context merged back into one row per position: p v per head, the heads side by side.
 * p: [batch, heads, q, kv] (the attention probabilities), v: [batch, heads, kv, dimV] ->
 * [batch, q, heads * dimV], the output projection's input.
 *
 * One dispatch where {@link mergedContextInOneKernel} (webgpu with a tiled matmul selected): the
 * product is written in the merged layout and its backward reads the gradient in it, so neither
 * direction runs a Transpose. Elsewhere matMul, transpose and reshape, exactly as before.
 */
export function mergedContext(p: tf.Tensor, v: tf.Tensor): tf.Tensor3D {
  const [batch, heads, q, kv] = p.shape as [number, number, number, number];
  if (p.rank !== 4 || v.rank !== 4 || v.shape[0] !== batch || v.shape[1] !== heads || v.shape[2] !== kv) {
    throw new Error(`mergedContext: p must be [batch, heads, q, kv] and v [batch, heads, kv, dimV] with p's batch, heads and kv, got p [${p.shape}], v [${v.shape}]`);
  }
  const dimV = v.shape[3]!;
  if (p.dtype === 'float32' && v.dtype === 'float32' && batch * heads <= 65535 && mergedContextInOneKernel()) {
    return runFused(K.mergedContext, { p, v }) as tf.Tensor3D;
  }
  // [batch, heads, q, dimV] -> [batch, q, heads, dimV] -> [batch, q, heads * dimV]
  return tf.tidy(() => tf.reshape(tf.transpose(tf.matMul(p, v), [0, 2, 1, 3]), [batch, q, heads * dimV]));
}

/** Whether {@link mergedContext} runs as one kernel on the active backend now. */
export function mergedContextInOneKernel(): boolean {
  return hasFusedKernel(K.mergedContext, mergedContextGradConfig) && hasFusedKernel(K.mergedContextGrad) && selectedTiling() !== undefined;
}

const mergedContextGradConfig: tf.GradConfig = {
  kernelName: K.mergedContext,
  inputsToSave: ['p', 'v'],
  gradFunc: (dy, saved) => {
    const [p, v] = saved as [tf.Tensor, tf.Tensor];
    // Both gradients from one kernel call (two dispatches), computed here rather than per input.
    const [dp, dv] = runFused(K.mergedContextGrad, { dy: dy as tf.Tensor, p, v }) as [tf.Tensor, tf.Tensor];
    return { p: () => dp, v: () => dv };
  },
};
