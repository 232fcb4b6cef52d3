import type * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';

/**
 * Mean token cross-entropy. logits: [..., vocab], targets: int32 [...] (same leading shape).
 * Targets equal to `ignoreIndex` (default -1) do not count. Fused (no one-hot) on native and webgpu.
 */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor, ignoreIndex = -1): tf.Scalar {
  return softmaxCrossEntropy(logits, targets, ignoreIndex);
}

/**
 * Mean focal loss -(1 - p)^gamma log p (Lin et al. 2017), p the softmax probability of the
 * target; gamma 0 is {@link crossEntropy}. Shapes and `ignoreIndex` as there. Fused (no one-hot)
 * on native and webgpu.
 */
export function focalLoss(logits: tf.Tensor, targets: tf.Tensor, gamma: number, ignoreIndex = -1): tf.Scalar {
  return softmaxCrossEntropy(logits, targets, ignoreIndex, gamma);
}
