import * as tf from '@tensorflow/tfjs-core';
import type { AdamWScalars } from '../webgpu/adamw.js';
import { canUpdateInPlace } from '../webgpu/adamw-inplace.js';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';

export type { AdamWScalars };

export interface AdamWUpdate {
  p: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
}

/**
 * One AdamW step for one parameter, as new tensors (the caller assigns them):
 * m' = b1 m + (1-b1) g; v' = b2 v + (1-b2) g²; p' = p * decay - lr * (m'/bc1) / (sqrt(v'/bc2) + eps).
 * p, m, v, g: same shape. Three fused dispatches where the backend has the kernel (webgpu),
 * else the composite ops (~14).
 */
export function adamwUpdate(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, s: AdamWScalars): AdamWUpdate {
  if (p.dtype === 'float32' && g.dtype === 'float32' && hasFusedKernel(K.adamw)) {
    const [pNew, mNew, vNew] = runFused(K.adamw, { p, m, v, g }, { ...s }) as tf.Tensor[];
    return { p: pNew!, m: mNew!, v: vNew! };
  }
  return tf.tidy(() => {
    const mNew = tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1));
    const vNew = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
    const denom = tf.add(tf.sqrt(tf.div(vNew, s.bc2)), s.eps);
    const update = tf.div(tf.div(mNew, s.bc1), denom);
    const decayed = s.decay !== 1 ? tf.mul(p, s.decay) : p;
    return { p: tf.sub(decayed, tf.mul(update, s.lr)), m: mNew, v: vNew };
  });
}

/**
 * The same step written into p, m and v themselves (variables the caller owns), in one dispatch,
 * where the backend has the kernel (webgpu) and no other tensor shares their buffers. Returns
 * false, having changed nothing, where it cannot; the caller then uses {@link adamwUpdate}.
 */
export function adamwUpdateInPlace(p: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, s: AdamWScalars): boolean {
  if (!(p.dtype === 'float32' && m.dtype === 'float32' && v.dtype === 'float32' && g.dtype === 'float32')) return false;
  if (!hasFusedKernel(K.adamwInPlace) || !canUpdateInPlace(tf.backend(), p, m, v, g)) return false;
  runFused(K.adamwInPlace, { p, m, v, g }, { ...s });
  return true;
}
