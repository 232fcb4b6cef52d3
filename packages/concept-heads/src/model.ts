/**
 * What the three heads share: the frozen normaliser and end-of-text embedding, next-concept
 * prediction in raw space, teacher-forced batch predictions for evaluation, streaming
 * generation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module, Rng } from '@sentencelab/tensor';
import type { ConceptBatch } from './batches.js';
import { encodeWithCodec, type ConceptCodec } from './codec.js';
import type { ConceptHeadConfig } from './config.js';
import { cosine } from './evaluation.js';
import type { EmbeddingNormalizer } from './normalizer.js';

export type LossResult = {
  /** Scalar to differentiate. */
  loss: tf.Scalar;
  /**
   * Values to log besides the loss: numbers known on the host, or scalars left on the device
   * (number of target sentences, ...), each its own tensor; read them with tensor's
   * `readMetricValues` (one async read, disposes them).
   */
  metrics: Record<string, number | tf.Scalar>;
};

/** The frozen parts a head needs besides its config. */
export interface ConceptSpace {
  /** Fitted on training embeddings (see EmbeddingNormalizer.fit). */
  normalizer: EmbeddingNormalizer;
  /** Raw embedding of config.endSentence. */
  endVector: Float32Array;
}

/** Per-call overrides of the diffusion sampler and guidance (ignored by Base-LCM). */
export interface ConceptSampleOptions {
  /** Seeds the initial noise (and eta noise); default config.seed. */
  seed?: number;
  sampling?: Partial<{ steps: number; eta: number; spacing: 'trailing' | 'leading'; initialNoiseScale: number }>;
  guidance?: Partial<{ scale: number; rescale: number }>;
}

export interface GenerateOptions extends ConceptSampleOptions {
  /** Default config.maxGenerated. */
  maxSentences?: number;
  /** Default config.stopThreshold. */
  stopThreshold?: number;
  /**
   * What goes back into the context: the predicted vector itself (LCM, default) or the
   * re-encoding of its decoded text (the "discretised" regime).
   */
  feedback?: 'vector' | 'reencode';
}

export interface GeneratedSentence {
  /** 0 for the first generated sentence. */
  index: number;
  text: string;
  /** The predicted embedding (raw space). */
  vector: Float32Array;
  /** cosine(vector, end-of-text embedding): generation stops once it reaches the threshold. */
  endCosine: number;
}

export interface BatchPredictions {
  /** One raw prediction per target sentence (positions >= 1 with mask 1), row-major order. */
  predictions: Float32Array[];
  targets: Float32Array[];
  /** The sentence before each target (its last context vector). */
  previous: Float32Array[];
}

export abstract class ConceptModel<C extends ConceptHeadConfig = ConceptHeadConfig> extends Module {
  readonly config: C;
  readonly normalizer: EmbeddingNormalizer;
  readonly endVector: Float32Array;
  /** Drives init, dropout, timestep/noise sampling and condition dropout (saved in checkpoints). */
  readonly rng: Rng;

  constructor(config: C, space: ConceptSpace) {
    super();
    if (space.normalizer.dim !== config.dEmb) throw new Error(`normaliser has ${space.normalizer.dim} dims but config.dEmb is ${config.dEmb}`);
    if (space.normalizer.kind !== config.normalizer) {
      throw new Error(`config.normalizer is "${config.normalizer}" but the concept space's normaliser is "${space.normalizer.kind}" (fit it with fitConceptSpace(codec, vectors, config))`);
    }
    if (space.endVector.length !== config.dEmb) throw new Error(`end vector has ${space.endVector.length} dims but config.dEmb is ${config.dEmb}`);
    this.config = config;
    this.normalizer = space.normalizer;
    this.endVector = Float32Array.from(space.endVector);
    this.rng = new Rng(config.seed);
  }

  /** Training loss on a batch of raw embeddings (normalised inside). */
  abstract loss(batch: ConceptBatch): LossResult;

  /**
   * `draws` draws of each target's posterior N(mean, std^2) (the targets: sentences 1..s-1 of
   * the batch, a variational SentenceVAE's posterior means and stds), in normalised space: the
   * normaliser is affine per dimension, so a draw is the normalised mean + std / scale * eps, eps
   * from the model's rng. `option` names the config field that asked for them, for the error on
   * a batch without stds. target: [b, s-1, dEmb] normalised means -> [draws, b, s-1, dEmb].
   */
  protected targetPosteriorDraws(target: tf.Tensor3D, batch: ConceptBatch, draws: number, option: string): tf.Tensor4D {
    if (!batch.std) throw new Error(`${this.config.kind} head: ${option}, but the batch has no posterior std (targets from a plain SentenceVAE have no posterior to draw from; train over a variational one, or turn the option off)`);
    const [b, s, d] = batch.std.shape;
    if (target.shape[0] !== b || target.shape[1] !== s - 1 || target.shape[2] !== d) throw new Error(`targetPosteriorDraws: targets [${target.shape}] for stds [${batch.std.shape}]`);
    return tf.tidy(() => {
      const std = this.normalizer.normalizeSpread(tf.slice(batch.std!, [0, 1, 0], [b, s - 1, d])); // [b, s-1, d]
      const eps = tf.tensor4d(this.rng.normalArray(draws * b * (s - 1) * d), [draws, b, s - 1, d]);
      return tf.add(tf.expandDims(target, 0), tf.mul(eps, tf.expandDims(std, 0))) as tf.Tensor4D;
    });
  }

