import * as tf from '@tensorflow/tfjs-core';
import { notMatrixProducts } from '../flops.js';
import { selectedTiling } from '../webgpu/matmul.js';
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
  // A reduction, whatever computes it: no matrix-product FLOPs (flops.ts).
  return notMatrixProducts(() => tf.tidy(() => tf.reshape(tf.matMul(tf.fill([1, rows], 1), dy), [cols])));
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

/**
 * x W + b + r: a Linear layer's output added to a residual of its shape (a transformer block's
 * projection back into the residual stream). x: [rows, in], w: [in, out], bias: [out],
 * residual: [rows, out] -> [rows, out]. One dispatch forward where the backend has the kernel
 * and `SL_WEBGPU_MATMUL` selects one of this package's tiled matmuls (webgpu: the residual is
 * added in the matmul's epilogue), else {@link matMulBias} and an add, (x W + b) + r either way;
 * backward as matMulBias's, and r's gradient is dy itself (no dispatch).
 */
export function matMulBiasAdd(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor, residual: tf.Tensor): tf.Tensor2D {
  if (residual.rank !== 2 || residual.shape[0] !== x.shape[0] || residual.shape[1] !== w.shape[1]) {
    throw new Error(`matMulBiasAdd: residual [${residual.shape}] is not [rows, out] = [${x.shape[0]}, ${w.shape[1]}]`);
  }
  const floats = x.dtype === 'float32' && w.dtype === 'float32' && bias.dtype === 'float32' && residual.dtype === 'float32';
  if (floats && x.rank === 2 && w.rank === 2 && bias.rank === 1 && x.shape[1] === w.shape[0] && w.shape[1] === bias.shape[0] && residualInEpilogue()) {
    return runFused(K.matMulBiasAdd, { x, w, bias, residual }) as tf.Tensor2D;
  }
  return tf.tidy(() => tf.add(matMulBias(x, w, bias), residual));
}

/** Whether {@link matMulBiasAdd} adds the residual in the matmul's epilogue on the active backend now (else it is a separate add). */
export function residualInEpilogue(): boolean {
  return hasFusedKernel(K.matMulBiasAdd, matMulBiasAddGradConfig) && selectedTiling() !== undefined;
}

/** x W + b's gradients (shared by both ops): dx = dy Wᵀ, dW = xᵀ dy, db = column sums of dy. */
function linearGrads(dy: tf.Tensor, saved: tf.Tensor[]): Record<string, () => tf.Tensor> {
  const [x, w] = saved as [tf.Tensor2D, tf.Tensor2D];
  const d = dy as tf.Tensor2D;
  return { x: () => tf.matMul(d, w, false, true), w: () => tf.matMul(x, d, true, false), bias: () => columnSum(d) };
}

const matMulBiasGradConfig: tf.GradConfig = {
  kernelName: K.matMulBias,
  inputsToSave: ['x', 'w'],
  gradFunc: (dy, saved) => linearGrads(dy as tf.Tensor, saved),
};

const matMulBiasAddGradConfig: tf.GradConfig = {
  kernelName: K.matMulBiasAdd,
  inputsToSave: ['x', 'w'],
  // The residual's gradient is dy, under its own handle (as tfjs's Add gradient hands it on).
  gradFunc: (dy, saved) => ({ ...linearGrads(dy as tf.Tensor, saved), residual: () => tf.reshape(dy as tf.Tensor, (dy as tf.Tensor).shape) }),
};
