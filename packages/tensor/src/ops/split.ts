import * as tf from '@tensorflow/tfjs-core';
import { splitFits } from '../webgpu/split.js';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';

/**
 * tf.split(x, sizes, axis) in one dispatch where the backend has the kernel (webgpu; tfjs runs
 * one slice per part) and can bind every part, else tf.split. Used by the concat gradient; it
 * has no gradient of its own. x: any float32 shape, sizes: summing to x.shape[axis].
 */
export function splitParts(x: tf.Tensor, sizes: number[], axis: number): tf.Tensor[] {
  const a = axis < 0 ? axis + x.rank : axis;
  if (!(a >= 0 && a < x.rank) || sizes.reduce((p, s) => p + s, 0) !== x.shape[a]) {
    throw new Error(`splitParts: sizes [${sizes}] along axis ${axis} do not split x [${x.shape}]`);
  }
  if (x.dtype === 'float32' && sizes.length > 1 && hasFusedKernel(K.split) && splitFits(tf.backend(), sizes.length)) {
    return runFused(K.split, { x }, { sizes, axis: a }) as tf.Tensor[];
  }
  return tf.split(x, sizes, a);
}
