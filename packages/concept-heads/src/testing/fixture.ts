/**
 * Test fixture (not part of the published build): three tiny documents in the concept space of
 * a real {@link BagOfWordsCodec}, and a plain AdamW loop to fit a head on them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, disposeGrads, Rng, valueAndGrads } from '@sentencelab/tensor';
import { BagOfWordsCodec } from '../bag-of-words-codec.js';
import { loadConceptHead, saveConceptHead } from '../checkpoint.js';
import { collateWindows, disposeBatch, conceptWindows, type ConceptBatch } from '../batches.js';
import { encodeDocuments, fitConceptSpace } from '../concepts.js';
import type { ConceptModel, ConceptSpace } from '../model.js';
import { EmbeddingNormalizer } from '../normalizer.js';

export const END_SENTENCE = 'End of text.';

export const documents: string[][] = [
  ['The cat sat on the mat.', 'It purred softly in the sun.', 'Then it fell asleep.'],
  ['Rain fell over the old city.', 'People opened their umbrellas.', 'The wet streets shone at night.'],
  ['A ship left the harbour at dawn.', 'Sailors raised every sail.', 'The wind carried them north.'],
];

export const DIM = 16;

/** The tiny model sizes every head test uses. */
export const tinyConfig = {
  dEmb: DIM,
  dModel: 32,
  heads: 2,
  mlpHidden: 64,
  dropout: 0,
  maxSentences: 8,
  seed: 1,
} as const;

export interface Fixture {
  codec: BagOfWordsCodec;
  vectors: Float32Array[][];
  space: ConceptSpace;
}

export async function fixture(): Promise<Fixture> {
  const codec = new BagOfWordsCodec({ dim: DIM, bank: [...documents.flat(), END_SENTENCE], seed: 11 });
  const vectors = await encodeDocuments(codec, documents);
  const space = await fitConceptSpace(codec, vectors, { normalizer: 'robust', endSentence: END_SENTENCE });
  return { codec, vectors, space };
}

/**
 * All training windows (end sentence appended) as one batch, each window `copies` times (more
 * noise draws per step for the diffusion heads); the caller disposes it.
 */
export function trainingBatch(f: Fixture, maxSentences: number, copies = 1): ConceptBatch {
  const windows = conceptWindows(f.vectors, { maxSentences, endVector: f.space.endVector });
  return collateWindows(Array.from({ length: copies }, () => windows).flat(), DIM);
}

/** One AdamW over the model's parameters; `step` takes a full-batch step and returns the loss. */
export function trainer(model: ConceptModel, lr: number): { step(batch: ConceptBatch, lr?: number): Promise<number>; dispose(): void } {
  const opt = new AdamW(model.namedParameters(), { lr, weightDecay: 0 });
  return {
    async step(batch, stepLr = lr) {
      model.train();
      const { loss, grads } = await valueAndGrads(model, () => model.loss(batch).loss);
      opt.applyGradients(grads, stepLr);
      disposeGrads(grads);
      return loss;
    },
    dispose: () => opt.dispose(),
  };
}

/** `steps` full-batch AdamW steps on `batch`, lr decaying linearly to 0; returns every step's loss. */
export async function fit(model: ConceptModel, batch: ConceptBatch, steps: number, lr: number): Promise<number[]> {
  const t = trainer(model, lr);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(await t.step(batch, lr * (1 - i / steps)));
  t.dispose();
  model.eval();
  return losses;
}

/** Eval-mode loss (no dropout, no condition dropout), averaged over `repeats` noise draws. */
export async function evalLoss(model: ConceptModel, batch: ConceptBatch, repeats = 1): Promise<number> {
  model.eval();
  let sum = 0;
  for (let i = 0; i < repeats; i++) {
    const loss = tf.tidy(() => model.loss(batch).loss);
    sum += (await loss.data())[0]!;
    loss.dispose();
  }
  return sum / repeats;
}

