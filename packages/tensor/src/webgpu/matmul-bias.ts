/**
 * A Linear layer's x W + b in one dispatch: tfjs-webgpu's own fused matmul (`_FusedMatMul`,
 * bias added in the matmul's epilogue), or the tiled matmul with the same epilogue when
 * `SL_WEBGPU_MATMUL` selects one (./matmul.ts), run under this package's kernel name so its
 * gradient can be registered here (tfjs attaches the fused op's gradient to the op, not to the
 * kernel).
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectedTiling, tiledMatMul } from './matmul.js';

/** SlMatMulBias (x [rows, in], w [in, out], bias [out]) -> [rows, out]. */
export function matMulBiasForward(backend: unknown, x: tf.TensorInfo, w: tf.TensorInfo, bias: tf.TensorInfo): tf.TensorInfo {
  const tiling = selectedTiling();
  const tiled = tiling === undefined ? undefined : tiledMatMul(backend, x, w, false, false, tiling, bias);
  if (tiled !== undefined) return tiled;
  const k = tf.getKernel(tf._FusedMatMul, 'webgpu');
  if (k === undefined) throw new Error('SlMatMulBias: the webgpu backend has no _FusedMatMul kernel');
  const attrs = { transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0 };
  return k.kernelFunc({ inputs: { a: x, b: w, bias }, backend: backend as tf.KernelBackend, attrs }) as tf.TensorInfo;
}
