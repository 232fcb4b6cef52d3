/**
 * LCM's regression loss: squared error summed over the embedding dims, summed over the target
 * sentences, divided by the number of target sentences (padding and non-targets masked out).
 */
import * as tf from '@tensorflow/tfjs-core';

// pred, target: [batch, seq, dEmb]; mask: [batch, seq] (1 = a target sentence) -> scalar
export function maskedSquaredError(pred: tf.Tensor3D, target: tf.Tensor3D, mask: tf.Tensor2D): tf.Scalar {
  if (!tf.util.arraysEqual(pred.shape, target.shape)) throw new Error(`loss: prediction [${pred.shape}] and target [${target.shape}] differ`);
  return tf.tidy(() => {
    const perSentence = tf.sum(tf.square(tf.sub(pred, target)), -1); // [batch, seq]
    const count = tf.maximum(tf.sum(mask), 1);
    return tf.div(tf.sum(tf.mul(perSentence, mask)), count) as tf.Scalar;
  });
}
