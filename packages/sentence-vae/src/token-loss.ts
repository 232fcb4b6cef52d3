import * as tf from '@tensorflow/tfjs-core';
import { focalLoss } from '@sentencelab/tensor';
import type { LossConfig } from './config.js';

/**
 * log p(target) under softmax(logits), per position.
 * logits: [N, V], targets: int32 [N] -> [N].
 * The log-softmax read at each row's target by a gather over the flattened [N * V] values: no
 * [N, V] one-hot or product (scoring reads this for every token). Differentiable (the gather's
 * gradient scatters back), though training losses go through {@link tokenLoss}'s fused kernel.
 */
export function targetLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const [rows, vocab] = logits.shape;
    if (targets.shape[0] !== rows) throw new Error(`targetLogProbs: logits [${logits.shape}] need one target per row, but targets are [${targets.shape}]`);
    // flat index of (row i, target t_i): i * V + t_i
    const at = tf.add(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(vocab, 'int32')), tf.cast(targets, 'int32'));
    return tf.gather(tf.reshape(tf.logSoftmax(logits), [rows * vocab]), at) as tf.Tensor1D;
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
