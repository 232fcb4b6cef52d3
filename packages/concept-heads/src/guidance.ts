/**
 * Classifier-free guidance (Ho & Salimans 2022) with guidance rescale (Lin et al. 2023):
 *   g   = uncond + scale * (cond - uncond)
 *   out = phi * g * std(cond) / std(g) + (1 - phi) * g        (std per row, over the vector dims)
 * Rescaling pulls the guided prediction's spread back to the conditional one's, which keeps high
 * guidance scales from overshooting. scale = 1 gives cond; phi = 0 turns the rescale off.
 */
import * as tf from '@tensorflow/tfjs-core';

// cond, uncond: [n, d] -> [n, d]
export function classifierFreeGuidance(cond: tf.Tensor2D, uncond: tf.Tensor2D, scale: number, rescale: number): tf.Tensor2D {
  if (!(rescale >= 0 && rescale <= 1)) throw new Error(`guidance rescale must be in [0, 1], got ${rescale}`);
  return tf.tidy(() => {
    const guided = tf.add(uncond, tf.mul(tf.sub(cond, uncond), scale));
    if (rescale === 0) return guided as tf.Tensor2D;
    const std = (x: tf.Tensor) => tf.sqrt(tf.moments(x, -1, true).variance);
    // A constant row has std 0; the epsilon keeps the ratio finite (and ~1 when both are 0).
    const ratio = tf.div(tf.add(std(cond), 1e-12), tf.add(std(guided), 1e-12));
    const rescaled = tf.mul(guided, ratio);
    return tf.add(tf.mul(rescaled, rescale), tf.mul(guided, 1 - rescale)) as tf.Tensor2D;
  });
}
