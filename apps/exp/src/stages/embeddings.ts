/**
 * Sentence vectors of held-out documents: encoding them with a SentenceVAE, and the bounded
 * sample a run keeps of them in `embeddings.json` (`@sentencelab/runs`) for the report's
 * embedding view.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DatasetDocument } from '@sentencelab/data';
import { spreadQuota } from '@sentencelab/metrics';
import { MAX_EMBEDDING_SENTENCES, type EmbeddingsInput } from '@sentencelab/runs';
import { packSentences, vectorRows, type SentenceTokens, type SentenceVAE } from '@sentencelab/sentence-vae';

/** Sentences per encoder call. */
const ENCODE_BATCH = 256;

/**
 * On webgpu a batch is padded to a multiple of this many tokens: tfjs's buffer pool keeps a
 * buffer of every size it ever made (a fresh, zero-initialised GPU allocation the first time),
 * so batches padded to their own longest sentence would leave one set of activation buffers per
 * sentence length (64 lengths at the paper's limit) where 8 do. On CPU backends the padding would
 * only be work, so there batches keep their own length.
 */
export const GPU_LENGTH_MULTIPLE = 8;

export interface EmbedOptions {
  /** Pad each batch to a multiple of this many tokens (default {@link GPU_LENGTH_MULTIPLE} on webgpu, else 1). */
  lengthMultiple?: number;
}

/**
 * Each document's sentences as SVAE embeddings. All sentences are encoded together, shortest
 * first, in batches of {@link ENCODE_BATCH}: a batch is padded to its longest sentence, so
 * batching sentences of similar length instead of each document's in order does a third of the
 * work on Brown (15 s instead of 48 s for the 449 training documents on one core). The encoder
 * masks padding, so a sentence's vector does not depend on its batch (to float rounding: on
 * Brown's training documents the vectors came out bit-identical; embeddings.test.ts), nor on
 * padding to {@link GPU_LENGTH_MULTIPLE} on webgpu.
 */
export async function embedDocuments(svae: SentenceVAE, docs: readonly DatasetDocument[], options: EmbedOptions = {}): Promise<Float32Array[][]> {
  const [vectors] = await encodeByLength(svae, docs, options, 1, async (sentences) => [await vectorRows(svae.encode(sentences))]);
  return vectors!;
}

/**
 * Each document's sentences' posteriors under a variational SentenceVAE: the means (equal to
 * {@link embedDocuments}' vectors) and standard deviations exp(logVar / 2), batched the same way.
 */
export async function embedPosteriors(svae: SentenceVAE, docs: readonly DatasetDocument[], options: EmbedOptions = {}): Promise<{ means: Float32Array[][]; stds: Float32Array[][] }> {
  const [means, stds] = await encodeByLength(svae, docs, options, 2, async (sentences) => {
    const { mean, logVar } = svae.posterior(sentences);
    const std = tf.tidy(() => tf.exp(tf.mul(logVar, 0.5)) as tf.Tensor2D);
    logVar.dispose();
    return [await vectorRows(mean), await vectorRows(std)];
  });
  return { means: means!, stds: stds! };
}

/**
 * Encodes every sentence of `docs` shortest first (see {@link embedDocuments}); `encode` gives
 * `outputs` lists of rows per batch (one row per sentence each), returned per document in order.
 */
