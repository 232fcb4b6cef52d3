/**
 * The training objective and sampler shared by the two diffusion heads.
 *
 * Training: each target sentence gets its own timestep t ~ U{0..T-1} and noise eps;
 * x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps; the denoiser sees x_t, t and the clean context before
 * it and regresses the `prediction` target (x0 by default) with LCM's summed squared error.
 * With `posteriorTargets`, x0 is one fresh draw of each target's posterior (a variational
 * SentenceVAE's), not its mean: the head learns the distribution the SentenceVAE decodes from.
 * A share `guidance.conditionDropout` of the rows loses its context (training mode only), which
 * teaches the unconditional prediction that classifier-free guidance needs.
 * Sampling: DDIM from initialNoiseScale * N(0, I), guided by cond/uncond passes in one batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@sentencelab/tensor';
import type { ConceptBatch } from './batches.js';
import type { DiffusionConfig } from './config.js';
import { ddimSample, type Denoiser } from './ddim.js';
import { classifierFreeGuidance } from './guidance.js';
import { maskedSquaredError } from './losses.js';
import { ConceptModel, type ConceptSpace, type LossResult, type ConceptSampleOptions } from './model.js';
import { addNoise, predictionTarget } from './prediction.js';
import { makeSchedule, type NoiseSchedule } from './schedule.js';

export abstract class DiffusionLcm<C extends DiffusionConfig> extends ConceptModel<C> {
  readonly schedule: NoiseSchedule;

  constructor(config: C, space: ConceptSpace) {
    super(config, space);
    this.schedule = makeSchedule(config.schedule);
  }

  /** Whatever the denoiser needs from the clean context [batch, n, dEmb], computed once per prediction. */
  protected abstract prepareContext(context: tf.Tensor3D): tf.Tensor3D;

  /**
   * One denoiser pass. ctx: prepareContext's output for `batch` rows; xt: [rows, m, dEmb], the
   * noisy vectors of the last m of positions 1..n (rows = batch, or 2 batch for guidance:
   * the context repeats); t: [rows * m] timesteps; dropped: [rows], rows without context.
   * -> model output [rows, m, dEmb].
   */
  abstract denoise(ctx: tf.Tensor3D, xt: tf.Tensor3D, t: Float32Array, dropped: boolean[]): tf.Tensor3D;

  /** Runs prepareContext + denoise, for tests and probes: context [b, n, dEmb] normalised. */
  denoiseWithContext(context: tf.Tensor3D, xt: tf.Tensor3D, t: Float32Array, dropped: boolean[]): tf.Tensor3D {
    return tf.tidy(() => this.denoise(this.prepareContext(context), xt, t, dropped));
  }

  loss(batch: ConceptBatch): LossResult {
    const [b, s, d] = batch.x.shape;
    if (s < 2) throw new Error(`diffusion loss: windows of ${s} sentence(s) have no target`);
    const n = s - 1;
    const T = this.schedule.steps;
    const t = new Float32Array(b * n);
    const signal = new Float32Array(b * n);
    const noise = new Float32Array(b * n);
    for (let i = 0; i < b * n; i++) {
      t[i] = this.rng.int(T);
      const a = this.schedule.alphaBar[t[i]!]!;
      signal[i] = Math.sqrt(a);
      noise[i] = Math.sqrt(1 - a);
    }
    const eps = this.rng.normalArray(b * n * d);
    const p = this.config.guidance.conditionDropout;
    const dropped = Array.from({ length: b }, () => this.training && p > 0 && this.rng.uniform() < p);
    return tf.tidy((): LossResult => {
      const x = this.normalizer.normalize(batch.x) as tf.Tensor3D;
      const context = tf.slice(x, [0, 0, 0], [b, n, d]) as tf.Tensor3D;
      const means = tf.slice(x, [0, 1, 0], [b, n, d]) as tf.Tensor3D;
      // The clean targets: the embeddings, or one draw of each target's posterior (posteriorTargets).
      const x0 = this.config.posteriorTargets ? (tf.squeeze(this.targetPosteriorDraws(means, batch, 1, 'posteriorTargets is true'), [0]) as tf.Tensor3D) : means;
      const mask = tf.slice(batch.mask, [0, 1], [b, n]) as tf.Tensor2D;
      const level = { signal: tf.tensor3d(signal, [b, n, 1]), noise: tf.tensor3d(noise, [b, n, 1]) };
      const epsT = tf.tensor3d(eps, [b, n, d]);
      const xt = addNoise(x0, epsT, level) as tf.Tensor3D;
      const out = this.denoise(this.prepareContext(context), xt, t, dropped);
      const loss = maskedSquaredError(out, predictionTarget(this.config.prediction, x0, epsT, level) as tf.Tensor3D, mask);
      return { loss, metrics: { targets: tf.sum(mask) as tf.Scalar, dropped_rows: dropped.filter(Boolean).length } };
    });
  }

  async predictNormalized(context: tf.Tensor3D, lastOnly: boolean, options: ConceptSampleOptions): Promise<tf.Tensor3D> {
    const sampling = { ...this.config.sampling, ...options.sampling };
    const guidance = { ...this.config.guidance, ...options.guidance };
    const [b, n, d] = context.shape;
    const m = lastOnly ? 1 : n;
    const guided = guidance.scale !== 1;
    const dropped = [...Array<boolean>(b).fill(false), ...Array<boolean>(guided ? b : 0).fill(true)];
    const rows = dropped.length;
    const ctx = tf.tidy(() => this.prepareContext(context));
    const denoiser: Denoiser = (xt2d, t) =>
      tf.tidy(() => {
        const xt = tf.reshape(xt2d, [b, m, d]) as tf.Tensor3D;
        const out = this.denoise(ctx, guided ? tf.concat([xt, xt], 0) : xt, new Float32Array(rows * m).fill(t), dropped);
        if (!guided) return tf.reshape(out, [b * m, d]) as tf.Tensor2D;
        const cond = tf.reshape(tf.slice(out, [0, 0, 0], [b, m, d]), [b * m, d]) as tf.Tensor2D;
        const uncond = tf.reshape(tf.slice(out, [b, 0, 0], [b, m, d]), [b * m, d]) as tf.Tensor2D;
        return classifierFreeGuidance(cond, uncond, guidance.scale, guidance.rescale);
      });
    try {
      const x0 = await ddimSample(denoiser, b * m, d, {
        schedule: this.schedule,
        prediction: this.config.prediction,
        steps: sampling.steps,
        eta: sampling.eta,
        spacing: sampling.spacing,
        initialNoiseScale: sampling.initialNoiseScale,
        rng: new Rng(options.seed ?? this.config.seed),
      });
      const out = tf.reshape(x0, [b, m, d]) as tf.Tensor3D;
      x0.dispose();
      return out;
    } finally {
      ctx.dispose();
    }
  }
}

// x: [batch, ...] -> [rows, ...] by repeating the batch rows/batch times (guidance doubles it).
export function repeatRows(x: tf.Tensor3D, rows: number): tf.Tensor3D {
  const b = x.shape[0];
  if (rows === b) return x;
  if (rows % b !== 0) throw new Error(`cannot repeat ${b} context rows to ${rows}`);
  return tf.tile(x, [rows / b, 1, 1]);
}
