/**
 * The energy score, CALM's training objective for its generative head (Shao et al. 2025,
 * arXiv 2510.27688; Gneiting & Raftery 2007): a strictly proper scoring rule that needs only
 * samples of the model, no likelihood. For N samples x_1..x_N the head drew for one position and
 * that position's target y, the loss is
 *   2/N sum_i ||x_i - y||^beta  -  1/(N (N - 1)) sum_{i != j} ||x_i - x_j||^beta
 * (beta in (0, 2); CALM: 1). The first term pulls every sample towards the target, the second
 * pushes the samples apart, so the expected loss is lowest when the samples follow the true
 * conditional distribution: the head learns that distribution, not only its mean (which is what
 * MSE learns, blurring between plausible continuations).
 *
 * The target can itself be a distribution given by draws: CALM scores against 100 draws of its
 * VAE's posterior for the target chunk, so the first term averages over samples and draws alike,
 *   2/(N M) sum_i sum_k ||x_i - y_k||^beta
 * (the expected energy score over the target distribution, up to a term without the model).
 */
import * as tf from '@tensorflow/tfjs-core';

// Below this squared distance two vectors count as coinciding: distance 0 with a zero gradient
// (as PyTorch's norm gives at 0), where the square root's own gradient is infinite (two samples
// alike, as every sample is before training moves the head off its zero output). The root is
// taken of 1 there instead, so no infinity reaches the chain rule.
const COINCIDE = 1e-12;

/** squared^(beta / 2), 0 (and no gradient) where squared is 0. Any shape. */
function rootOf(squared: tf.Tensor, beta: number): tf.Tensor {
  return tf.tidy(() => {
    const apart = tf.step(tf.sub(squared, COINCIDE)); // 1 apart, 0 coinciding; its own gradient is 0
    const norm = tf.mul(tf.sqrt(tf.add(tf.mul(squared, apart), tf.sub(1, apart))), apart);
    return beta === 1 ? norm : tf.pow(norm, beta);
  });
}

/** ||a||^beta over the last axis, 0 (and no gradient) where ||a|| is 0. [..., d] -> [...]. */
function distance(diff: tf.Tensor, beta: number): tf.Tensor {
  return tf.tidy(() => rootOf(tf.sum(tf.square(diff), -1), beta));
}

/**
 * Mean over i and k of ||x_i - y_k||^beta for each position, through one batched matrix product
 * (||x||^2 + ||y||^2 - 2 x.y) rather than the [N, M, m, d] differences (100 draws of 128-d targets
 * for 8 samples at 248 positions: 25M floats, against the product's 0.2M).
 * samples: [N, m, d], draws: [M, m, d] -> [m].
 */
function meanDistanceToDraws(samples: tf.Tensor3D, draws: tf.Tensor3D, beta: number): tf.Tensor1D {
  return tf.tidy(() => {
    const x = tf.transpose(samples, [1, 0, 2]); // [m, N, d]
    const y = tf.transpose(draws, [1, 0, 2]); // [m, M, d]
    const cross = tf.matMul(x, y, false, true); // [m, N, M]
    const squared = tf.add(tf.sub(tf.sum(tf.square(x), -1, true), tf.mul(cross, 2)), tf.expandDims(tf.sum(tf.square(y), -1), 1)); // [m, N, M]
    // Rounding can leave a coinciding pair slightly below 0.
    return tf.mean(rootOf(tf.relu(squared), beta), [1, 2]) as tf.Tensor1D;
  });
}

/**
 * The energy-score loss averaged over the target positions (mask 1).
 * samples: [N, m, d] (N >= 2 draws for each of m positions), target: [m, d] (one target a
 * position) or [M, m, d] (M draws of each position's target distribution), mask: [m] -> scalar.
 */
export function energyScoreLoss(samples: tf.Tensor3D, target: tf.Tensor2D | tf.Tensor3D, mask: tf.Tensor1D, beta = 1): tf.Scalar {
  const [n, m, d] = samples.shape;
  if (n < 2) throw new Error(`energy score: needs at least 2 samples per position, got ${n}`);
  const [tm, td] = target.shape.slice(-2);
  if (tm !== m || td !== d) throw new Error(`energy score: samples [${samples.shape}] and target [${target.shape}] differ`);
  if (mask.shape[0] !== m) throw new Error(`energy score: mask [${mask.shape}] needs one value per position (${m})`);
  if (!(beta > 0 && beta < 2)) throw new Error(`energy score: beta must be in (0, 2), got ${beta}`);
  return tf.tidy(() => {
    // [N, m]: each sample's distance to its target, averaged over the samples -> [m]; or over
    // the samples and the target's draws.
    const attract =
      target.rank === 2 ? tf.mean(distance(tf.sub(samples, tf.expandDims(target, 0)), beta), 0) : meanDistanceToDraws(samples, target as tf.Tensor3D, beta);
    // [N, N, m]: every pair of samples of a position; the diagonal (a sample and itself) left out
    const pairs = distance(tf.sub(tf.expandDims(samples, 1), tf.expandDims(samples, 0)), beta);
    const offDiagonal = tf.expandDims(tf.sub(1, tf.eye(n)), 2);
    const repel = tf.div(tf.sum(tf.mul(pairs, offDiagonal), [0, 1]), n * (n - 1));
    const perPosition = tf.sub(tf.mul(attract, 2), repel); // [m]
    return tf.div(tf.sum(tf.mul(perPosition, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}
