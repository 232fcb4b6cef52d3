import * as tf from '@tensorflow/tfjs-core';
import { dropout, Module, Rng, type Embedding, parseConfig } from '@sentencelab/tensor';
import { flattenSentences, packSentences, type SentenceBatchInput, type SentencesInput, type SentenceTokens } from './batch.js';
import { sentenceVaeConfigSchema, type SentenceVaeConfig, type SentenceVaeConfigInput } from './config.js';
import { SentenceDecoder } from './decoder.js';
import { SentenceEncoder, type Posterior } from './encoder.js';
import { decodeSentences, type DecodeOptions, type DecodeResult } from './generate.js';
import { gaussianKl, klTerm, klWeight, reparameterise } from './kl.js';
import { noisyVectors } from './latent-noise.js';
import { reconstructionMetrics, type ReconstructionMetrics, type ReconstructionOptions } from './reconstruction.js';
import { createTokenEmbedding } from './token-input.js';
import { maskTokens } from './word-dropout.js';

/** What the text-level helpers need from a tokenizer (the data package's fits). */
export interface TokenizerLike {
  /** Token ids of a sentence, without BOS/EOS. */
  encode(text: string): Promise<number[]>;
  decode(ids: number[]): Promise<string>;
}

/**
 * What one loss evaluation logs besides the loss: counts known on the host are numbers, the rest
 * are scalars left on the device, each its own tensor (the caller reads them all at once with
 * tensor's `readMetricValues`, which disposes them; inside `valueAndGrads` they are freed with the step).
 */
export type SentenceVaeLossMetrics = {
  /** Reconstruction loss per scored token (real tokens + EOS). */
  recon: tf.Scalar;
  /** Negative log-likelihood per scored token, nats (exp = teacher-forced PPL; = recon for cross-entropy). */
  nll: tf.Scalar;
  /** Scored tokens (real tokens + EOS) in the batch. */
  tokens: number;
  sentences: number;
  /** Variational only: mean KL per sentence, nats (before free bits). */
  kl?: tf.Scalar;
  /** Variational only: the KL term after free bits, per sentence. */
  klTerm?: tf.Scalar;
  /** Variational only: the KL weight at this step. */
  klWeight?: number;
};

export type SentenceVaeLoss = {
  /** Scalar to differentiate: (reconstruction sum + klWeight * KL term) / tokens. */
  loss: tf.Scalar;
  metrics: SentenceVaeLossMetrics;
};

/**
 * The SentenceVAE (arXiv 2408.00655): an encoder compresses each sentence into one vector, a
 * decoder reconstructs the sentence from it. `variational: true` makes it a real VAE.
 * Parameters: `encoder.*`, `decoder.*` and, with shared embeddings, `embed.weight`.
 */
export class SentenceVAE extends Module {
  readonly config: SentenceVaeConfig;
  readonly encoder: SentenceEncoder;
  readonly decoder: SentenceDecoder;
  /**
   * The generators a resumed run must restore (save them with the checkpoint): `dropout` (also
   * drew the init, and the word dropout) and `noise` (the token-dropout, reparameterisation, latent-noise and latent-dropout draws).
   */
  readonly rngs: { dropout: Rng; noise: Rng };
  private readonly noise: Rng;

  /** `config` is validated with {@link sentenceVaeConfigSchema} (defaults filled in). */
  constructor(config: SentenceVaeConfigInput = {}) {
    super();
    const c = parseConfig(sentenceVaeConfigSchema, config, 'SentenceVAE');
    this.config = c;
    const rng = new Rng(c.seed);
    const shared: Embedding | undefined = c.shareEmbeddings ? this.addModule('embed', createTokenEmbedding(c.vocabSize, c.dModel, rng)) : undefined;
    this.encoder = this.addModule(
      'encoder',
      new SentenceEncoder({ vocabSize: c.vocabSize, dModel: c.dModel, maxTokens: c.maxTokens, config: c.encoder, variational: c.variational, rng, embedding: shared }),
    );
    this.decoder = this.addModule(
      'decoder',
      new SentenceDecoder({
        vocabSize: c.vocabSize,
        dModel: c.dModel,
        maxTokens: c.maxTokens,
        config: c.decoder,
        loss: c.loss,
        specialIds: c.specialIds,
        rng,
        embedding: shared,
      }),
    );
    this.noise = rng.fork();
    this.rngs = { dropout: rng, noise: this.noise };
  }

