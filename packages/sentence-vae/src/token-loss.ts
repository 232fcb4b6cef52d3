import * as tf from '@tensorflow/tfjs-core';
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
 * Summed token loss. logp: [N] log-probabilities of the targets -> scalar.
 * cross-entropy: -log p; focal: -(1 - p)^gamma log p (Lin et al. 2017; the paper's loss, here
 * without the published code's eps inside the log).
 */
export function tokenLoss(logp: tf.Tensor1D, loss: LossConfig): tf.Scalar {
  return tf.tidy(() => {
    let perToken: tf.Tensor = tf.neg(logp);
    if (loss.type === 'focal' && loss.gamma !== 0) {
      // 1 - p clamped at 0: exp(logp) can round above 1 by an ulp, and pow of a negative base is NaN.
      const weight = tf.pow(tf.relu(tf.sub(1, tf.exp(logp))), loss.gamma);
      perToken = tf.mul(weight, perToken);
    }
    return tf.sum(perToken) as tf.Scalar;
  });
}
