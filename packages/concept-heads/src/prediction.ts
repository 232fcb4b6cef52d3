/**
 * What the denoiser predicts, and the conversions between the three parameterisations.
 * With a = alphaBar_t and x_t = sqrt(a) x0 + sqrt(1-a) eps:
 *   x0      : the clean vector (LCM's choice; well defined even at a = 0)
 *   epsilon : the noise; x0 = (x_t - sqrt(1-a) eps) / sqrt(a)  (undefined at a = 0)
 *   v       : sqrt(a) eps - sqrt(1-a) x0; x0 = sqrt(a) x_t - sqrt(1-a) v, eps = sqrt(1-a) x_t + sqrt(a) v
 */
import * as tf from '@tensorflow/tfjs-core';

export type PredictionKind = 'x0' | 'epsilon' | 'v';

/** sqrt(a) and sqrt(1-a) as scalars (one timestep for all rows) or tensors broadcastable to x. */
export interface NoiseLevel {
  signal: number | tf.Tensor;
  noise: number | tf.Tensor;
}

export function noiseLevel(alphaBar: number): { signal: number; noise: number } {
  return { signal: Math.sqrt(alphaBar), noise: Math.sqrt(1 - alphaBar) };
}

/** x_t = signal * x0 + noise * eps. All tensors share x0's shape. */
export function addNoise(x0: tf.Tensor, eps: tf.Tensor, level: NoiseLevel): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(x0, level.signal), tf.mul(eps, level.noise)));
}

/** The regression target for `kind`, given the clean x0 and the noise eps that made x_t. */
export function predictionTarget(kind: PredictionKind, x0: tf.Tensor, eps: tf.Tensor, level: NoiseLevel): tf.Tensor {
  switch (kind) {
    case 'x0':
      return x0.clone();
    case 'epsilon':
      return eps.clone();
    case 'v':
      return tf.tidy(() => tf.sub(tf.mul(eps, level.signal), tf.mul(x0, level.noise)));
  }
}

/**
 * Turn a model output of `kind` at noise level `level` into (x0, eps). `level` must be scalars
 * here (the sampler's single timestep); epsilon at zero signal has no x0 and throws.
 */
export function outputToX0Eps(
  kind: PredictionKind,
  output: tf.Tensor,
  xt: tf.Tensor,
  level: { signal: number; noise: number },
): { x0: tf.Tensor; eps: tf.Tensor } {
  const { signal, noise } = level;
  return tf.tidy(() => {
    switch (kind) {
      case 'x0': {
        const x0 = output.clone();
        // At zero noise eps is irrelevant to DDIM (its coefficient is 0); keep it finite.
        const eps = noise > 0 ? tf.div(tf.sub(xt, tf.mul(output, signal)), noise) : tf.zerosLike(xt);
        return { x0, eps };
      }
      case 'epsilon': {
        if (!(signal > 0)) throw new Error('prediction "epsilon" has no x0 at alphaBar = 0 (zero terminal SNR): use x0 or v');
        return { x0: tf.div(tf.sub(xt, tf.mul(output, noise)), signal), eps: output.clone() };
      }
      case 'v':
        return {
          x0: tf.sub(tf.mul(xt, signal), tf.mul(output, noise)),
          eps: tf.add(tf.mul(xt, noise), tf.mul(output, signal)),
        };
    }
  });
}
