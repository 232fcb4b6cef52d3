import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { SentenceVAE } from './model.js';
import { textCodec, vectorRows, type CodecTokenizer } from './text-codec.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

/** Letters a..i as ids 3..11, one per character. */
const letters: CodecTokenizer = {
  encodeSync: (s) => Array.from(s, (c) => 3 + ((c.charCodeAt(0) - 97) % 9)),
  encode: async (s) => letters.encodeSync(s),
  decode: async (ids) => ids.map((i) => String.fromCharCode(97 + i - 3)).join(''),
  eos: 2,
};

describe('textCodec', () => {
  it('encodes as the SentenceVAE trained (cut to maxTokens, an empty sentence as a lone EOS) and decodes greedily', async () => {
    const svae = new SentenceVAE({ vocabSize: 12, dModel: 8, maxTokens: 4, encoder: { layers: 1, heads: 2, dropout: 0 }, decoder: { layers: 1, heads: 2, dropout: 0 }, seed: 1 }).eval();
    const codec = textCodec(svae, letters);
    expect(codec.dim).toBe(8);
    const [long, cut, empty] = await codec.encode(['abcdefg', 'abcd', '']);
    expect(long).toEqual(cut);
    expect(empty).toEqual((await vectorRows(svae.encode([[2]])))[0]);
    expect(long).not.toEqual(empty);
    const x = tf.tensor2d([...long!, ...empty!], [2, 8]);
    expect(await codec.decode([long!, empty!])).toEqual(await svae.decodeText(x, letters));
    x.dispose();
    svae.dispose();
  });

  it('decodes with the decode options it was given: a token cap, sampling from seed + k at its k-th call', async () => {
    const svae = new SentenceVAE({ vocabSize: 12, dModel: 8, maxTokens: 6, encoder: { layers: 1, heads: 2, dropout: 0 }, decoder: { layers: 1, heads: 2, dropout: 0 }, seed: 3 }).eval();
    const vectors = await textCodec(svae, letters).encode(['abc', 'ghi', 'ee']);
    const x = tf.tensor2d(vectors.flatMap((v) => Array.from(v)), [3, 8]);
    const greedy = await textCodec(svae, letters).decode(vectors);
    // An untrained decoder rarely picks EOS: the greedy sentences run to the model's maxTokens.
    expect(Math.max(...greedy.map((s) => s.length))).toBeGreaterThan(1);
    expect((await textCodec(svae, letters, { maxTokens: 1 }).decode(vectors)).every((s) => s.length <= 1)).toBe(true);
    // More than the model's maxTokens (6) asked: cut to 6, as the SLLM cuts, so it encodes again.
    expect(await textCodec(svae, letters, { maxTokens: 100 }).decode(vectors)).toEqual(greedy);
    expect(greedy.every((s) => s.length <= 6)).toBe(true);
    const sampling = { strategy: 'sample', temperature: 1.5, seed: 7 } as const;
    const codec = textCodec(svae, letters, sampling);
    const sampled = await codec.decode(vectors);
    expect(sampled).toEqual(await svae.decodeText(x, letters, sampling));
    expect(sampled).not.toEqual(greedy);
    const again = await codec.decode(vectors);
    expect(again).toEqual(await svae.decodeText(x, letters, { ...sampling, seed: 8 }));
    expect(again).not.toEqual(sampled);
    // A fresh codec starts from the seed again; greedy decoding has no draws to vary.
    expect(await textCodec(svae, letters, sampling).decode(vectors)).toEqual(sampled);
    const greedyCodec = textCodec(svae, letters);
    expect([await greedyCodec.decode(vectors), await greedyCodec.decode(vectors)]).toEqual([greedy, greedy]);
    x.dispose();
    svae.dispose();
  });

  it('vectorRows reads [n, d] into n vectors and disposes the tensor', async () => {
    const t = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    expect(await vectorRows(t)).toEqual([Float32Array.of(1, 2), Float32Array.of(3, 4), Float32Array.of(5, 6)]);
    expect(t.isDisposed).toBe(true);
  });
});
