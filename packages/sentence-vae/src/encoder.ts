import * as tf from '@tensorflow/tfjs-core';
import { LayerNorm, LearnedPositionalEmbedding, Linear, Module, type Embedding, type Rng, type TransformerStack } from '@sentencelab/tensor';
import type { SentenceTokens } from './batch.js';
import type { EncoderConfig } from './config.js';
import { Pooling } from './pooling.js';
import { groupedPositions, lengthGroups, selectSentences } from './length-groups.js';
import { createStack } from './stack.js';
import { checkSentences, createTokenEmbedding, embedTokens, paddedTensors } from './token-input.js';

export interface SentenceEncoderOptions {
  vocabSize: number;
  dModel: number;
  /** Longest sentence (tokens). */
  maxTokens: number;
  config: EncoderConfig;
  /** Add mean and log-variance heads (a real VAE posterior). */
  variational: boolean;
  rng: Rng;
  /** A token embedding owned elsewhere (shared with the decoder); default: the encoder's own `embed`. */
  embedding?: Embedding;
}

/** The posterior q(z | sentence) = N(mean, exp(logVar)); both [n, d]. */
export interface Posterior {
  mean: tf.Tensor2D;
  logVar: tf.Tensor2D;
}

/**
 * Sentence encoder: token embedding + positions -> transformer encoder (padding masked as keys)
 * -> padding rows zeroed -> pooling -> LayerNorm -> one vector per sentence.
 * With `variational`, Linear heads map that vector to the posterior mean and log-variance, and
 * the sentence vector is the mean.
 * Parameters: `embed` (unless shared), `positions` (learned), `transformer.*`, `pooling.*`,
 * `norm`, (`mean`, `logVar`).
 */
export class SentenceEncoder extends Module {
  readonly dModel: number;
  readonly maxTokens: number;
  readonly vocabSize: number;
  readonly variational: boolean;
  readonly embedding: Embedding;
  readonly positions: LearnedPositionalEmbedding | undefined;
  readonly transformer: TransformerStack;
  readonly pooling: Pooling;
  readonly norm: LayerNorm;
  readonly meanHead: Linear | undefined;
  readonly logVarHead: Linear | undefined;

  constructor(o: SentenceEncoderOptions) {
    super();
    this.dModel = o.dModel;
    this.maxTokens = o.maxTokens;
    this.vocabSize = o.vocabSize;
    this.variational = o.variational;
    this.embedding = o.embedding ?? this.addModule('embed', createTokenEmbedding(o.vocabSize, o.dModel, o.rng));
    if (o.config.positions === 'learned') {
      this.positions = this.addModule('positions', new LearnedPositionalEmbedding({ maxLen: o.maxTokens, dim: o.dModel, rng: o.rng }));
    }
    this.transformer = this.addModule('transformer', createStack(o.config, o.dModel, false, o.rng));
    this.pooling = this.addModule('pooling', new Pooling({ kind: o.config.pooling, dModel: o.dModel, numHeads: o.config.heads, rng: o.rng }));
    this.norm = this.addModule('norm', new LayerNorm({ dim: o.dModel, rng: o.rng }));
    if (o.variational) {
      this.meanHead = this.addModule('mean', new Linear({ inFeatures: o.dModel, outFeatures: o.dModel, rng: o.rng }));
      this.logVarHead = this.addModule('logVar', new Linear({ inFeatures: o.dModel, outFeatures: o.dModel, rng: o.rng }));
    }
  }

  /**
   * The pooled, normalised sentence vectors (before any variational head).
   * ids: int32 [n, L], mask: [n, L] 0/1 -> [n, d].
   */
  pooled(ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const x = embedTokens(this.embedding, this.positions, ids);
      const h = this.transformer.forward(x, { keyMask: mask }) as tf.Tensor3D;
      // Pooling zeroes the padding rows before it adds anything up.
      return this.norm.forward(this.pooling.forward(h, mask)) as tf.Tensor2D;
    });
  }

  /**
   * {@link pooled} of a flat batch, [n, d] in its order: sentences of similar length run together,
   * each group padded to its own longest ({@link lengthGroups}), not to the batch's.
   */
  pooledSentences(batch: SentenceTokens): tf.Tensor2D {
    const checked = checkSentences(batch, this.maxTokens, this.vocabSize);
    const groups = lengthGroups(checked.lengths);
    return tf.tidy(() => {
      const vectors = groups.map((g) => {
        // Checked once above; each group is padded to its own longest.
        const { ids, mask } = paddedTensors(groups.length === 1 ? checked : selectSentences(checked, g));
        return this.pooled(ids, mask);
      });
      if (vectors.length === 1) return vectors[0]!;
      // [n, d] in group order -> the batch's order.
      return tf.gather(tf.concat(vectors), tf.tensor1d(groupedPositions(groups, checked.n), 'int32')) as tf.Tensor2D;
    });
  }

  /** Posterior mean and log-variance, [n, d] each. Only for a variational encoder. */
  posterior(batch: SentenceTokens): Posterior {
    if (!this.variational) throw new Error('SentenceEncoder.posterior: this encoder is not variational (config variational: false)');
    return tf.tidy(() => {
      const h = this.pooledSentences(batch);
      return { mean: this.meanHead!.forward(h) as tf.Tensor2D, logVar: this.logVarHead!.forward(h) as tf.Tensor2D };
    });
  }

  /** One vector per sentence, [n, d] (differentiable; the posterior mean when variational). */
  forward(batch: SentenceTokens): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.pooledSentences(batch);
      return this.variational ? (this.meanHead!.forward(h) as tf.Tensor2D) : h;
    });
  }
}
