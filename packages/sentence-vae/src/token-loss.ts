import * as tf from '@tensorflow/tfjs-core';
import { focalLoss } from '@sentencelab/tensor';
import type { LossConfig } from './config.js';

/**
 * log p(target) under softmax(logits), per position.
 * logits: [N, V], targets: int32 [N] -> [N].
 * A one-hot product instead of a gather keeps the backward pass element-wise on every backend.
 */
export function targetLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const vocab = logits.shape[1];
    return tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, vocab)), 1) as tf.Tensor1D;
  });
}

/**
 * The configured token loss summed over rows (every row counts): logits [N, V], targets int32 [N] -> scalar.
 * cross-entropy: -log p; focal: -(1 - p)^gamma log p (Lin et al. 2017; the paper's loss, here
 * without the published code's eps inside the log). One fused kernel, forward and backward,
 * without a one-hot tensor, on the native and webgpu backends (`focalLoss` in @sentencelab/tensor).
 */
export function tokenLoss(logits: tf.Tensor2D, targets: tf.Tensor1D, loss: LossConfig): tf.Scalar {
  return tf.tidy(() => tf.mul(focalLoss(logits, targets, focalGamma(loss)), targets.shape[0]) as tf.Scalar);
}

/** The focal exponent a loss config trains with: 0 for cross-entropy (or focal with gamma 0). */
export function focalGamma(loss: LossConfig): number {
  return loss.type === 'focal' ? loss.gamma : 0;
}
