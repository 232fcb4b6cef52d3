import * as tf from '@tensorflow/tfjs-core';
import { rawAvailable } from '../webgpu/raw.js';
import { registerWebgpuKernels } from '../webgpu/register.js';

const gradientsDone = new Set<string>();

/**
 * Whether the active backend has fused kernel `name` (registering this package's kernels and
 * the op's gradient first, once). Ops take the composite path when it returns false, so
 * backends without the kernels compute exactly what they did before the fused ops existed; so
 * does a webgpu backend other than the 4.22 one the kernels are written against. The kernels
 * are this package's on webgpu and @sentencelab/backend-native's C++ ones on `native`.
 */
export function hasFusedKernel(name: string, gradient?: tf.GradConfig): boolean {
  registerWebgpuKernels();
  const backendName = tf.getBackend();
  if (tf.getKernel(name, backendName) === undefined) return false;
  if (backendName === 'webgpu' && !rawAvailable(tf.backend())) return false;
  if (gradient !== undefined && !gradientsDone.has(name)) {
    gradientsDone.add(name);
    if (tf.getGradient(name) === undefined) tf.registerGradient(gradient);
  }
  return true;
}

/** Runs a fused kernel through the engine (so it is taped for gradients and profiled). */
export function runFused(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): tf.Tensor | tf.Tensor[] {
  return tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
}
