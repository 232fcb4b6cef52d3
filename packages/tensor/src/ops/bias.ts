import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';

/**
 * Sum over rows of dy: [rows, cols] -> [cols] (a broadcast bias's gradient). One dispatch where
 * the backend has the kernel (webgpu), else ones[1, rows] @ dy (a 2-D matmul, measured ~10x
 * faster than the wasm Sum kernel over a non-innermost axis).
 */
export function columnSum(dy: tf.Tensor): tf.Tensor1D {
  const [rows, cols] = dy.shape as [number, number];
  if (dy.rank !== 2) throw new Error(`columnSum: dy [${dy.shape}] is not 2-D`);
  if (dy.dtype === 'float32' && hasFusedKernel(K.biasGrad)) return runFused(K.biasGrad, { dy }, { rows, cols }) as tf.Tensor1D;
  return tf.tidy(() => tf.reshape(tf.matMul(tf.fill([1, rows], 1), dy), [cols]));
}

/**
 * x W + b for a Linear layer. x: [rows, in], w: [in, out], bias: [out] -> [rows, out].
 * One dispatch forward (the bias added in the matmul) and three backward (two matmuls and one
 * column sum) where the backend has the kernels (webgpu), else the composite matMul and add.
 */
export function matMulBias(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  if (x.rank !== 2 || w.rank !== 2 || bias.rank !== 1 || x.shape[1] !== w.shape[0] || w.shape[1] !== bias.shape[0]) {
    throw new Error(`matMulBias: x [${x.shape}], w [${w.shape}], bias [${bias.shape}] are not [rows, in], [in, out], [out]`);
  }
  const floats = x.dtype === 'float32' && w.dtype === 'float32' && bias.dtype === 'float32';
  if (floats && tf.getKernel(tf._FusedMatMul, tf.getBackend()) !== undefined && hasFusedKernel(K.matMulBias, matMulBiasGradConfig)) {
    return runFused(K.matMulBias, { x, w, bias }) as tf.Tensor2D;
  }
  return tf.tidy(() => tf.add(tf.matMul(x, w), bias));
}

const matMulBiasGradConfig: tf.GradConfig = {
  kernelName: K.matMulBias,
  inputsToSave: ['x', 'w'],
  gradFunc: (dy, saved) => {
    const [x, w] = saved as [tf.Tensor2D, tf.Tensor2D];
    const d = dy as tf.Tensor2D;
    return { x: () => tf.matMul(d, w, false, true), w: () => tf.matMul(x, d, true, false), bias: () => columnSum(d) };
  },
};
