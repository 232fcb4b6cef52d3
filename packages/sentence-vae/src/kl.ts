import * as tf from '@tensorflow/tfjs-core';
import type { FreeBitsPer, KlConfig } from './config.js';

/**
 * KL(N(mean, exp(logVar)) || N(0, I)) per sentence and dimension:
 * 0.5 (mean² + exp(logVar) - 1 - logVar).
 * mean, logVar: [n, d] -> [n, d].
 */
export function gaussianKl(mean: tf.Tensor2D, logVar: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(0.5, tf.sub(tf.sub(tf.add(tf.square(mean), tf.exp(logVar)), 1), logVar)) as tf.Tensor2D);
}

/**
 * The KL term the loss adds, summed over the n sentences, with free bits lambda (Kingma et al.
 * 2016) counted `per`:
 * - 'batch': n * sum_j max(lambda, mean_i KL_ij): a dimension whose batch-mean KL is below lambda
 *   costs lambda and gets no gradient pushing it further down;
 * - 'sentence': sum_ij max(lambda, KL_ij), as CALM clamps (arXiv 2510.27688, its `kl_clamp`):
 *   each sentence's dimension is held at lambda on its own, so one sentence far from the prior
 *   does not pull the others' KL down.
 * Equal when lambda is 0. kl: [n, d] -> scalar.
 */
export function klTerm(kl: tf.Tensor2D, freeBits: number, per: FreeBitsPer = 'batch'): tf.Scalar {
  return tf.tidy(() => {
    if (per === 'sentence') return tf.sum(freeBits > 0 ? tf.maximum(kl, freeBits) : kl) as tf.Scalar;
    const n = kl.shape[0];
    const perDim = tf.mean(kl, 0);
    const clamped = freeBits > 0 ? tf.maximum(perDim, freeBits) : perDim;
    return tf.mul(tf.sum(clamped), n) as tf.Scalar;
  });
}

/** beta at `step`: linear warm-up from 0 to `weight` over `annealSteps` steps (0 = full weight at once). */
export function klWeight(kl: KlConfig, step: number): number {
  if (kl.annealSteps === 0) return kl.weight;
  return kl.weight * Math.min(1, Math.max(0, step) / kl.annealSteps);
}

/**
 * Reparameterised sample z = mean + exp(logVar / 2) * eps, with eps ~ N(0, I) given by the
 * caller (drawn from a seeded Rng, so runs repeat exactly on every backend).
 * mean, logVar, eps: [n, d] -> [n, d].
 */
export function reparameterise(mean: tf.Tensor2D, logVar: tf.Tensor2D, eps: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)) as tf.Tensor2D);
}
