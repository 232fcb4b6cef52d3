/**
 * Two-tower diffusion LCM. The contextualizer (a causal decoder) reads the clean context; the
 * denoiser reads one noisy vector per position, attends only to itself, cross-attends to
 * [zero vector, h_0 .. h_{n-1}] shifted so the noisy x_p sees only the context before p
 * (masks.ts), and is modulated per position by the timestep through AdaLN-zero. No positional
 * encoding in the denoiser: where it is comes only through what it may attend to.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AdaLNZero, init, Linear, makeNorm, modulate, TimestepEmbedder, TransformerStack, type LayerNorm, type RMSNorm, parseConfig } from '@sentencelab/tensor';
import { twoTowerConfigSchema, type TwoTowerConfig, type TwoTowerConfigInput } from './config.js';
import { ConceptDecoder, mlpWidth } from './decoder.js';
import { DiffusionLcm, repeatRows } from './diffusion.js';
import type { ConceptSpace } from './model.js';
import { selfOnlyMask, twoTowerCrossMask } from './masks.js';

/** Parameters: `contextualizer.*`, `inProj`, `timestep.*`, `denoiser.*`, `finalAdaLN.*`, `outProj`. */
export class TwoTowerLcm extends DiffusionLcm<TwoTowerConfig> {
  readonly contextualizer: ConceptDecoder;
  readonly inProj: Linear;
  readonly timestep: TimestepEmbedder;
  readonly denoiser: TransformerStack;
  readonly finalNorm: LayerNorm | RMSNorm;
  readonly finalAdaLN: AdaLNZero;
  readonly outProj: Linear;

  /** `config` is parsed with the schema, so a partial object gets the defaults. */
  constructor(config: TwoTowerConfigInput, space: ConceptSpace) {
    super(parseConfig(twoTowerConfigSchema, config, 'two-tower'), space);
    const c = this.config;
    const rng = this.rng;
    this.contextualizer = this.addModule('contextualizer', new ConceptDecoder({ ...c, layers: c.contextLayers, maxLen: c.maxSentences, rng }));
    this.inProj = this.addModule('inProj', new Linear({ inFeatures: c.dEmb, outFeatures: c.dModel, rng }));
    this.timestep = this.addModule('timestep', new TimestepEmbedder({ dim: c.dModel, frequencyDim: c.timestepDim, rng }));
    this.denoiser = this.addModule(
      'denoiser',
      new TransformerStack({
        numLayers: c.denoiserLayers,
        dModel: c.dModel,
        numHeads: c.heads,
        mlpHidden: mlpWidth(c),
        activation: c.activation,
        norm: c.norm,
        prenorm: true,
        crossAttention: true,
        adaLNCondDim: c.dModel,
        dropout: c.dropout,
        finalNorm: false,
        rng,
      }),
    );
    this.finalNorm = makeNorm(c.norm, { dim: c.dModel, affine: false, rng });
    this.finalAdaLN = this.addModule('finalAdaLN', new AdaLNZero({ condDim: c.dModel, dModel: c.dModel, chunks: 2, rng }));
    this.outProj = this.addModule('outProj', new Linear({ inFeatures: c.dModel, outFeatures: c.dEmb, init: init.zeros(), rng }));
  }

  // context: [batch, n, dEmb] -> memory [batch, n + 1, dModel] = [zero, h_0 .. h_{n-1}]
  protected prepareContext(context: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const h = this.contextualizer.forward(context);
      return tf.concat([tf.zeros([h.shape[0], 1, h.shape[2]]), h], 1) as tf.Tensor3D;
    });
  }

  denoise(memory: tf.Tensor3D, xt: tf.Tensor3D, t: Float32Array, dropped: boolean[]): tf.Tensor3D {
    const [rows, m] = xt.shape;
    const n = memory.shape[1] - 1;
    if (m > n) throw new Error(`two-tower denoiser: ${m} noisy positions but only ${n} context sentences`);
    return tf.tidy(() => {
      const mem = repeatRows(memory, rows);
      // cond: [rows, m, dModel], one timestep embedding per position
      const cond = tf.reshape(this.timestep.forward(tf.tensor1d(t)), [rows, m, this.config.dModel]);
      const h = this.denoiser.forward(this.inProj.forward(xt), {
        mask: selfOnlyMask(m),
        context: mem,
        contextMask: twoTowerCrossMask(n, m, dropped),
        cond,
      });
      const [shift, scale] = this.finalAdaLN.forward(cond) as [tf.Tensor, tf.Tensor];
      return this.outProj.forward(modulate(this.finalNorm.forward(h), shift, scale)) as tf.Tensor3D;
    });
  }
}
