/**
 * SentenceLens for Base-LCM and the energy head (Pred-Sent, arXiv 2505.22202, decoding
 * intermediate states): what each decoder layer would predict at each sentence position,
 * decoded by the concept codec. Base-LCM reads each layer's state through its postnet; the
 * energy head through its generator, with one noise draw for every cell. Diffusion heads have
 * no such lens: their layers denoise a noisy vector, they do not hold a prediction of the next
 * sentence.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BaseLcm } from './base-lcm.js';
import { EnergyLcm } from './energy-lcm.js';
import { encodeWithCodec, type ConceptCodec } from './codec.js';
import { cosine } from './evaluation.js';

export interface ConceptLensCell {
  /** The codec's decoding of the layer's predicted embedding. */
  text: string;
  /** Cosine between the predicted raw embedding and the true next sentence's; null at the last position. */
  cosine: number | null;
}

export interface ConceptLensGrid {
  /** cells[layer][position]; the last layer is what `generate` predicts after sentences 0..position. */
  cells: ConceptLensCell[][];
  /** The true next sentence of each position; null at the last. */
  targets: (string | null)[];
}

/** The heads with a lens. */
export type LensHead = BaseLcm | EnergyLcm;

/** Whether a head has a lens (Base-LCM and the energy head; diffusion heads do not). */
export function hasLens(model: unknown): model is LensHead {
  return model instanceof BaseLcm || model instanceof EnergyLcm;
}

/**
 * Reads 1..maxContext sentences and decodes every layer's prediction (final norm and postnet,
 * or the energy head's generator with the noise of `seed`, default the head's config seed,
 * applied to each layer's state, denormalised) at every position with `codec`.
 */
export async function conceptLens(model: LensHead, codec: ConceptCodec, sentences: string[], options: { seed?: number } = {}): Promise<ConceptLensGrid> {
  const n = sentences.length;
  if (n < 1 || n > model.maxContext) throw new Error(`conceptLens: ${n} sentences; the head reads 1..${model.maxContext} (maxSentences - 1)`);
  const d = model.config.dEmb;
  const vectors = await encodeWithCodec(codec, sentences);
  const flat = new Float32Array(n * d);
  vectors.forEach((v, i) => flat.set(model.normalizer.normalizeVector(v), i * d));
  // predictions: [layers * n, dEmb] normalised, row layer * n + position.
  const layerPredictions = (x: tf.Tensor3D) => (model instanceof BaseLcm ? model.layerPredictions(x) : model.layerPredictions(x, options.seed));
  const predictions = model.inEval(() => tf.tidy(() => tf.reshape(tf.concat(layerPredictions(tf.tensor3d(flat, [1, n, d])), 0), [-1, d])));
  let values: Float32Array;
  try {
    values = (await predictions.data()) as Float32Array;
  } finally {
    predictions.dispose();
  }
  // Denormalised as `predictNext` does it, so the last layer's vectors are generation's exactly.
  const rows = Array.from({ length: values.length / d }, (_, r) => model.normalizer.denormalizeVector(values.subarray(r * d, (r + 1) * d)));
  const texts = await codec.decode(rows);
  const layers = rows.length / n;
  return {
    cells: Array.from({ length: layers }, (_, l) =>
      sentences.map((_, i) => ({ text: texts[l * n + i]!, cosine: i + 1 < n ? cosine(rows[l * n + i]!, vectors[i + 1]!) : null })),
    ),
    targets: sentences.map((_, i) => sentences[i + 1] ?? null),
  };
}
