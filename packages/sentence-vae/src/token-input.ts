import * as tf from '@tensorflow/tfjs-core';
import { Embedding, init, LearnedPositionalEmbedding, sinusoidalEncoding, type Rng } from '@sentencelab/tensor';
import type { SentenceTokens } from './batch.js';

/**
 * Token embedding table for a SentenceVAE: N(0, 1/d) init, scaled by sqrt(d) on the way in
 * (Vaswani et al.), so tokens and sinusoidal positions start on the same scale and a tied output
 * projection starts with unit-scale logits.
 */
export function createTokenEmbedding(vocabSize: number, dModel: number, rng: Rng): Embedding {
  return new Embedding({ numEmbeddings: vocabSize, dim: dModel, init: init.normal(1 / Math.sqrt(dModel)), rng });
}

/**
 * Token + position embedding. ids: int32 [n, T] at positions offset..offset+T-1 -> [n, T, d].
 * `positions` undefined = sinusoidal.
 */
export function embedTokens(embedding: Embedding, positions: LearnedPositionalEmbedding | undefined, ids: tf.Tensor2D, offset = 0): tf.Tensor3D {
  return tf.tidy(() => {
    const T = ids.shape[1];
    const dim = embedding.dim;
    const tokens = tf.mul(embedding.forward(ids), Math.sqrt(dim));
    const pos = positions === undefined ? sinusoidalEncoding(T, dim, offset) : positions.forward(T, offset);
    return tf.add(tokens, pos) as tf.Tensor3D;
  });
}

/**
 * Checks a flat sentence batch against the model's limits (lengths 1..maxTokens, ids inside the
 * vocabulary) and drops the padding columns past the longest sentence.
 */
export function checkSentences(batch: SentenceTokens, maxTokens: number, vocabSize: number): SentenceTokens {
  const { n, maxLen } = batch;
  if (n === 0) throw new Error('sentence batch is empty (n = 0)');
  if (batch.tokens.length !== n * maxLen || batch.lengths.length !== n) {
    throw new Error(`sentence batch: tokens has ${batch.tokens.length} values and lengths ${batch.lengths.length} for n = ${n}, maxLen = ${maxLen}`);
  }
  let longest = 0;
  for (let i = 0; i < n; i++) {
    const len = batch.lengths[i]!;
    if (!(len >= 1 && len <= maxTokens)) throw new Error(`sentence ${i} has ${len} tokens; the model takes 1..${maxTokens} (config maxTokens)`);
    if (len > maxLen) throw new Error(`sentence ${i} has length ${len} > maxLen ${maxLen}`);
    longest = Math.max(longest, len);
  }
  for (let i = 0; i < n * maxLen; i++) {
    const t = batch.tokens[i]!;
    if (!(t >= 0 && t < vocabSize)) throw new Error(`token id ${t} (sentence ${Math.floor(i / maxLen)}) is outside the vocabulary (size ${vocabSize})`);
  }
  if (longest === maxLen) return batch;
  const tokens = new Int32Array(n * longest);
  for (let i = 0; i < n; i++) tokens.set(batch.tokens.subarray(i * maxLen, i * maxLen + longest), i * longest);
  return { tokens, lengths: batch.lengths, n, maxLen: longest };
}

/**
 * A flat sentence batch as tensors (checked, see {@link checkSentences}).
 * -> ids: int32 [n, L], mask: float32 [n, L] (1 = real token), L = the longest sentence.
 */
export function sentenceTensors(batch: SentenceTokens, maxTokens: number, vocabSize: number): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  return paddedTensors(checkSentences(batch, maxTokens, vocabSize));
}

/** {@link sentenceTensors} of a batch already checked (and trimmed to its longest sentence). */
export function paddedTensors({ tokens, lengths, n, maxLen: L }: SentenceTokens): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  const mask = new Float32Array(n * L);
  for (let i = 0; i < n; i++) mask.fill(1, i * L, i * L + lengths[i]!);
  return { ids: tf.tensor2d(tokens, [n, L], 'int32'), mask: tf.tensor2d(mask, [n, L]) };
}
