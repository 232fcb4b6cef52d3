/**
 * Documents as sequences of concept vectors -> training batches.
 *
 * A document is its sentences' embeddings in order, with the end sentence's embedding appended
 * (the model learns to predict "End of text." and generation stops on it). Documents longer than
 * `maxSentences` become consecutive windows that overlap by one sentence: position 0 of a window
 * is never a target, so with the overlap every sentence after a document's first is a target in
 * exactly one window, and no sentence is cut off.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@sentencelab/tensor';

/**
 * x: [batch, seq, dEmb] raw embeddings; mask: [batch, seq], 1 = real sentence, right-padded;
 * std: [batch, seq, dEmb], the standard deviation of each embedding's posterior where the
 * embeddings are a variational SentenceVAE's posterior means (0 for the end sentence and padding).
 */
export interface ConceptBatch {
  x: tf.Tensor3D;
  mask: tf.Tensor2D;
  std?: tf.Tensor3D;
}

export interface WindowOptions {
  /** Longest window in sentences (>= 2: a context and a target). */
  maxSentences: number;
  /** Appended to every document (the end-of-text embedding); null = documents as they are. */
  endVector: Float32Array | null;
}

/** Splits documents into windows of at most `maxSentences` vectors (see the file comment). */
export function conceptWindows(docs: Float32Array[][], options: WindowOptions): Float32Array[][] {
  const { maxSentences, endVector } = options;
  if (!Number.isInteger(maxSentences) || maxSentences < 2) throw new Error(`maxSentences must be an integer >= 2, got ${maxSentences}`);
  const windows: Float32Array[][] = [];
  docs.forEach((doc, d) => {
    const dim = endVector?.length ?? doc[0]?.length;
    doc.forEach((v, i) => {
      if (v.length !== dim) throw new Error(`document ${d}, sentence ${i}: vector has ${v.length} dims, expected ${dim}`);
    });
    const seq = endVector ? [...doc, endVector] : doc;
    if (seq.length < 2) return; // nothing to predict
    for (let start = 0; ; start += maxSentences - 1) {
      const end = Math.min(start + maxSentences, seq.length);
      windows.push(seq.slice(start, end));
      if (end === seq.length) break;
    }
  });
  return windows;
}

/** Windows (each [seq][dim]) -> [windows, longest, dim], right-padded with zeros, and the mask. */
function padded(windows: Float32Array[][], dim: number): { values: Float32Array; mask: Float32Array; seq: number } {
  const seq = Math.max(...windows.map((w) => w.length));
  const values = new Float32Array(windows.length * seq * dim);
  const mask = new Float32Array(windows.length * seq);
  windows.forEach((w, b) => {
    w.forEach((v, s) => {
      if (v.length !== dim) throw new Error(`collateWindows: window ${b}, sentence ${s} has ${v.length} dims, expected ${dim}`);
      values.set(v, (b * seq + s) * dim);
      mask[b * seq + s] = 1;
    });
  });
  return { values, mask, seq };
}

/**
 * Stacks windows into one right-padded batch, with their posterior standard deviations when
 * given (`stds[b][s]` belongs to `windows[b][s]`); the caller disposes the tensors.
 */
export function collateWindows(windows: Float32Array[][], dim: number, stds?: Float32Array[][]): ConceptBatch {
  if (windows.length === 0) throw new Error('collateWindows: no windows');
  const { values, mask, seq } = padded(windows, dim);
  const batch: ConceptBatch = { x: tf.tensor3d(values, [windows.length, seq, dim]), mask: tf.tensor2d(mask, [windows.length, seq]) };
  if (stds) {
    if (stds.length !== windows.length || stds.some((w, b) => w.length !== windows[b]!.length)) throw new Error('collateWindows: the stds are not shaped like the windows');
    batch.std = tf.tensor3d(padded(stds, dim).values, [windows.length, seq, dim]);
  }
  return batch;
}

export interface BatchOptions extends WindowOptions {
  batchSize: number;
  /** Shuffles the windows first when given (one seeded order per call). */
  rng?: Rng;
  /**
   * Each document's posterior standard deviations, shaped like `docs` (a variational
   * SentenceVAE's; the end sentence gets 0): the batches carry them as `std`.
   */
  stds?: Float32Array[][];
}

/** Windows -> batches of `batchSize` (the last may be smaller); each batch is built on demand. */
export function* conceptBatches(docs: Float32Array[][], options: BatchOptions): Generator<ConceptBatch> {
  const { batchSize, rng, stds } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  if (stds && (stds.length !== docs.length || stds.some((s, d) => s.length !== docs[d]!.length))) throw new Error('conceptBatches: stds must have one vector per sentence of each document');
  const windows = conceptWindows(docs, options);
  // The stds cut into the same windows (the cut depends only on the documents' lengths).
  const stdWindows = stds && conceptWindows(stds, { ...options, endVector: options.endVector && new Float32Array(options.endVector.length) });
  const pairs = windows.map((w, i) => ({ w, s: stdWindows?.[i] }));
  if (rng) rng.shuffle(pairs);
  const dim = windows[0]?.[0]?.length ?? 0;
  for (let i = 0; i < pairs.length; i += batchSize) {
    const slice = pairs.slice(i, i + batchSize);
    yield collateWindows(
      slice.map((p) => p.w),
      dim,
      stdWindows && slice.map((p) => p.s!),
    );
  }
}

export function disposeBatch(batch: ConceptBatch): void {
  batch.x.dispose();
  batch.mask.dispose();
  batch.std?.dispose();
}
