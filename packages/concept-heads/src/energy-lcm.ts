/**
 * The energy head (CALM, arXiv 2510.27688, over sentence vectors): a causal decoder reads the
 * context; for each position an MLP generator turns uniform noise, conditioned on the decoder's
 * state, into a sample of the next sentence's normalised embedding. Trained with the energy
 * score (energy-score.ts) on `generator.samples` draws per position, it learns the distribution
 * of the next embedding, as a diffusion head does, but draws a sample in one forward pass. The
 * targets are the SentenceVAE's vectors (its posterior means for a variational one), or with
 * `generator.targetDraws` (CALM: 100) that many draws of each target's posterior, fresh every
 * step, as CALM trains (batches then carry the posterior's std).
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig, Rng } from '@sentencelab/tensor';
import type { ConceptBatch } from './batches.js';
import { energyLcmConfigSchema, type EnergyLcmConfig, type EnergyLcmConfigInput } from './config.js';
import { ConceptDecoder } from './decoder.js';
import { EnergyGenerator } from './energy-generator.js';
import { energyScoreLoss } from './energy-score.js';
import { ConceptModel, type ConceptSampleOptions, type ConceptSpace, type LossResult } from './model.js';

/** Parameters: `decoder.*` (prenet, positions, stack), `generator.*`. */
export class EnergyLcm extends ConceptModel<EnergyLcmConfig> {
  readonly decoder: ConceptDecoder;
  readonly generator: EnergyGenerator;

  /** `config` is parsed with the schema, so a partial object gets the defaults. */
  constructor(config: EnergyLcmConfigInput, space: ConceptSpace) {
    super(parseConfig(energyLcmConfigSchema, config, 'energy'), space);
    const c = this.config;
    this.decoder = this.addModule('decoder', new ConceptDecoder({ ...c, maxLen: c.maxSentences, rng: this.rng }));
    this.generator = this.addModule('generator', new EnergyGenerator({ dModel: c.dModel, dEmb: c.dEmb, ...c.generator, rng: this.rng }));
  }

  /**
   * `samples` draws per position from the noise generator `rng`: h [m, dModel] ->
   * [samples, m, dEmb] (normalised space), sample-major.
   */
  sample(h: tf.Tensor2D, samples: number, rng: Rng): tf.Tensor3D {
    const [m, d] = h.shape;
    return tf.tidy(() => {
      const cond = samples === 1 ? h : (tf.reshape(tf.tile(tf.expandDims(h, 0), [samples, 1, 1]), [samples * m, d]) as tf.Tensor2D);
      const out = this.generator.forward(cond, this.generator.noise(samples * m, rng));
      return tf.reshape(out, [samples, m, this.config.dEmb]) as tf.Tensor3D;
    });
  }

  loss(batch: ConceptBatch): LossResult {
    const [b, s, d] = batch.x.shape;
    if (s < 2) throw new Error(`energy head loss: windows of ${s} sentence(s) have no target`);
    const m = b * (s - 1);
    return tf.tidy((): LossResult => {
      const x = this.normalizer.normalize(batch.x) as tf.Tensor3D;
      // Sentence 0 is context only: the states of 0..s-2 predict sentences 1..s-1.
      const h = tf.reshape(this.decoder.forward(tf.slice(x, [0, 0, 0], [b, s - 1, d])), [m, this.config.dModel]) as tf.Tensor2D;
      const target = tf.slice(x, [0, 1, 0], [b, s - 1, d]) as tf.Tensor3D;
      const mask = tf.reshape(tf.slice(batch.mask, [0, 1], [b, s - 1]), [m]) as tf.Tensor1D;
      const samples = this.sample(h, this.config.generator.samples, this.rng);
      const draws = this.config.generator.targetDraws;
      // [draws, m, d] draws of each target's posterior (CALM), else [m, d] the targets themselves.
      const targets = draws > 0 ? (tf.reshape(this.targetPosteriorDraws(target, batch, draws, `generator.targetDraws is ${draws}`), [draws, m, d]) as tf.Tensor3D) : (tf.reshape(target, [m, d]) as tf.Tensor2D);
      return { loss: energyScoreLoss(samples, targets, mask, this.config.generator.beta), metrics: { targets: tf.sum(mask) as tf.Scalar } };
    });
  }

  /**
   * What each decoder layer's state would sample (a lens): every layer's state (final norm
   * applied, see `ConceptDecoder.layerStates`) through the generator, every row with the same
   * noise, the first draw of `seed` (default config.seed), so rows differ only by the state.
   * x: [batch, n, dEmb] normalised -> layers x [batch, n, dEmb] normalised; the last layer's
   * row at a position is what `generate` samples first after sentences 0..position at that seed.
   */
  layerPredictions(x: tf.Tensor3D, seed = this.config.seed): tf.Tensor3D[] {
    const [b, n] = x.shape;
    return tf.tidy(() => {
      const noise = tf.tile(this.generator.noise(1, new Rng(seed)), [b * n, 1]) as tf.Tensor2D;
      return this.decoder.layerStates(x).map((h) => tf.reshape(this.generator.forward(tf.reshape(h, [b * n, this.config.dModel]) as tf.Tensor2D, noise), [b, n, this.config.dEmb]) as tf.Tensor3D);
    });
  }

  /** One sample per position, its noise drawn from `options.seed` (default config.seed). */
  async predictNormalized(context: tf.Tensor3D, lastOnly: boolean, options: ConceptSampleOptions = {}): Promise<tf.Tensor3D> {
    const rng = new Rng(options.seed ?? this.config.seed);
    return tf.tidy(() => {
      const h = this.decoder.forward(context);
      const [b, n, dModel] = h.shape;
      const rows = lastOnly ? (tf.slice(h, [0, n - 1, 0], [b, 1, dModel]) as tf.Tensor3D) : h;
      const k = lastOnly ? 1 : n;
      const out = this.sample(tf.reshape(rows, [b * k, dModel]) as tf.Tensor2D, 1, rng);
      return tf.reshape(out, [b, k, this.config.dEmb]) as tf.Tensor3D;
    });
  }
}
