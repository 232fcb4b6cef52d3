/** From text to the frozen concept space a head is built on. */
import { encodeWithCodec, type ConceptCodec } from './codec.js';
import type { ConceptSpace } from './model.js';
import { EmbeddingNormalizer, type NormalizerKind } from './normalizer.js';

/** Encodes documents (each a list of sentences) to lists of vectors, in one codec call per document. */
export async function encodeDocuments(codec: ConceptCodec, documents: string[][]): Promise<Float32Array[][]> {
  const out: Float32Array[][] = [];
  for (const doc of documents) out.push(await encodeWithCodec(codec, doc));
  return out;
}

/**
 * Fits the normaliser on the training documents' embeddings (the end sentence included, since
 * the models predict it too) and encodes the end sentence.
 */
export async function fitConceptSpace(
  codec: ConceptCodec,
  trainVectors: Float32Array[][],
  options: { normalizer: NormalizerKind; endSentence: string },
): Promise<ConceptSpace> {
  const [endVector] = await encodeWithCodec(codec, [options.endSentence]);
  const all = trainVectors.flat();
  if (all.length === 0) throw new Error('fitConceptSpace: the training documents have no sentences');
  const normalizer = EmbeddingNormalizer.fit([...all, endVector!], options.normalizer);
  return { normalizer, endVector: endVector! };
}
