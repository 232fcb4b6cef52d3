import type { Rng } from '@sentencelab/tensor';
import type { SentenceTokens, TeacherForcing } from './batch.js';

/**
 * Word dropout on the decoder's teacher-forced inputs (Bowman et al. 2016, "Generating Sentences
 * from a Continuous Space"): each real token input (t1..tn; never the BOS) is replaced by
 * `token` with probability `rate`, so the decoder cannot predict the next word from the words
 * before it alone and has to read the sentence vector. Targets and mask are untouched.
 * Draws one uniform per real token input from `rng`, in row-major order; returns a new
 * inputs array [n * T] (the given one is not modified). rate 0 returns the inputs as they are.
 */
export function dropWords(tf: TeacherForcing, lengths: ArrayLike<number>, rate: number, token: number, rng: Rng): Int32Array {
  // Inputs of sentence i: position 0 is the BOS, positions 1..len are t1..tn.
  return replaceTokens(tf.inputs, tf.n, tf.T, 1, lengths, rate, token, rng);
}

/**
 * Token masking on the encoder's input (CALM, arXiv 2510.27688: 15% of its autoencoder's input
 * tokens): each real token of each sentence is replaced by `token` with probability `rate`, so the
 * vector cannot hang on any one token. Draws one uniform per real token, in row-major order;
 * returns a new batch (the given one is not modified; lengths shared). rate 0 returns the batch.
 */
export function maskTokens(batch: SentenceTokens, rate: number, token: number, rng: Rng): SentenceTokens {
  const tokens = replaceTokens(batch.tokens, batch.n, batch.maxLen, 0, batch.lengths, rate, token, rng);
  return tokens === batch.tokens ? batch : { ...batch, tokens };
}

/** `ids` [n * stride] with each of row i's positions first..first+lengths[i]-1 replaced by `token` with probability `rate` (one uniform each, row-major); a copy, or `ids` itself at rate 0. */
function replaceTokens(ids: Int32Array, n: number, stride: number, first: number, lengths: ArrayLike<number>, rate: number, token: number, rng: Rng): Int32Array {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`token dropout rate must be in [0, 1], got ${rate}`);
  if (rate === 0) return ids;
  const out = ids.slice();
  for (let i = 0; i < n; i++) {
    for (let j = first; j < first + lengths[i]!; j++) if (rng.uniform() < rate) out[i * stride + j] = token;
  }
  return out;
}
