import type * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';

/**
 * Mean token cross-entropy. logits: [..., vocab], targets: int32 [...] (same leading shape).
 * Targets equal to `ignoreIndex` (default -1) do not count. Fused (no one-hot) on webgpu.
 */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor, ignoreIndex = -1): tf.Scalar {
  return softmaxCrossEntropy(logits, targets, ignoreIndex);
}
