import * as tf from '@tensorflow/tfjs-core';

/**
 * `memory` with Gaussian noise of `sigma` times each vector's own RMS added:
 * z_i + sigma * rms(z_i) * eps_i, rms(z_i) = sqrt(mean_j z_ij^2). memory, eps: [n, d] -> [n, d].
 * Relative to each vector's scale, so models whose vectors have different norms compare, and an
 * encoder trained under it cannot drown the noise by growing its vectors (the noise grows too).
 * Used by the noise-robustness measure (`vectorNoise`) and by training under `latentNoise`.
 */
export function noisyVectors(memory: tf.Tensor2D, sigma: number, eps: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const rms = tf.sqrt(tf.mean(tf.square(memory), 1, true)); // [n, 1]
    return tf.add(memory, tf.mul(tf.mul(rms, sigma), eps));
  });
}
