/**
 * SentenceLens (Pred-Sent, arXiv 2505.22202, decoding intermediate states): what each layer of
 * the SLLM's sentence-level decoder "would say" at each sentence position, read through the
 * SentenceVAE decoder exactly as the last layer's state is read when generating.
 */
import * as tf from '@tensorflow/tfjs-core';
import { decodeSentences, packSentences, type SentenceBatchInput } from '@sentencelab/sentence-vae';
import type { DocumentSentences } from './document.js';
import { readAndDispose } from './read.js';
import type { SLLM } from './sllm.js';

export interface LensCell {
  /** Greedy decoding of this layer's state at this position (token ids, EOS excluded). */
  tokens: number[];
  /**
   * Cosine between the state mapped to the SentenceVAE's space (the decoder memory it is decoded
   * from) and the SentenceVAE encoding of the true next sentence; null at the last position.
   */
  cosine: number | null;
  /** Token-overlap F1 (multiset) of `tokens` against the true next sentence; null at the last position. */
  f1: number | null;
}

export interface LensGrid {
  /** cells[layer][position], layer 0 = after the first block; the last layer is what generation decodes. */
  cells: LensCell[][];
  /** The true next sentence of each position (sentence position + 1), null at the last position. */
  targets: (number[] | null)[];
}

export interface LensOptions {
  /** Most tokens decoded per cell (default: the SentenceVAE decoder's maxTokens). */
  maxTokens?: number;
}

/**
 * Decodes the hidden state of every decoder layer at every position of a document of
 * 1..decoder.maxLen sentences (token ids per sentence). Intermediate states go through the
 * stack's final norm first, as the last layer's does (the logit-lens convention), so the last
 * layer's cell is what `SLLM.generate` decodes greedily after sentences 0..position.
 */
export async function sentenceLens(model: SLLM, sentences: DocumentSentences, options: LensOptions = {}): Promise<LensGrid> {
  const n = sentences.length;
  const maxLen = model.config.decoder.maxLen;
  if (n < 1 || n > maxLen) throw new Error(`sentenceLens: the document has ${n} sentences; the model reads 1..${maxLen} (decoder.maxLen)`);
  const doc = sentences.map((s) => Array.from(s));
  const pad = model.config.svae.specialIds.pad;
  const packed = packSentences(doc, { pad });
  const batch: SentenceBatchInput = { tokens: packed.tokens, lengths: packed.lengths, shape: [1, n, packed.maxLen] };
  const layers = model.config.decoder.layers;
  const d = model.config.decoder.dModel;
  const { memory, cosines } = model.inEval(() =>
    tf.tidy(() => {
      // memory: [layers * n, dSvae], row layer * n + position.
      const states = model.layerHiddenStates(batch).map((h) => tf.reshape(h, [n, d]) as tf.Tensor2D);
      const memory = model.toMemory(tf.concat(states, 0) as tf.Tensor2D);
      if (n < 2) return { memory, cosines: tf.zeros([0]) };
      // targets: [n - 1, dSvae], the encodings of sentences 1..n-1; cosines: [layers, n - 1].
      const targets = model.svae.encoder.forward(packSentences(doc.slice(1), { pad }));
      const unit = (x: tf.Tensor) => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), 1e-12));
      const predicted = tf.slice(tf.reshape(memory, [layers, n, -1]), [0, 0, 0], [layers, n - 1, -1]);
      return { memory, cosines: tf.sum(tf.mul(unit(predicted), unit(tf.expandDims(targets, 0))), -1) };
    }),
  );
  const cos = await readAndDispose(cosines);
  let decoded: number[][];
  try {
    decoded = (await decodeSentences(model.svae.decoder, memory, { strategy: 'greedy', maxTokens: options.maxTokens })).tokens;
  } finally {
    memory.dispose();
  }
  const targets = doc.map((_, i) => (i + 1 < n ? doc[i + 1]! : null));
  const cells = Array.from({ length: layers }, (_, l) =>
    targets.map((target, i): LensCell => {
      const tokens = decoded[l * n + i]!;
      return target === null ? { tokens, cosine: null, f1: null } : { tokens, cosine: cos[l * (n - 1) + i]!, f1: tokenF1(tokens, target) };
    }),
  );
  return { cells, targets };
}

/** F1 of two token multisets (1 when both are empty). */
export function tokenF1(predicted: readonly number[], target: readonly number[]): number {
  if (predicted.length === 0 && target.length === 0) return 1;
  const left = new Map<number, number>();
  for (const t of target) left.set(t, (left.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const t of predicted) {
    const c = left.get(t) ?? 0;
    if (c > 0) {
      overlap++;
      left.set(t, c - 1);
    }
  }
  if (overlap === 0) return 0;
  const p = overlap / predicted.length;
  const r = overlap / target.length;
  return (2 * p * r) / (p + r);
}
