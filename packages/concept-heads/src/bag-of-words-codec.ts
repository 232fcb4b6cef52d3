/**
 * A small, real {@link ConceptCodec} for examples, smoke tests and ablations: a sentence's vector
 * is the sum of fixed random word vectors (one seeded Gaussian per word) over sqrt(#words), and
 * decoding returns the sentence of a fixed bank whose vector is nearest by cosine. It needs no
 * training, so the heads can be tried before a SentenceVAE exists.
 */
import { Rng } from '@sentencelab/tensor';
import type { ConceptCodec } from './codec.js';
import { cosine } from './evaluation.js';

export interface BagOfWordsCodecOptions {
  dim: number;
  /** The sentences `decode` can return (the end sentence belongs here too). */
  bank: string[];
  seed: number;
}

const words = (sentence: string): string[] => sentence.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];

/** FNV-1a over UTF-16 code units: a stable per-word seed. */
function hash(word: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class BagOfWordsCodec implements ConceptCodec {
  readonly dim: number;
  private readonly seed: number;
  private readonly bank: string[];
  private readonly bankVectors: Float32Array[];

  constructor(options: BagOfWordsCodecOptions) {
    if (!Number.isInteger(options.dim) || options.dim < 1) throw new Error(`BagOfWordsCodec: dim must be a positive integer, got ${options.dim}`);
    if (options.bank.length === 0) throw new Error('BagOfWordsCodec: the sentence bank is empty');
    this.dim = options.dim;
    this.seed = options.seed;
    this.bank = [...options.bank];
    this.bankVectors = this.bank.map((s) => this.embed(s));
  }

  private embed(sentence: string): Float32Array {
    const out = new Float32Array(this.dim);
    const ws = words(sentence);
    for (const w of ws) {
      const v = new Rng((hash(w) ^ this.seed) >>> 0).normalArray(this.dim);
      for (let j = 0; j < this.dim; j++) out[j]! += v[j]!;
    }
    const norm = Math.sqrt(Math.max(1, ws.length));
    for (let j = 0; j < this.dim; j++) out[j]! /= norm;
    return out;
  }

  async encode(sentences: string[]): Promise<Float32Array[]> {
    return sentences.map((s) => this.embed(s));
  }

  async decode(vectors: Float32Array[]): Promise<string[]> {
    return vectors.map((v) => {
      let best = 0;
      let bestCos = -Infinity;
      this.bankVectors.forEach((b, i) => {
        const c = cosine(v, b);
        if (c > bestCos) {
          bestCos = c;
          best = i;
        }
      });
      return this.bank[best]!;
    });
  }
}