  /** A flat sentence batch from any accepted input (empty slots of a [B, S, L] batch dropped). */
  sentences(input: SentencesInput): SentenceTokens {
    const pad = this.config.specialIds.pad;
    if (Array.isArray(input)) return packSentences(input as readonly (readonly number[])[], { pad });
    if ('shape' in input) return flattenSentences(input, { pad });
    return input as SentenceTokens;
  }

  /**
   * Training objective on a batch. Plain autoencoder: mean token loss. Variational: the
   * reparameterised sample is decoded and the objective is (recon sum + beta(step) * KL term) /
   * tokens, i.e. the negative ELBO per token at beta = 1.
   */
  loss(input: SentencesInput, { step = 0 }: { step?: number } = {}): SentenceVaeLoss {
    const batch = this.sentences(input);
    const c = this.config;
    const beta = klWeight(c.kl, step);
    // What the encoder reads: in training, with `encoder.tokenDropout` > 0, some tokens are the pad id.
    const encoderInput = this.training ? maskTokens(batch, c.encoder.tokenDropout, c.specialIds.pad, this.noise) : batch;
    return tf.tidy((): SentenceVaeLoss => {
      if (!c.variational) {
        const memory = this.perturbed(this.encoder.forward(encoderInput));
        const { sum, count, nll } = this.decoder.loss(memory, batch, { nll: true });
        const mean = tf.div(sum, count) as tf.Scalar;
        return { loss: mean, metrics: { recon: tf.div(sum, count) as tf.Scalar, nll: tf.div(nll!, count) as tf.Scalar, tokens: count, sentences: batch.n } };
      }
      const { mean, logVar } = this.encoder.posterior(encoderInput);
      const z = this.perturbed(this.training ? reparameterise(mean, logVar, tf.tensor2d(this.noise.normalArray(mean.size), mean.shape)) : mean);
      const { sum, count, nll } = this.decoder.loss(z, batch, { nll: true });
      const kl = gaussianKl(mean, logVar);
      const term = klTerm(kl, c.kl.freeBits, c.kl.freeBitsPer);
      const objective = tf.div(tf.add(sum, tf.mul(term, beta)), count) as tf.Scalar;
      return {
        loss: objective,
        metrics: {
          recon: tf.div(sum, count) as tf.Scalar,
          nll: tf.div(nll!, count) as tf.Scalar,
          tokens: count,
          sentences: batch.n,
          kl: tf.div(tf.sum(kl), batch.n) as tf.Scalar,
          klTerm: tf.div(term, batch.n) as tf.Scalar,
          klWeight: beta,
        },
      };
    });
  }

  /**
   * What the decoder reads in training: the vectors [n, d] with `latentNoise`'s relative noise
   * added ({@link noisyVectors}), then `latentDropout`'s inverted dropout; each off at 0, both off
   * in eval mode. Both draw from `rngs.noise`, only when on.
   */
  private perturbed(vectors: tf.Tensor2D): tf.Tensor2D {
    if (!this.training) return vectors;
    const { latentNoise: sigma, latentDropout: rate } = this.config;
    const noisy = sigma === 0 ? vectors : noisyVectors(vectors, sigma, tf.tensor2d(this.noise.normalArray(vectors.size), vectors.shape));
    return dropout(noisy, rate, this.noise, true) as tf.Tensor2D;
  }

