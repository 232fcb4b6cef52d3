import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { packSentences, teacherForcing } from './batch.js';
import { SentenceVAE } from './model.js';
import { dropWords, maskTokens } from './word-dropout.js';

beforeAll(async () => {
  await initBackend('wasm', { log: false });
});

const ids = { pad: 0, bos: 1, eos: 2 };

describe('dropWords', () => {
  const batch = packSentences([[5, 6, 7], [8, 9]], { pad: 0 });
  const tfb = teacherForcing(batch, ids); // T = 4: [1 5 6 7], [1 8 9 0]

  it('rate 0 keeps the inputs; rate 1 replaces every real token input but never the BOS or the padding', () => {
    expect(dropWords(tfb, batch.lengths, 0, 3, new Rng(0))).toEqual(tfb.inputs);
    const all = dropWords(tfb, batch.lengths, 1, 3, new Rng(0));
    expect(Array.from(all)).toEqual([1, 3, 3, 3, 1, 3, 3, 0]);
    expect(Array.from(tfb.inputs)).toEqual([1, 5, 6, 7, 1, 8, 9, 0]); // not modified
  });

  it('drops about `rate` of the tokens, the same ones for the same seed', () => {
    const long = packSentences(Array.from({ length: 200 }, (_, i) => Array.from({ length: 10 }, (_, j) => 4 + ((i + j) % 20))), { pad: 0 });
    const t = teacherForcing(long, ids);
    const a = dropWords(t, long.lengths, 0.25, 3, new Rng(7));
    const dropped = a.filter((x) => x === 3).length;
    expect(dropped / 2000).toBeGreaterThan(0.22);
    expect(dropped / 2000).toBeLessThan(0.28);
    expect(dropWords(t, long.lengths, 0.25, 3, new Rng(7))).toEqual(a);
  });

  it('refuses a rate outside [0, 1]', () => {
    expect(() => dropWords(tfb, batch.lengths, 1.5, 3, new Rng(0))).toThrow(/\[0, 1\], got 1.5/);
  });
});

describe('maskTokens', () => {
  const batch = packSentences([[5, 6, 7], [8, 9]], { pad: 0 }); // maxLen 3: [5 6 7], [8 9 0]

  it('rate 0 returns the batch; rate 1 replaces every real token but never the padding', () => {
    expect(maskTokens(batch, 0, 3, new Rng(0))).toBe(batch);
    const all = maskTokens(batch, 1, 3, new Rng(0));
    expect(Array.from(all.tokens)).toEqual([3, 3, 3, 3, 3, 0]);
    expect(all.lengths).toEqual(batch.lengths);
    expect(Array.from(batch.tokens)).toEqual([5, 6, 7, 8, 9, 0]); // not modified
  });

  it('masks about `rate` of the tokens, the same ones for the same seed', () => {
    const long = packSentences(Array.from({ length: 200 }, (_, i) => Array.from({ length: 10 }, (_, j) => 4 + ((i + j) % 20))), { pad: 0 });
    const a = maskTokens(long, 0.15, 3, new Rng(7));
    const masked = a.tokens.filter((x) => x === 3).length;
    expect(masked / 2000).toBeGreaterThan(0.12);
    expect(masked / 2000).toBeLessThan(0.18);
    expect(maskTokens(long, 0.15, 3, new Rng(7)).tokens).toEqual(a.tokens);
  });
});

describe('decoder.wordDropout', () => {
  // Two sentences with the same targets after the first word: with every input word dropped,
  // the decoder sees [BOS, pad, pad, pad] for both, so their log-probs from position 1 on match.
  const a = [[5, 6, 7]];
  const b = [[8, 6, 7]];
  const model = (wordDropout: number) =>
    new SentenceVAE({ vocabSize: 12, dModel: 16, maxTokens: 6, encoder: { heads: 2, dropout: 0 }, decoder: { heads: 2, dropout: 0, wordDropout } });
  const logProbs = (m: SentenceVAE, s: number[][]) =>
    tf.tidy(() => {
      const memory = tf.ones([1, 16]);
      return Array.from(m.decoder.logProbs(memory, m.sentences(s)).dataSync()).slice(1);
    });

  it('in training mode the decoder no longer reads the dropped words; in eval mode it does', () => {
    const m = model(1);
    m.train(true);
    expect(logProbs(m, a)).toEqual(logProbs(m, b));
    m.train(false);
    expect(logProbs(m, a)).not.toEqual(logProbs(m, b));
  });

  it('is off by default: training mode then reads every word', () => {
    const m = model(0);
    m.train(true);
    expect(logProbs(m, a)).not.toEqual(logProbs(m, b));
  });
});
