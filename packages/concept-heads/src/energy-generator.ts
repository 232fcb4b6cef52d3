/**
 * CALM's generative head as an MLP (arXiv 2510.27688, its code's `MLPGenerator`): a noise vector
 * u ~ U(-0.5, 0.5)^noiseDim, embedded, is refined by residual blocks that each read it beside
 * the transformer's hidden state, then projected to a concept vector. One forward pass per
 * sample, so a prediction costs one step where a diffusion head takes `sampling.steps`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { init, LayerNorm, Linear, Module, silu, type Rng } from '@sentencelab/tensor';

// CALM's LayerNorm epsilon.
const EPS = 1e-6;

export interface EnergyGeneratorOptions {
  /** Width of the hidden state it reads and of its blocks. */
  dModel: number;
  /** Width of the vector it draws. */
  dEmb: number;
  noiseDim: number;
  blocks: number;
  rng: Rng;
}

/**
 * One residual block: x + down(silu(g) * u), [g, u] = fc3(silu(fc2(silu(fc1([norm(x), cond]))))).
 * Parameters: `norm`, `fc1` [2d, d], `fc2` [d, d], `fc3` [d, 2d], `down` [d, d].
 */
class GeneratorBlock extends Module {
  readonly norm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly fc3: Linear;
  readonly down: Linear;

  constructor(d: number, rng: Rng) {
    super();
    this.norm = this.addModule('norm', new LayerNorm({ dim: d, eps: EPS, rng }));
    this.fc1 = this.addModule('fc1', new Linear({ inFeatures: 2 * d, outFeatures: d, rng }));
    this.fc2 = this.addModule('fc2', new Linear({ inFeatures: d, outFeatures: d, rng }));
    this.fc3 = this.addModule('fc3', new Linear({ inFeatures: d, outFeatures: 2 * d, rng }));
    this.down = this.addModule('down', new Linear({ inFeatures: d, outFeatures: d, rng }));
  }

  // x, cond: [m, d] -> [m, d]
  forward(x: tf.Tensor2D, cond: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.fc3.forward(silu(this.fc2.forward(silu(this.fc1.forward(tf.concat([this.norm.forward(x), cond], -1))))));
      const [gate, up] = tf.split(h, 2, -1) as [tf.Tensor, tf.Tensor];
      return tf.add(x, this.down.forward(tf.mul(silu(gate), up))) as tf.Tensor2D;
    });
  }
}

/**
 * Parameters: `noiseEmbed`, `noiseNorm`, `condEmbed`, `condNorm`, `blocks.<i>.*`, `finalNorm`,
 * `final1`, `final2` (zero-initialised, as CALM's: every sample starts at the origin).
 */
export class EnergyGenerator extends Module {
  readonly noiseDim: number;
  readonly noiseEmbed: Linear;
  readonly noiseNorm: LayerNorm;
  readonly condEmbed: Linear;
  readonly condNorm: LayerNorm;
  readonly blocks: GeneratorBlock[];
  readonly finalNorm: LayerNorm;
  readonly final1: Linear;
  readonly final2: Linear;

  constructor(o: EnergyGeneratorOptions) {
    super();
    const { dModel: d, rng } = o;
    this.noiseDim = o.noiseDim;
    this.noiseEmbed = this.addModule('noiseEmbed', new Linear({ inFeatures: o.noiseDim, outFeatures: d, rng }));
    this.noiseNorm = this.addModule('noiseNorm', new LayerNorm({ dim: d, eps: EPS, rng }));
    this.condEmbed = this.addModule('condEmbed', new Linear({ inFeatures: d, outFeatures: d, rng }));
    this.condNorm = this.addModule('condNorm', new LayerNorm({ dim: d, eps: EPS, rng }));
    this.blocks = Array.from({ length: o.blocks }, (_, i) => this.addModule(`blocks.${i}`, new GeneratorBlock(d, rng)));
    this.finalNorm = this.addModule('finalNorm', new LayerNorm({ dim: d, eps: EPS, rng }));
    this.final1 = this.addModule('final1', new Linear({ inFeatures: d, outFeatures: d, rng }));
    this.final2 = this.addModule('final2', new Linear({ inFeatures: d, outFeatures: o.dEmb, init: init.zeros(), rng }));
  }

  /** Draws of U(-0.5, 0.5) for `rows` samples: [rows, noiseDim]. */
  noise(rows: number, rng: Rng): tf.Tensor2D {
    return tf.tensor2d(rng.uniformArray(rows * this.noiseDim, -0.5, 0.5), [rows, this.noiseDim]);
  }

  // cond: [m, dModel], noise: [m, noiseDim] -> one sample per row [m, dEmb]
  forward(cond: tf.Tensor2D, noise: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const c = this.condNorm.forward(this.condEmbed.forward(cond)) as tf.Tensor2D;
      let x = this.noiseNorm.forward(this.noiseEmbed.forward(noise)) as tf.Tensor2D;
      for (const block of this.blocks) x = block.forward(x, c);
      return this.final2.forward(silu(this.final1.forward(this.finalNorm.forward(x)))) as tf.Tensor2D;
    });
  }
}