  /**
   * Predictions in normalised space: context [batch, n, dEmb] (normalised, right-padded) ->
   * [batch, n, dEmb] where output k predicts sentence k + 1 from sentences 0..k; with
   * `lastOnly`, just the last: [batch, 1, dEmb]. The caller disposes the result.
   */
  abstract predictNormalized(context: tf.Tensor3D, lastOnly: boolean, options: ConceptSampleOptions): Promise<tf.Tensor3D>;

  /** The longest context a prediction reads: the training windows' maxSentences - 1. */
  get maxContext(): number {
    return this.config.maxSentences - 1;
  }

  /** The next raw embedding after `context` (raw vectors; only the last maxContext are read). */
  async predictNext(context: Float32Array[], options: ConceptSampleOptions = {}): Promise<Float32Array> {
    if (context.length === 0) throw new Error('predictNext needs at least one context sentence');
    const window = context.slice(-this.maxContext);
    const d = this.config.dEmb;
    const flat = new Float32Array(window.length * d);
    window.forEach((v, i) => {
      if (v.length !== d) throw new Error(`context vector ${i} has ${v.length} dims, expected ${d}`);
      flat.set(this.normalizer.normalizeVector(v), i * d);
    });
    const x = tf.tensor3d(flat, [1, window.length, d]);
    const wasTraining = this.training;
    this.eval();
    try {
      const out = await this.predictNormalized(x, true, options);
      let values: Float32Array;
      try {
        values = (await out.data()) as Float32Array;
      } finally {
        out.dispose();
      }
      return this.normalizer.denormalizeVector(values);
    } finally {
      x.dispose();
      this.train(wasTraining);
    }
  }

  /** Teacher-forced predictions of every target sentence of a batch (for the evaluation helpers). */
  async predictBatch(batch: ConceptBatch, options: ConceptSampleOptions = {}): Promise<BatchPredictions> {
    const [b, s, d] = batch.x.shape;
    if (s < 2) throw new Error(`predictBatch: batch windows have ${s} sentence(s); need >= 2`);
    const context = tf.tidy(() => this.normalizer.normalize(tf.slice(batch.x, [0, 0, 0], [b, s - 1, d])) as tf.Tensor3D);
    const wasTraining = this.training;
    this.eval();
    let predicted: Float32Array;
    try {
      const out = await this.predictNormalized(context, false, options);
      const raw = this.normalizer.denormalize(out);
      out.dispose();
      try {
        predicted = (await raw.data()) as Float32Array;
      } finally {
        raw.dispose();
      }
    } finally {
      context.dispose();
      this.train(wasTraining);
    }
    const [x, mask] = (await Promise.all([batch.x.data(), batch.mask.data()])) as [Float32Array, Float32Array];
    const result: BatchPredictions = { predictions: [], targets: [], previous: [] };
    for (let r = 0; r < b; r++) {
      for (let p = 1; p < s; p++) {
        if (mask[r * s + p] !== 1) continue;
        result.predictions.push(predicted.slice((r * (s - 1) + p - 1) * d, (r * (s - 1) + p) * d));
        result.targets.push(x.slice((r * s + p) * d, (r * s + p + 1) * d));
        result.previous.push(x.slice((r * s + p - 1) * d, (r * s + p) * d));
      }
    }
    return result;
  }

  /**
   * Continues a text given as sentences (segmentation is the caller's): encodes the prompt,
   * predicts one concept at a time, decodes each to a sentence and yields it. Stops when the
   * prediction is close to the end-of-text embedding or after maxSentences sentences.
   */
  async *generate(codec: ConceptCodec, prompt: string[], options: GenerateOptions = {}): AsyncGenerator<GeneratedSentence> {
    if (codec.dim !== this.config.dEmb) throw new Error(`codec.dim is ${codec.dim} but the model was built for dEmb ${this.config.dEmb}`);
    if (prompt.length === 0) throw new Error('generate needs at least one prompt sentence');
    const max = options.maxSentences ?? this.config.maxGenerated;
    const threshold = options.stopThreshold ?? this.config.stopThreshold;
    const context = await encodeWithCodec(codec, prompt);
    const seed = options.seed ?? this.config.seed;
    for (let i = 0; i < max; i++) {
      // A fresh seed per sentence keeps each step reproducible whatever was generated before.
      const vector = await this.predictNext(context, { ...options, seed: seed + i });
      const endCosine = cosine(vector, this.endVector);
      if (endCosine >= threshold) return;
      const [text] = await codec.decode([vector]);
      if (text === undefined) throw new Error('codec.decode returned no sentence');
      yield { index: i, text, vector, endCosine };
      context.push(options.feedback === 'reencode' ? (await encodeWithCodec(codec, [text]))[0]! : vector);
    }
  }
}