/** Generates from each document's first sentence; returns the generated sentences per document. */
export async function continuations(model: ConceptModel, f: Fixture): Promise<string[][]> {
  const out: string[][] = [];
  for (const doc of documents) {
    const got: string[] = [];
    for await (const s of model.generate(f.codec, doc.slice(0, 1), { maxSentences: 6 })) got.push(s.text);
    out.push(got);
  }
  return out;
}

export { disposeBatch };

/**
 * Replaces every parameter with N(0, std^2) noise, so that zero-initialised paths (AdaLN-zero
 * gates, output projections) are live when a test checks what an output depends on.
 */
export function randomizeParameters(model: ConceptModel, seed: number, std = 0.3): void {
  const rng = new Rng(seed);
  const values = new Map<string, tf.Tensor>();
  for (const [name, v] of model.namedParameters()) values.set(name, tf.tensor(rng.normalArray(v.size, 0, std), v.shape));
  model.loadParameters(values);
  tf.dispose([...values.values()]);
}

/** [1, n, DIM] of seeded noise. */
export function noiseTensor(seed: number, n: number): tf.Tensor3D {
  return tf.tensor3d(new Rng(seed).normalArray(n * DIM), [1, n, DIM]);
}

/** Max |a - b| over two same-shaped tensors' rows [from, to) along axis 1. */
export function maxDiff(a: tf.Tensor3D, b: tf.Tensor3D, from: number, to: number): number {
  return tf.tidy(() => {
    const size = [a.shape[0], to - from, a.shape[2]];
    return tf.max(tf.abs(tf.sub(tf.slice(a, [0, from, 0], size), tf.slice(b, [0, from, 0], size)))).dataSync()[0]!;
  });
}

/** A copy of x with rows [from, n) along axis 1 replaced by other noise. */
export function perturbFrom(x: tf.Tensor3D, from: number, seed: number): tf.Tensor3D {
  const [b, n, d] = x.shape;
  return tf.tidy(() => tf.concat([tf.slice(x, [0, 0, 0], [b, from, d]), tf.tensor3d(new Rng(seed).normalArray(b * (n - from) * d), [b, n - from, d])], 1) as tf.Tensor3D);
}

/** Saves `model` to a temporary checkpoint file and loads it back as a new model. */
export async function reloaded(model: ConceptModel): Promise<ConceptModel> {
  const dir = mkdtempSync(join(tmpdir(), 'concept-heads-'));
  try {
    const file = join(dir, 'head.safetensors');
    await saveConceptHead(file, model, { step: 1 });
    return loadConceptHead(file).model;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Documents whose second sentence has a posterior spread: every document is sentence A, then B,
 * whose posterior has std 0.5 in dimension 1 (0 elsewhere), in a 4-d space whose normaliser has
 * scale 2 (draws must be taken in raw units, then scaled). `batch` carries the stds.
 */
export function posteriorSpreadFixture(): { dim: number; a: Float32Array; space: ConceptSpace; batch: ConceptBatch } {
  const dim = 4;
  const a = Float32Array.from([1, 0, 0, 0]);
  const b = Float32Array.from([0, 1, 0, 0]);
  const docs = Array.from({ length: 16 }, () => [a, b]);
  const stds = docs.map(() => [new Float32Array(dim), Float32Array.from([0, 0.5, 0, 0])]);
  const space: ConceptSpace = { normalizer: new EmbeddingNormalizer('standard', new Float32Array(dim), new Float32Array(dim).fill(2)), endVector: Float32Array.from([0, 0, 0, 1]) };
  return { dim, a, space, batch: collateWindows(docs, dim, stds) };
}

/** Mean and sample std of dimension 1 of what `model` predicts after [a], over 64 seeds (raw units). */
export async function spreadAfter(model: ConceptModel, a: Float32Array): Promise<{ mean: number; std: number }> {
  const ys = await Promise.all(Array.from({ length: 64 }, (_, seed) => model.predictNext([a], { seed })));
  const second = ys.map((y) => y[1]!);
  const mean = second.reduce((x, y) => x + y, 0) / second.length;
  return { mean, std: Math.sqrt(second.reduce((x, y) => x + (y - mean) ** 2, 0) / (second.length - 1)) };
}
