/**
 * Base-LCM (the MSE head): prenet -> causal decoder -> postnet, regressing the next sentence's
 * normalised embedding. It predicts the conditional mean, so it gets the lowest L2 but blurs
 * between plausible continuations (the diffusion heads exist to fix that).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Linear, parseConfig } from '@sentencelab/tensor';
import type { ConceptBatch } from './batches.js';
import { baseLcmConfigSchema, type BaseLcmConfig, type BaseLcmConfigInput } from './config.js';
import { ConceptDecoder } from './decoder.js';
import { maskedSquaredError } from './losses.js';
import { ConceptModel, type ConceptSpace, type LossResult } from './model.js';

/** Parameters: `decoder.*` (prenet, positions, stack), `postnet`. */
export class BaseLcm extends ConceptModel<BaseLcmConfig> {
  readonly decoder: ConceptDecoder;
  readonly postnet: Linear;

  /** `config` is parsed with the schema, so a partial object gets the defaults. */
  constructor(config: BaseLcmConfigInput, space: ConceptSpace) {
    super(parseConfig(baseLcmConfigSchema, config, 'base-lcm'), space);
    const c = this.config;
    this.decoder = this.addModule('decoder', new ConceptDecoder({ ...c, maxLen: c.maxSentences, rng: this.rng }));
    this.postnet = this.addModule('postnet', new Linear({ inFeatures: c.dModel, outFeatures: c.dEmb, rng: this.rng }));
  }

  // x: [batch, n, dEmb] normalised -> [batch, n, dEmb]; output k predicts sentence k + 1.
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => this.postnet.forward(this.decoder.forward(x)) as tf.Tensor3D);
  }

  /**
   * What each decoder layer would predict (a lens): every layer's state (final norm applied, see
   * `ConceptDecoder.layerStates`) through the postnet. x: [batch, n, dEmb] normalised ->
   * layers x [batch, n, dEmb] normalised; the last equals `forward(x)`.
   */
  layerPredictions(x: tf.Tensor3D): tf.Tensor3D[] {
    return tf.tidy(() => this.decoder.layerStates(x).map((h) => this.postnet.forward(h) as tf.Tensor3D));
  }

  loss(batch: ConceptBatch): LossResult {
    const [b, s, d] = batch.x.shape;
    if (s < 2) throw new Error(`Base-LCM loss: windows of ${s} sentence(s) have no target`);
    return tf.tidy((): LossResult => {
      const x = this.normalizer.normalize(batch.x) as tf.Tensor3D;
      // Sentence 0 is context only: predictions from 0..s-2 meet targets 1..s-1.
      const pred = this.forward(tf.slice(x, [0, 0, 0], [b, s - 1, d]));
      const target = tf.slice(x, [0, 1, 0], [b, s - 1, d]) as tf.Tensor3D;
      const mask = tf.slice(batch.mask, [0, 1], [b, s - 1]) as tf.Tensor2D;
      return { loss: maskedSquaredError(pred, target, mask), metrics: { targets: tf.sum(mask) as tf.Scalar } };
    });
  }

  async predictNormalized(context: tf.Tensor3D, lastOnly: boolean): Promise<tf.Tensor3D> {
    return tf.tidy(() => {
      const out = this.forward(context);
      const [b, n, d] = out.shape;
      return lastOnly ? (tf.slice(out, [0, n - 1, 0], [b, 1, d]) as tf.Tensor3D) : out;
    });
  }
}
