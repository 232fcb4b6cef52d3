import * as tf from '@tensorflow/tfjs-core';
import { unpackSentences, type SentencesInput, type SentenceTokens, type SpecialIds } from './batch.js';
import type { SentenceDecoder } from './decoder.js';
import type { DecodeOptions, DecodeResult } from './generate.js';
import { corpusBleu, exactMatchRate, perplexity, tokenAccuracy, type ReconstructionPair } from './metrics.js';

/** What scoring reconstructions needs of a SentenceVAE (stated here, so this file does not import the model that calls it). */
export interface Reconstructor {
  readonly config: { readonly specialIds: SpecialIds };
  readonly decoder: SentenceDecoder;
  sentences(input: SentencesInput): SentenceTokens;
  /** One vector per sentence [n, d], eval mode. */
  encode(input: SentencesInput): tf.Tensor2D;
  decodeDetailed(vectors: tf.Tensor, options?: DecodeOptions): Promise<DecodeResult>;
  inEval<T>(fn: () => T): T;
}

/** How well sentences survive encode -> decode. */
export interface ReconstructionMetrics {
  /** Position-wise accuracy of the decoded tokens over reference tokens + EOS. */
  tokenAccuracy: number;
  /** Fraction of sentences decoded exactly (same tokens, then EOS). */
  exactMatch: number;
  /** Teacher-forced per-token perplexity of the references + EOS given their vectors. */
  perplexity: number;
  /** Corpus BLEU-4 of the decoded sentences (token ids, EOS excluded). */
  bleu: number;
  sentences: number;
  /** Scored tokens (real tokens + EOS). */
  tokens: number;
  /** With `groups`: token accuracy and exact match of each group of consecutive sentences, in order. */
  byGroup?: ReconstructionGroup[];
}

/** One group's share of the figures (e.g. the sentences of one document, for intervals over documents). */
export interface ReconstructionGroup {
  sentences: number;
  /** Reference tokens + EOS. */
  tokens: number;
  tokenAccuracy: number;
  exactMatch: number;
}

export interface ReconstructionOptions {
  /** Sentences per forward pass; default 64. */
  batchSize?: number;
  /** How to decode; default greedy. */
  decode?: DecodeOptions;
  /** Sizes of consecutive groups of the input sentences (summing to their count): adds `byGroup`. */
  groups?: readonly number[];
}

function slice(batch: SentenceTokens, from: number, to: number): SentenceTokens {
  const L = batch.maxLen;
  return { tokens: batch.tokens.subarray(from * L, to * L), lengths: batch.lengths.subarray(from, to), n: to - from, maxLen: L };
}

/** Encodes every sentence (eval mode), decodes it back and scores the reconstructions. */
export async function reconstructionMetrics(model: Reconstructor, input: SentencesInput, options: ReconstructionOptions = {}): Promise<ReconstructionMetrics> {
  const all = model.sentences(input);
  const batchSize = options.batchSize ?? 64;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`reconstructionMetrics: batchSize must be an integer >= 1, got ${batchSize}`);
  const groups = options.groups;
  if (groups && !(groups.every((g) => Number.isInteger(g) && g >= 0) && groups.reduce((a, g) => a + g, 0) === all.n)) {
    throw new Error(`reconstructionMetrics: groups must be counts >= 0 summing to the ${all.n} sentences, got [${groups.join(', ')}]`);
  }
  const { eos } = model.config.specialIds;
  const pairs: ReconstructionPair[] = [];
  const bleuPairs: ReconstructionPair[] = [];
  let logProbSum = 0;
  let count = 0;
  for (let from = 0; from < all.n; from += batchSize) {
    const batch = slice(all, from, Math.min(all.n, from + batchSize));
    const vectors = model.encode(batch);
    try {
      const { tokens, ended } = await model.decodeDetailed(vectors, options.decode ?? {});
      const logp = model.inEval(() => model.decoder.logProbs(vectors, batch));
      const sum = tf.tidy(() => tf.sum(logp));
      logProbSum += (await sum.data())[0]!;
      sum.dispose();
      logp.dispose();
      unpackSentences(batch).forEach((ref, i) => {
        const hyp = tokens[i]!;
        pairs.push({ hyp: ended[i] ? [...hyp, eos] : hyp, ref: [...ref, eos] });
        bleuPairs.push({ hyp, ref });
        count += ref.length + 1;
      });
    } finally {
      vectors.dispose();
    }
  }
  return {
    tokenAccuracy: tokenAccuracy(pairs),
    exactMatch: exactMatchRate(pairs),
    perplexity: perplexity(logProbSum, count),
    bleu: corpusBleu(bleuPairs).bleu,
    sentences: all.n,
    tokens: count,
    ...(groups ? { byGroup: groupFigures(pairs, groups) } : {}),
  };
}

function groupFigures(pairs: readonly ReconstructionPair[], groups: readonly number[]): ReconstructionGroup[] {
  let from = 0;
  return groups.map((n) => {
    const part = pairs.slice(from, (from += n));
    return { sentences: n, tokens: part.reduce((a, p) => a + p.ref.length, 0), tokenAccuracy: tokenAccuracy(part), exactMatch: exactMatchRate(part) };
  });
}
