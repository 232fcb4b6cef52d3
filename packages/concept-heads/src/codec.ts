/**
 * The frozen concept space: any sentence encoder/decoder pair. The models never train it; they
 * only need its dimension, vectors for sentences, and sentences for vectors.
 */
export interface ConceptCodec {
  /** Embedding dimension d_emb. */
  readonly dim: number;
  /** One vector (length `dim`) per sentence, in order. */
  encode(sentences: string[]): Promise<Float32Array[]>;
  /** One sentence per vector, in order. */
  decode(vectors: Float32Array[]): Promise<string[]>;
}

/** Checks a codec's output so that a bad adapter fails at its source, not deep in a model. */
export async function encodeWithCodec(codec: ConceptCodec, sentences: string[]): Promise<Float32Array[]> {
  const vectors = await codec.encode(sentences);
  if (vectors.length !== sentences.length) {
    throw new Error(`codec.encode returned ${vectors.length} vectors for ${sentences.length} sentences`);
  }
  vectors.forEach((v, i) => {
    if (v.length !== codec.dim) throw new Error(`codec.encode: vector ${i} has ${v.length} dims, codec.dim is ${codec.dim}`);
  });
  return vectors;
}
