/**
 * One-tower diffusion LCM (described in the LCM paper, never released): a single causal decoder
 * over interleaved clean and noisy vectors [c_0, x_1, c_1, x_2, ..., c_{n-1}, x_n], the timestep
 * embedding added to the noisy ones. A custom mask (masks.ts) lets the noisy x_p see only the
 * clean c_0..c_{p-1} and itself, and the clean vectors only earlier clean ones, so all positions
 * train in parallel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Linear, TimestepEmbedder, parseConfig } from '@sentencelab/tensor';
import { oneTowerConfigSchema, type OneTowerConfig, type OneTowerConfigInput } from './config.js';
import { ConceptDecoder } from './decoder.js';
import { DiffusionLcm, repeatRows } from './diffusion.js';
import { interleave, oddPositions, oneTowerMask } from './masks.js';
import type { ConceptSpace } from './model.js';

/** Parameters: `decoder.*`, `timestep.*`, `postnet`. */
export class OneTowerLcm extends DiffusionLcm<OneTowerConfig> {
  readonly decoder: ConceptDecoder;
  readonly timestep: TimestepEmbedder;
  readonly postnet: Linear;

  /** `config` is parsed with the schema, so a partial object gets the defaults. */
  constructor(config: OneTowerConfigInput, space: ConceptSpace) {
    super(parseConfig(oneTowerConfigSchema, config, 'one-tower'), space);
    const c = this.config;
    const rng = this.rng;
    this.decoder = this.addModule('decoder', new ConceptDecoder({ ...c, maxLen: 2 * (c.maxSentences - 1), rng }));
    this.timestep = this.addModule('timestep', new TimestepEmbedder({ dim: c.dModel, frequencyDim: c.timestepDim, rng }));
    this.postnet = this.addModule('postnet', new Linear({ inFeatures: c.dModel, outFeatures: c.dEmb, rng }));
  }

  /** The clean context itself: the decoder reads it together with the noisy vectors. */
  protected prepareContext(context: tf.Tensor3D): tf.Tensor3D {
    return context.clone();
  }

  denoise(context: tf.Tensor3D, xt: tf.Tensor3D, t: Float32Array, dropped: boolean[]): tf.Tensor3D {
    const [rows, m, d] = xt.shape;
    const n = context.shape[1];
    if (m > n) throw new Error(`one-tower denoiser: ${m} noisy positions but only ${n} context sentences`);
    // Positions 1..n-m get a placeholder (zeros at t = 0): no query may attend to a noisy slot
    // but its own, so their content cannot reach the m positions being denoised.
    const tFull = new Float32Array(rows * n);
    for (let r = 0; r < rows; r++) tFull.set(t.subarray(r * m, (r + 1) * m), r * n + n - m);
    return tf.tidy(() => {
      const clean = repeatRows(context, rows);
      const noisy = m === n ? xt : (tf.concat([tf.zeros([rows, n - m, d]), xt], 1) as tf.Tensor3D);
      const tEmb = tf.reshape(this.timestep.forward(tf.tensor1d(tFull)), [rows, n, this.config.dModel]) as tf.Tensor3D;
      const h = this.decoder.forward(interleave(clean, noisy), {
        mask: oneTowerMask(n, dropped),
        extra: interleave(tf.zerosLike(tEmb), tEmb),
      });
      const out = this.postnet.forward(oddPositions(h)) as tf.Tensor3D;
      return m === n ? out : (tf.slice(out, [0, n - m, 0], [rows, m, d]) as tf.Tensor3D);
    });
  }
}
