/**
 * DDIM sampling (Song et al. 2021) over a discrete schedule.
 *
 * One step from timestep t to the previous one (alphaBar a_t -> a_p; a_p = 1 after the last):
 *   sigma  = eta * sqrt((1 - a_p) / (1 - a_t)) * sqrt(1 - a_t / a_p)
 *   x_prev = sqrt(a_p) * x0 + sqrt(1 - a_p - sigma^2) * eps + sigma * z
 * where (x0, eps) come from the model output (see prediction.ts). The last step lands on a_p = 1,
 * so an exact x0 prediction returns x0 exactly, whatever eta.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@sentencelab/tensor';
import { noiseLevel, outputToX0Eps, type PredictionKind } from './prediction.js';
import type { NoiseSchedule } from './schedule.js';

export type TimestepSpacing = 'trailing' | 'leading';

/**
 * The inference timesteps, descending. trailing: round(T - k T/n) - 1 (starts at T-1, the pure
 * noise step under zero terminal SNR); leading: k * floor(T/n), reversed (never reaches T-1).
 */
export function ddimTimesteps(trainSteps: number, steps: number, spacing: TimestepSpacing): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > trainSteps) {
    throw new Error(`sampling.steps must be an integer in [1, ${trainSteps}] (the training steps), got ${steps}`);
  }
  const out: number[] = [];
  if (spacing === 'trailing') {
    for (let k = 0; k < steps; k++) out.push(Math.round(trainSteps - (k * trainSteps) / steps) - 1);
  } else if (spacing === 'leading') {
    const ratio = Math.floor(trainSteps / steps);
    for (let k = steps - 1; k >= 0; k--) out.push(k * ratio);
  } else {
    throw new Error(`sampling.spacing must be trailing | leading, got ${String(spacing)}`);
  }
  return out;
}

export interface DdimCoefficients {
  /** sqrt(a_p): weight of the predicted x0. */
  x0: number;
  /** sqrt(1 - a_p - sigma^2): weight of the predicted noise. */
  eps: number;
  /** Standard deviation of the fresh noise. */
  sigma: number;
}

export function ddimCoefficients(alphaBarT: number, alphaBarPrev: number, eta: number): DdimCoefficients {
  const variance = alphaBarT < 1 ? ((1 - alphaBarPrev) / (1 - alphaBarT)) * (1 - alphaBarT / alphaBarPrev) : 0;
  const sigma = eta * Math.sqrt(Math.max(0, variance));
  return { x0: Math.sqrt(alphaBarPrev), eps: Math.sqrt(Math.max(0, 1 - alphaBarPrev - sigma * sigma)), sigma };
}

export interface DdimOptions {
  schedule: NoiseSchedule;
  prediction: PredictionKind;
  /** Number of denoising steps. */
  steps: number;
  /** 0 = deterministic DDIM, 1 = DDPM-like ancestral noise. */
  eta: number;
  spacing: TimestepSpacing;
  /** The initial x_T is initialNoiseScale * N(0, I) (LCM: 0.6). */
  initialNoiseScale: number;
  rng: Rng;
}

/**
 * The model as the sampler sees it: the current noisy x_t ([n, d]) and its timestep -> the
 * model output in the `prediction` parameterisation ([n, d]). The sampler disposes the output.
 */
export type Denoiser = (xt: tf.Tensor2D, t: number) => tf.Tensor2D | Promise<tf.Tensor2D>;

/** Runs the full DDIM chain from noise and returns x0 ([rows, dim]); the caller disposes it. */
export async function ddimSample(denoise: Denoiser, rows: number, dim: number, options: DdimOptions): Promise<tf.Tensor2D> {
  const { schedule, prediction, eta, rng } = options;
  if (!(eta >= 0)) throw new Error(`sampling.eta must be >= 0, got ${eta}`);
  const timesteps = ddimTimesteps(schedule.steps, options.steps, options.spacing);
  let x = tf.tensor2d(rng.normalArray(rows * dim, 0, options.initialNoiseScale), [rows, dim]);
  for (let k = 0; k < timesteps.length; k++) {
    const t = timesteps[k]!;
    const tPrev = timesteps[k + 1];
    const aT = schedule.alphaBar[t]!;
    const aPrev = tPrev === undefined ? 1 : schedule.alphaBar[tPrev]!;
    const output = await denoise(x, t);
    const c = ddimCoefficients(aT, aPrev, eta);
    const z = c.sigma > 0 ? rng.normalArray(rows * dim) : null;
    const next = tf.tidy(() => {
      const { x0, eps } = outputToX0Eps(prediction, output, x, noiseLevel(aT));
      let out = tf.add(tf.mul(x0, c.x0), tf.mul(eps, c.eps));
      if (z) out = tf.add(out, tf.mul(tf.tensor2d(z, [rows, dim]), c.sigma));
      return out as tf.Tensor2D;
    });
    output.dispose();
    x.dispose();
    x = next;
  }
  return x;
}
