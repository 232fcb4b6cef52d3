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

/** x: [batch, seq, dEmb] raw embeddings; mask: [batch, seq], 1 = real sentence, right-padded. */
export interface ConceptBatch {
  x: tf.Tensor3D;
  mask: tf.Tensor2D;
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

/** Stacks windows into one right-padded batch; the caller disposes the tensors. */
export function collateWindows(windows: Float32Array[][], dim: number): ConceptBatch {
  if (windows.length === 0) throw new Error('collateWindows: no windows');
  const seq = Math.max(...windows.map((w) => w.length));
  const x = new Float32Array(windows.length * seq * dim);
  const mask = new Float32Array(windows.length * seq);
  windows.forEach((w, b) => {
    w.forEach((v, s) => {
      if (v.length !== dim) throw new Error(`collateWindows: window ${b}, sentence ${s} has ${v.length} dims, expected ${dim}`);
      x.set(v, (b * seq + s) * dim);
      mask[b * seq + s] = 1;
    });
  });
  return { x: tf.tensor3d(x, [windows.length, seq, dim]), mask: tf.tensor2d(mask, [windows.length, seq]) };
}

export interface BatchOptions extends WindowOptions {
  batchSize: number;
  /** Shuffles the windows first when given (one seeded order per call). */
  rng?: Rng;
}

/** Windows -> batches of `batchSize` (the last may be smaller); each batch is built on demand. */
export function* conceptBatches(docs: Float32Array[][], options: BatchOptions): Generator<ConceptBatch> {
  const { batchSize, rng } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  const windows = conceptWindows(docs, options);
  if (rng) rng.shuffle(windows);
  const dim = windows[0]?.[0]?.length ?? 0;
  for (let i = 0; i < windows.length; i += batchSize) yield collateWindows(windows.slice(i, i + batchSize), dim);
}

export function disposeBatch(batch: ConceptBatch): void {
  batch.x.dispose();
  batch.mask.dispose();
}