  /**
   * Variational only: the negative ELBO of the sentences as sums over the batch, the model's
   * true objective whatever the training schedule: the reconstruction NLL (cross-entropy, also
   * when training uses focal loss) of the tokens + EOS decoded from one reparameterised sample
   * z ~ q(z | x), plus KL(q(z | x) || N(0, I)) at full weight (no annealing, no free bits).
   * Eval mode (no dropout). `noise` draws the sample: give every evaluation a generator with the
   * same seed, so successive evaluations differ by the model only.
   * Per token: (nll + kl) / tokens.
   */
  elbo(input: SentencesInput, { noise }: { noise: Rng }): { nll: tf.Scalar; kl: tf.Scalar; tokens: number; sentences: number } {
    if (!this.config.variational) throw new Error('SentenceVAE.elbo: the model is not variational (config.variational is false); its loss is the reconstruction loss alone');
    const batch = this.sentences(input);
    let tokens = 0;
    const [nll, kl] = this.inEval(() =>
      tf.tidy(() => {
        const { mean, logVar } = this.encoder.posterior(batch);
        const z = reparameterise(mean, logVar, tf.tensor2d(noise.normalArray(mean.size), mean.shape));
        const r = this.decoder.loss(z, batch, { nll: true });
        tokens = r.count;
        return [r.nll!, tf.sum(gaussianKl(mean, logVar)) as tf.Scalar];
      }),
    );
    return { nll: nll!, kl: kl!, tokens, sentences: batch.n };
  }

  /** One vector per sentence [n, d] (eval mode: no dropout; the posterior mean when variational). */
  encode(input: SentencesInput): tf.Tensor2D {
    return this.inEval(() => this.encoder.forward(this.sentences(input)));
  }

  /**
   * The posterior q(z | sentence) of each sentence, mean and log-variance [n, d] each (eval mode;
   * the mean is what {@link encode} returns). Only for a variational model.
   */
  posterior(input: SentencesInput): Posterior {
    if (!this.config.variational) throw new Error('SentenceVAE.posterior: the model is not variational (config.variational is false); its vectors have no posterior spread');
    return this.inEval(() => this.encoder.posterior(this.sentences(input)));
  }

  /** Token ids decoded from vectors [n, d] (or memories [n, k, d]), EOS excluded. */
  async decode(vectors: tf.Tensor, options: DecodeOptions = {}): Promise<number[][]> {
    return (await this.decodeDetailed(vectors, options)).tokens;
  }

  /** Like {@link decode}, also telling which sentences ended with EOS. */
  decodeDetailed(vectors: tf.Tensor, options: DecodeOptions = {}): Promise<DecodeResult> {
    return decodeSentences(this.decoder, vectors, options);
  }

  /** encode then decode. */
  async reconstruct(input: SentencesInput, options: DecodeOptions = {}): Promise<number[][]> {
    const vectors = this.encode(input);
    try {
      return await this.decode(vectors, options);
    } finally {
      vectors.dispose();
    }
  }

  /** Token accuracy, exact match, per-token PPL and BLEU of encode -> decode (greedy unless told). */
  reconstructionMetrics(input: SentencesInput, options: ReconstructionOptions = {}): Promise<ReconstructionMetrics> {
    return reconstructionMetrics(this, input, options);
  }

  /** Sentence texts -> vectors [n, d] (tokenised with `tokenizer`, no BOS/EOS). */
  async encodeText(texts: readonly string[], tokenizer: TokenizerLike): Promise<tf.Tensor2D> {
    const ids = await Promise.all(texts.map((t) => tokenizer.encode(t)));
    ids.forEach((s, i) => {
      if (s.length === 0) throw new Error(`encodeText: text ${i} (${JSON.stringify(texts[i])}) has no tokens`);
    });
    return this.encode(ids);
  }

  /** Vectors [n, d] -> sentence texts. */
  async decodeText(vectors: tf.Tensor, tokenizer: TokenizerLike, options: DecodeOptions = {}): Promise<string[]> {
    const ids = await this.decode(vectors, options);
    return Promise.all(ids.map((s) => tokenizer.decode(s)));
  }
}
