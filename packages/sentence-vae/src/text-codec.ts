/**
 * A SentenceVAE and its tokenizer as a text codec (sentences <-> vectors): the concept space of
 * the LCM heads (`@sentencelab/concept-heads`' `ConceptCodec` has this shape), in Node and in
 * a browser alike.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DecodeOptions } from './generate.js';
import type { SentenceVAE, TokenizerLike } from './model.js';

export interface TextCodec {
  dim: number;
  encode(sentences: string[]): Promise<Float32Array[]>;
  decode(vectors: Float32Array[]): Promise<string[]>;
}

/** A tokenizer that also encodes synchronously and names its EOS id (the data package's do). */
export interface CodecTokenizer extends TokenizerLike {
  encodeSync(text: string): number[];
  eos: number;
}

/**
 * Sentences are encoded as the SentenceVAE trained on them: cut to its maxTokens, an empty one
 * as a lone EOS; vectors decode with `decode` (default greedy; at most the model's maxTokens,
 * whatever `decode.maxTokens` asks, so every decoded sentence can be encoded again).
 * When sampling, the codec's k-th decode call (from 0) draws from `decode.seed + k`: a concept
 * head decodes one sentence a call, and the same draws for each would couple its sentences
 * (as the SLLM decodes its k-th sentence from seed + k). A fresh codec starts again at k = 0.
 */
export function textCodec(svae: SentenceVAE, tokenizer: CodecTokenizer, decode: DecodeOptions = {}): TextCodec {
  const d = svae.config.dModel;
  let calls = 0;
  // At most the SentenceVAE's maxTokens, as the SLLM cuts: a longer sentence could not be encoded again.
  const maxTokens = Math.min(decode.maxTokens ?? svae.config.maxTokens, svae.config.maxTokens);
  return {
    dim: d,
    async encode(sentences) {
      const ids = sentences.map((s) => {
        const t = tokenizer.encodeSync(s).slice(0, svae.config.maxTokens);
        return t.length > 0 ? t : [tokenizer.eos];
      });
      return await vectorRows(svae.encode(ids));
    },
    async decode(vectors) {
      const flat = new Float32Array(vectors.length * d);
      vectors.forEach((v, i) => flat.set(v, i * d));
      const x = tf.tensor2d(flat, [vectors.length, d]);
      try {
        return await svae.decodeText(x, tokenizer, { ...decode, maxTokens, seed: (decode.seed ?? 0) + calls++ });
      } finally {
        x.dispose();
      }
    },
  };
}

/** t: [n, d] -> n vectors, read asynchronously; disposes `t`. */
export async function vectorRows(t: tf.Tensor2D): Promise<Float32Array[]> {
  const [n, d] = t.shape;
  let flat: Float32Array;
  try {
    flat = (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}
