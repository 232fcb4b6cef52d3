/**
 * The causal transformer over concept vectors shared by the three heads: prenet
 * Linear(dEmb -> dModel), sentence positions, a transformer stack (final norm included).
 * Base-LCM puts a postnet after it; the two-tower uses it as the contextualizer; the one-tower
 * runs it over interleaved clean and noisy vectors with a custom mask.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LearnedPositionalEmbedding, Linear, Module, sinusoidalEncoding, TransformerStack, type Rng } from '@sentencelab/tensor';

export interface DecoderOptions {
  dEmb: number;
  dModel: number;
  heads: number;
  layers: number;
  mlpHidden: number | null;
  activation: 'swiglu' | 'gelu' | 'relu';
  norm: 'rms' | 'layer';
  prenorm: boolean;
  positional: 'rope' | 'learned' | 'sinusoidal' | 'none';
  dropout: number;
  /** Longest sequence the decoder reads (learned positions are allocated for it). */
  maxLen: number;
  rng: Rng;
}

/** MLP width: 4 d for relu/gelu; 8/3 d rounded up to a multiple of 8 for SwiGLU (same parameter count). */
export function mlpWidth(o: Pick<DecoderOptions, 'dModel' | 'mlpHidden' | 'activation'>): number {
  if (o.mlpHidden !== null) return o.mlpHidden;
  return o.activation === 'swiglu' ? Math.ceil((8 * o.dModel) / 3 / 8) * 8 : 4 * o.dModel;
}

export interface DecoderCallOptions {
  /** Custom self-attention mask [batch, seq, seq] or [seq, seq] (true/1 = may attend); default causal. */
  mask?: tf.Tensor;
  /** Added to the prenet output before the stack: [batch, seq, dModel] (e.g. timestep embeddings). */
  extra?: tf.Tensor;
}

/** Parameters: `prenet`, (`positions`), `stack`. x: [batch, seq, dEmb] -> [batch, seq, dModel]. */
export class ConceptDecoder extends Module {
  readonly prenet: Linear;
  readonly stack: TransformerStack;
  readonly positions: LearnedPositionalEmbedding | undefined;
  private readonly positional: DecoderOptions['positional'];
  private readonly dModel: number;
  private readonly maxLen: number;

  constructor(o: DecoderOptions) {
    super();
    if (o.dModel % o.heads !== 0) throw new Error(`dModel (${o.dModel}) must be divisible by heads (${o.heads})`);
    this.positional = o.positional;
    this.dModel = o.dModel;
    this.maxLen = o.maxLen;
    this.prenet = this.addModule('prenet', new Linear({ inFeatures: o.dEmb, outFeatures: o.dModel, rng: o.rng }));
    if (o.positional === 'learned') {
      this.positions = this.addModule('positions', new LearnedPositionalEmbedding({ maxLen: o.maxLen, dim: o.dModel, rng: o.rng }));
    }
    this.stack = this.addModule(
      'stack',
      new TransformerStack({
        numLayers: o.layers,
        dModel: o.dModel,
        numHeads: o.heads,
        mlpHidden: mlpWidth(o),
        activation: o.activation,
        norm: o.norm,
        prenorm: o.prenorm,
        rotary: o.positional === 'rope',
        dropout: o.dropout,
        rng: o.rng,
      }),
    );
  }

  forward(x: tf.Tensor3D, o: DecoderCallOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const h = this.embed(x, o.extra);
      const out = o.mask === undefined ? this.stack.forward(h, { causal: true }) : this.stack.forward(h, { mask: o.mask });
      return out as tf.Tensor3D;
    });
  }

  /**
   * The causal pass's state after every layer, each through the stack's final norm (when it has
   * one) as the last layer's is (for a lens): x: [batch, n, dEmb] -> layers x [batch, n, dModel];
   * the last equals `forward(x)`.
   */
  layerStates(x: tf.Tensor3D): tf.Tensor3D[] {
    return tf.tidy(() => {
      const norm = this.stack.norm;
      return this.stack.layerOutputs(this.embed(x), { causal: true }).map((h) => (norm === undefined ? h : norm.forward(h)) as tf.Tensor3D);
    });
  }

  /** Prenet, `extra` and positions: x: [batch, n, dEmb] -> [batch, n, dModel]. */
  private embed(x: tf.Tensor3D, extra?: tf.Tensor): tf.Tensor {
    const seq = x.shape[1];
    if (seq > this.maxLen) throw new Error(`sequence of ${seq} vectors exceeds the decoder's maximum of ${this.maxLen} (config maxSentences)`);
    return tf.tidy(() => {
      let h = this.prenet.forward(x);
      if (extra !== undefined) h = tf.add(h, extra);
      if (this.positions !== undefined) h = tf.add(h, this.positions.forward(seq));
      else if (this.positional === 'sinusoidal') h = tf.add(h, sinusoidalEncoding(seq, this.dModel));
      return h;
    });
  }
}
