import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean token cross-entropy. logits: [..., vocab], targets: int32 [...] (same leading shape).
 * Targets equal to `ignoreIndex` (default -1) do not count.
 */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor, ignoreIndex = -1): tf.Scalar {
  return tf.tidy(() => {
    const vocab = logits.shape[logits.rank - 1]!;
    const flat = tf.reshape(logits, [-1, vocab]);
    const t = tf.reshape(targets, [-1]);
    const valid = tf.cast(tf.notEqual(t, ignoreIndex), 'float32');
    // One-hot keeps the backward pass to element-wise ops (no gather gradient needed).
    const onehot = tf.oneHot(tf.maximum(t, tf.scalar(0, 'int32')) as tf.Tensor1D, vocab);
    const logp = tf.logSoftmax(flat);
    const nll = tf.neg(tf.sum(tf.mul(logp, onehot), 1));
    return tf.div(tf.sum(tf.mul(nll, valid)), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  });
}