async function encodeByLength(
  svae: SentenceVAE,
  docs: readonly DatasetDocument[],
  options: EmbedOptions,
  outputs: number,
  encode: (sentences: SentenceTokens) => Promise<Float32Array[][]>,
): Promise<Float32Array[][][]> {
  const multiple = options.lengthMultiple ?? (tf.getBackend() === 'webgpu' ? GPU_LENGTH_MULTIPLE : 1);
  const order = docs.flatMap((d, doc) => d.sentences.map((s, i) => ({ doc, i, length: s.length })));
  order.sort((a, b) => a.length - b.length); // stable: equal lengths keep document order
  const out = Array.from({ length: outputs }, () => docs.map((d) => new Array<Float32Array>(d.sentences.length)));
  for (let k = 0; k < order.length; k += ENCODE_BATCH) {
    const batch = order.slice(k, k + ENCODE_BATCH);
    const longest = batch.at(-1)!.length; // sorted: the last is the longest
    const sentences = packSentences(batch.map((s) => Array.from(docs[s.doc]!.sentences[s.i]!)), { pad: svae.config.specialIds.pad, maxLen: Math.ceil(longest / multiple) * multiple });
    const rows = await encode(sentences);
    rows.forEach((r, o) => batch.forEach((s, j) => (out[o]![s.doc]![s.i] = r[j]!)));
  }
  return out;
}

/**
 * The first sentences of every document, {@link MAX_EMBEDDING_SENTENCES} in all at most: an
 * equal share each (`spreadQuota`, so a plot coloured by document shows them all).
 */
function firstSentences<T>(documents: readonly (readonly T[])[]): T[][] {
  const quota = spreadQuota(documents.map((d) => d.length), MAX_EMBEDDING_SENTENCES);
  return documents.map((d, i) => d.slice(0, quota[i]));
}

/**
 * A SentenceVAE run's embeddings.json: the first sentences of each held-out document (at most
 * {@link MAX_EMBEDDING_SENTENCES} in all, an equal share each), encoded by the trained model.
 */
export async function svaeEmbeddings(svae: SentenceVAE, docs: readonly DatasetDocument[], step: number): Promise<EmbeddingsInput> {
  const kept = firstSentences(docs.map((d) => d.sentences.map((ids, i) => ({ ids, text: d.texts[i] ?? '' }))))
    .map((sentences, i) => ({ doc: docs[i]!, sentences }))
    .filter((d) => d.sentences.length > 0);
  const vectors = await embedDocuments(svae, kept.map((d) => ({ ...d.doc, sentences: d.sentences.map((s) => s.ids) })));
  return {
    formatVersion: 1,
    source: 'svae',
    step,
    dim: svae.config.dModel,
    documents: kept.map((d, i) => ({ id: d.doc.id, sentences: d.sentences.map((s, j) => ({ text: s.text, vector: Array.from(vectors[i]![j]!) })) })),
  };
}

/**
 * A concept head's embeddings.json: its test documents' sentence vectors and its teacher-forced
 * prediction of every sentence after each document's first (`predictions[k]` is the prediction
 * of document `docOf[k]`'s next sentence, in order), cut to the bound whole sentences first.
 */
export function headEmbeddings(
  docs: readonly DatasetDocument[],
  vectors: readonly Float32Array[][],
  predictions: { predictions: readonly Float32Array[]; targets: readonly Float32Array[]; docOf: readonly number[] },
  step: number,
): EmbeddingsInput {
  const kept = firstSentences(vectors);
  const next = docs.map(() => 1);
  const out: EmbeddingsInput['predictions'] = [];
  predictions.predictions.forEach((p, k) => {
    const d = predictions.docOf[k]!;
    const sentence = next[d]!++;
    // Windows overlap by one sentence, so each document's targets are its sentences 1..n-1 in order.
    const truth = vectors[d]?.[sentence];
    if (!truth || !truth.every((x, i) => x === predictions.targets[k]![i])) throw new Error(`prediction ${k}: its target is not sentence ${sentence} of test document ${d}`);
    if (sentence < kept[d]!.length && out.length < MAX_EMBEDDING_SENTENCES) out.push({ document: d, sentence, vector: Array.from(p) });
  });
  return {
    formatVersion: 1,
    source: 'concept-head',
    step,
    dim: vectors[0]?.[0]?.length ?? 0,
    documents: docs.map((d, i) => ({ id: d.id, sentences: kept[i]!.map((v, j) => ({ text: d.texts[j] ?? '', vector: Array.from(v) })) })),
    predictions: out,
  };
}
