/**
 * A Linear layer's x W + b in one dispatch: tfjs-webgpu's own fused matmul (`_FusedMatMul`,
 * bias added in the matmul's epilogue), or the tiled matmul with the same epilogue when
 * `SL_WEBGPU_MATMUL` selects one (./matmul.ts), run under this package's kernel name so its
 * gradient can be registered here (tfjs attaches the fused op's gradient to the op, not to the
 * kernel). With a residual (x W + b + r, a transformer block's projection back into its residual
 * stream) the tiled matmuls add r in the same epilogue.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectedTiling, tiledMatMul } from './matmul.js';

/** SlMatMulBias (x [rows, in], w [in, out], bias [out]) -> [rows, out]. */
export function matMulBiasForward(backend: unknown, x: tf.TensorInfo, w: tf.TensorInfo, bias: tf.TensorInfo): tf.TensorInfo {
  const tiling = selectedTiling();
  const tiled = tiling === undefined ? undefined : tiledMatMul(backend, x, w, tiling, { bias });
  if (tiled !== undefined) return tiled;
  const k = tf.getKernel(tf._FusedMatMul, 'webgpu');
  if (k === undefined) throw new Error('SlMatMulBias: the webgpu backend has no _FusedMatMul kernel');
  const attrs = { transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0 };
  return k.kernelFunc({ inputs: { a: x, b: w, bias }, backend: backend as tf.KernelBackend, attrs }) as tf.TensorInfo;
}

/** SlMatMulBiasAdd (x [rows, in], w [in, out], bias [out], residual [rows, out]) -> x w + bias + residual. */
export function matMulBiasAddForward(backend: unknown, x: tf.TensorInfo, w: tf.TensorInfo, bias: tf.TensorInfo, residual: tf.TensorInfo): tf.TensorInfo {
  const tiling = selectedTiling();
  const tiled = tiling === undefined ? undefined : tiledMatMul(backend, x, w, tiling, { bias, residual });
  if (tiled !== undefined) return tiled;
  // Shapes a tiled matmul does not take: two dispatches, as the composite.
  const y = matMulBiasForward(backend, x, w, bias);
  const out = tf.getKernel(tf.Add, 'webgpu')!.kernelFunc({ inputs: { a: y, b: residual }, backend: backend as tf.KernelBackend, attrs: {} }) as tf.TensorInfo;
  (backend as tf.KernelBackend).disposeData(y.dataId);
  return out;
}
