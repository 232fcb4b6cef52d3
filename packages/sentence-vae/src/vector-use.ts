import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@sentencelab/tensor';
import type { SentencesInput } from './batch.js';
import { noisyVectors } from './latent-noise.js';
import type { SentenceVAE } from './model.js';

/** How much the sentence vectors carry, measured on the same tokens two ways. */
export interface VectorUse {
  /** Decoder NLL per scored token (nats; tokens + EOS) given each sentence's own vector. */
  own: number;
  /** The same tokens given another sentence's vector from the same batch. */
  shuffled: number;
  /** shuffled - own: ~0 when the decoder ignores the vector, large when the vector carries the sentence. */
  gap: number;
  /** Scored tokens (in each of the two losses). */
  tokens: number;
  sentences: number;
}

/** Vectors the decoder is given instead of each sentence's own: memory [n, d] -> [n, d]. */
type VectorVariant = (memory: tf.Tensor2D, batch: number) => tf.Tensor2D;

/**
 * Teacher-forced NLL per scored token of every batch's sentences given, for each variant, the
 * vectors it makes from their own: all variants score the very same tokens. Batches of one
 * sentence are skipped (a shuffle needs two). Eval mode; one asynchronous read for everything.
 */
async function nllGiven(model: SentenceVAE, batches: readonly SentencesInput[], variants: readonly VectorVariant[]): Promise<{ nll: number[]; tokens: number; sentences: number }> {
  const sums: tf.Scalar[] = [];
  let tokens = 0;
  let sentences = 0;
  model.inEval(() => {
    batches.forEach((input, b) => {
      const batch = model.sentences(input);
      if (batch.n < 2) return;
      sums.push(
        ...tf.tidy(() => {
          const memory = model.encoder.forward(batch) as tf.Tensor2D; // [n, d]
          let count = 0;
          const out = variants.map((variant) => {
            const r = model.decoder.loss(variant(memory, b), batch, { nll: true });
            count = r.count;
            return r.nll!;
          });
          tokens += count;
          return out;
        }),
      );
      sentences += batch.n;
    });
  });
  if (sums.length === 0) throw new Error('vectorUse / vectorNoise: no batch has two sentences to shuffle vectors between');
  const stacked = tf.stack(sums); // [batches * variants], batch-major
  tf.dispose(sums);
  let values: Float32Array;
  try {
    values = (await stacked.data()) as Float32Array;
  } finally {
    stacked.dispose();
  }
  const nll = variants.map(() => 0);
  values.forEach((v, i) => (nll[i % variants.length]! += v));
  return { nll: nll.map((v) => v / tokens), tokens, sentences };
}

const own: VectorVariant = (memory) => memory;

// Row i reads row (i + floor(n/2)) mod n: a derangement that mostly lands in another document.
const shuffled: VectorVariant = (memory) => {
  const n = memory.shape[0];
  const shift = Math.floor(n / 2);
  return tf.gather(memory, tf.tensor1d(Int32Array.from({ length: n }, (_, i) => (i + shift) % n), 'int32'));
};

/**
 * The SentenceVAE diagnostic that tells a decoder which reads its vector from one that is a
 * plain language model: teacher-forced NLL of every sentence given its own vector, and given
 * the vector of the sentence half a batch away (row i reads row (i + floor(n/2)) mod n, a
 * derangement that mostly lands in another document of a [B, S, L] batch). The two sums cover
 * the very same tokens; batches of one sentence can't be shuffled and are skipped. Eval mode
 * (no dropout; the posterior mean when variational). One asynchronous read for all batches.
 */
export async function vectorUse(model: SentenceVAE, batches: readonly SentencesInput[]): Promise<VectorUse> {
  const r = await nllGiven(model, batches, [own, shuffled]);
  const [o, s] = r.nll as [number, number];
  return { own: o, shuffled: s, gap: s - o, tokens: r.tokens, sentences: r.sentences };
}

/** The relative noise levels of {@link vectorNoise}: 1/16 to 16 times each vector's RMS, doubling. */
export const NOISE_LEVELS: readonly number[] = [0.0625, 0.125, 0.25, 0.5, 1, 2, 4, 8, 16];

/**
 * The noise level at which half of what the vector carries is lost: the first crossing of
 * `kept` = 1/2, linearly interpolated between the levels around it (from sigma 0, where all is
 * kept); null when no level gets there. levels ascending, kept[k] at levels[k].
 */
export function halfKeptLevel(levels: readonly number[], kept: readonly number[]): number | null {
  let [prevLevel, prevKept] = [0, 1];
  for (let k = 0; k < levels.length; k++) {
    const [level, value] = [levels[k]!, kept[k]!];
    if (value <= 0.5) return prevLevel + ((prevKept - 0.5) / (prevKept - value)) * (level - prevLevel);
    [prevLevel, prevKept] = [level, value];
  }
  return null;
}

/** How the decoder copes with noisy vectors (what an SLLM's or a concept head's predictions are). */
export interface VectorNoise extends VectorUse {
  /** Per level: its sigma, the NLL per token given the noisy vectors, and the share of the gap kept: (shuffled - nll) / gap. */
  levels: { sigma: number; nll: number; kept: number }[];
  /** The sigma at which half of the gap is lost ({@link halfKeptLevel}); null when no level gets there or the gap is not positive. */
  half: number | null;
}

/**
 * {@link vectorUse} plus the same NLL given each sentence's vector with Gaussian noise of each
 * relative level added ({@link noisyVectors}; one draw of eps per batch, from `seed`, scaled to
 * every level, so the curve is smooth in sigma). `kept` = 1 at the own vectors, 0 at shuffled
 * ones (below 0: worse than another sentence's vector). A predicted vector is never exact: a
 * decoder that loses the sentence at small noise punishes every small prediction error.
 */
export async function vectorNoise(model: SentenceVAE, batches: readonly SentencesInput[], { seed, levels = NOISE_LEVELS }: { seed: number; levels?: readonly number[] }): Promise<VectorNoise> {
  const rng = new Rng(seed);
  const eps = new Map<number, tf.Tensor2D>();
  const noisy = (sigma: number): VectorVariant => (memory, b) => {
    let e = eps.get(b);
    if (e === undefined) {
      e = tf.keep(tf.tensor2d(rng.normalArray(memory.size), memory.shape));
      eps.set(b, e);
    }
    return noisyVectors(memory, sigma, e);
  };
  try {
    const r = await nllGiven(model, batches, [own, shuffled, ...levels.map(noisy)]);
    const [o, s, ...atLevels] = r.nll as [number, number, ...number[]];
    const gap = s - o;
    const curve = levels.map((sigma, k) => ({ sigma, nll: atLevels[k]!, kept: (s - atLevels[k]!) / gap }));
    const half = gap > 0 ? halfKeptLevel(levels, curve.map((c) => c.kept)) : null;
    return { own: o, shuffled: s, gap, tokens: r.tokens, sentences: r.sentences, levels: curve, half };
  } finally {
    tf.dispose([...eps.values()]);
  }
}
