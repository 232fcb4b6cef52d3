import * as tf from '@tensorflow/tfjs-core';
import { LearnedPositionalEmbedding, Linear, Module, sinusoidalEncoding, StackCache, TransformerStack, type Rng } from '@sentencelab/tensor';
import type { LatentDecoderConfig } from './config.js';

export interface LatentDecoderOptions {
  config: LatentDecoderConfig;
  /** Width of the input vectors; a Linear maps them to dModel when it differs. */
  inputDim: number;
  rng: Rng;
}

/**
 * A causal transformer over a sequence of input vectors (token embeddings for the token LM,
 * sentence vectors for the SLLM). Parameters: `input.*` (when inputDim != dModel),
 * `positions.weight` (learned), `transformer.*`.
 */
export class LatentDecoder extends Module {
  readonly config: LatentDecoderConfig;
  readonly inputDim: number;
  readonly input: Linear | undefined;
  readonly positions: LearnedPositionalEmbedding | undefined;
  readonly transformer: TransformerStack;

  constructor({ config, inputDim, rng }: LatentDecoderOptions) {
    super();
    this.config = config;
    this.inputDim = inputDim;
    const d = config.dModel;
    if (inputDim !== d) this.input = this.addModule('input', new Linear({ inFeatures: inputDim, outFeatures: d, rng }));
    if (config.positions === 'learned') this.positions = this.addModule('positions', new LearnedPositionalEmbedding({ maxLen: config.maxLen, dim: d, rng }));
    this.transformer = this.addModule(
      'transformer',
      new TransformerStack({
        numLayers: config.layers,
        dModel: d,
        numHeads: config.heads,
        mlpHidden: config.mlpHidden ?? undefined,
        activation: config.activation,
        norm: config.norm,
        prenorm: config.prenorm,
        dropout: config.dropout,
        rotary: config.positions === 'rotary',
        rng,
      }),
    );
  }

  createCache(): StackCache {
    return this.transformer.createCache();
  }

  /**
   * Causal pass over positions offset.. (offset = the cache's length; 0 without a cache).
   * x: [B, S, inputDim] -> [B, S, dModel]. Position i sees inputs 0..i only.
   */
  forward(x: tf.Tensor3D, { cache }: { cache?: StackCache } = {}): tf.Tensor3D {
    return tf.tidy(() => this.transformer.forward(this.embed(x, cache), { causal: true, cache }) as tf.Tensor3D);
  }

  /**
   * The hidden state after every layer, each through the stack's final norm (when it has one)
   * as the last layer's is, so each can be read the way `forward`'s output is (a lens).
   * x: [B, S, inputDim] -> layers tensors [B, S, dModel]; the last equals `forward(x)`.
   */
  layerStates(x: tf.Tensor3D): tf.Tensor3D[] {
    return tf.tidy(() => {
      const outs = this.transformer.layerOutputs(this.embed(x), { causal: true });
      const norm = this.transformer.norm;
      return outs.map((h) => (norm === undefined ? h : norm.forward(h)) as tf.Tensor3D);
    });
  }

  /** Input projection and positions. x: [B, S, inputDim] -> [B, S, dModel] (positions from the cache's length on). */
  private embed(x: tf.Tensor3D, cache?: StackCache): tf.Tensor {
    const [, S, inDim] = x.shape;
    if (inDim !== this.inputDim) throw new Error(`LatentDecoder: inputs have width ${inDim}, expected ${this.inputDim}`);
    const offset = cache?.length ?? 0;
    if (offset + S > this.config.maxLen && this.config.positions === 'learned') {
      throw new Error(`LatentDecoder: ${offset + S} positions exceed maxLen ${this.config.maxLen}`);
    }
    return tf.tidy(() => {
      const h: tf.Tensor = this.input === undefined ? x : this.input.forward(x);
      if (this.positions !== undefined) return tf.add(h, this.positions.forward(S, offset));
      if (this.config.positions === 'sinusoidal') return tf.add(h, sinusoidalEncoding(S, this.config.dModel, offset));
      return h;
    });
  }

  /** KV-cache bytes per position (float32 keys and values in every layer). */
  kvBytesPerPosition(): number {
    return this.config.layers * 2 * this.config.dModel * 4;
  }
}
