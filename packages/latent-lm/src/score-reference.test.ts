/**
 * Both scorers pinned against references built by hand from the model's own forward pass:
 * every scored target enumerated once, its log-probability read from a separate forward over
 * exactly the context the rule gives it. A scorer that scores a sentence from the wrong state
 * or counts a target twice fails here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { packSentences } from '@sentencelab/sentence-vae';
import { beforeAll, describe, expect, test } from 'vitest';
import { documentStream } from './document.js';
import { SLLM } from './sllm.js';
import { TokenLM } from './token-lm.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

const doc = [[5, 6, 7], [8, 9], [10, 5, 11], [4], [6, 6, 3]];

const tokenLm = (maxLen: number) => new TokenLM({ vocabSize: 12, decoder: { dModel: 16, layers: 2, heads: 2, maxLen }, seed: 3 }).eval();

/** log p(ids[last] | ids[0..last-1]) from one forward over exactly those ids. */
function lastTargetLogProb(model: TokenLM, ids: ArrayLike<number>): number {
  const n = ids.length - 1;
  const all = Array.from(ids);
  return tf.tidy(() => model.logProbs(tf.tensor2d([all.slice(0, n)], [1, n], 'int32'), tf.tensor2d([all.slice(1)], [1, n], 'int32')).dataSync()[n - 1]!);
}

function sllm(maxLen: number): SLLM {
  return new SLLM({
    svae: { vocabSize: 12, dModel: 16, maxTokens: 6, encoder: { layers: 1, heads: 2, dropout: 0 }, decoder: { layers: 1, heads: 2, dropout: 0 }, loss: { type: 'cross-entropy' }, seed: 1 },
    decoder: { dModel: 16, layers: 2, heads: 2, maxLen },
    seed: 2,
  }).eval();
}

/** log p(target | hidden state at the last of `context`), from the whole context's forward pass. */
function sllmReference(model: SLLM, context: number[][], target: number[]): number {
  return tf.tidy(() => {
    const S = context.length;
    const packed = packSentences(context, { pad: 0, maxLen: 6 });
    const h = model.hiddenStates({ tokens: packed.tokens, lengths: packed.lengths, shape: [1, S, 6] });
    const last = tf.reshape(tf.slice(h, [0, S - 1, 0], [1, 1, 16]), [1, 16]);
    return tf.sum(model.svae.decoder.logProbs(last, packSentences([target], { pad: 0 }))).dataSync()[0]!;
  });
}

describe('TokenLM.scoreDocument against a hand-built reference', () => {
  test('whole document in one window: equals the whole-stream forward pass, sentence by sentence', async () => {
    const model = tokenLm(32);
    const { stream, sentenceOf } = documentStream(doc, 1, 2);
    const n = stream.length - 1;
    const lp = tf.tidy(() => model.logProbs(tf.tensor2d(stream.subarray(0, n), [1, n], 'int32'), tf.tensor2d(stream.subarray(1), [1, n], 'int32')).dataSync());
    const want = [0, 0, 0, 0];
    for (let p = 1; p <= n; p++) if (sentenceOf[p]! >= 1) want[sentenceOf[p]! - 1]! += lp[p - 1]!;
    const score = await model.scoreDocument(doc);
    score.sentenceLogProbs.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    // Context before each sentence's first token: the earlier sentences with their EOS.
    expect(score.contextTokens).toEqual([4, 7, 11, 13]);
    expect(score.scoredIds).toEqual([[8, 9, 2], [10, 5, 11, 2], [4, 2], [6, 6, 3, 2]]);
  });

  test('sliding windows (maxLen 8, stride 4): every target scored once, with its window as context', async () => {
    const model = tokenLm(8);
    // stream (18 positions): 0 BOS | 1-4 s0 | 5-7 s1 | 8-11 s2 | 12-13 s3 | 14-17 s4.
    const { stream, sentenceOf } = documentStream(doc, 1, 2);
    expect(stream.length).toBe(18);
    // Windows by hand: inputs [0,8) score targets 1..8; [4,12) score 9..12; [8,16) 13..16; [9,17) 17.
    const windows = [
      { start: 0, targets: [1, 8] },
      { start: 4, targets: [9, 12] },
      { start: 8, targets: [13, 16] },
      { start: 9, targets: [17, 17] },
    ];
    const want = [0, 0, 0, 0];
    for (const w of windows) {
      for (let p = w.targets[0]!; p <= w.targets[1]!; p++) {
        if (sentenceOf[p]! >= 1) want[sentenceOf[p]! - 1]! += lastTargetLogProb(model, stream.subarray(w.start, p + 1));
      }
    }
    const score = await model.scoreDocument(doc);
    expect(score.sentenceTokens).toEqual([3, 4, 2, 4]);
    score.sentenceLogProbs.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    // s1 starts at 5 (window 0: 4 tokens after the BOS), s2 at 8 (window 0: 7), s3 at 12 (window [4,12): 8), s4 at 14 (window [8,16): 6).
    expect(score.contextTokens).toEqual([4, 7, 8, 6]);
    expect(score.scoredIds.flat()).toEqual(Array.from(stream.subarray(5)));
  });

  test('matched context: each sentence scored after exactly its context sentences (no BOS unless the document starts)', async () => {
    const model = tokenLm(16);
    const contextStart = [0, 0, 1, 3];
    const score = await model.scoreDocument(doc, { contextStart });
    contextStart.forEach((start, k) => {
      const i = k + 1;
      const row = documentStream(doc.slice(start, i + 1), 1, 2).stream;
      const ids = start === 0 ? row : row.subarray(1);
      let want = 0;
      const scored = doc[i]!.length + 1;
      for (let t = ids.length - scored; t < ids.length; t++) want += lastTargetLogProb(model, ids.subarray(0, t + 1));
      expect(score.sentenceLogProbs[k]).toBeCloseTo(want, 4);
    });
    expect(score.contextTokens).toEqual([4, 7, 7, 2]);
    expect(score.scoredIds).toEqual([[8, 9, 2], [10, 5, 11, 2], [4, 2], [6, 6, 3, 2]]);
    await expect(model.scoreDocument(doc, { contextStart: [0, 0, 0, 0] })).rejects.toThrow('sentence 4 with its context (sentences 0..3) needs 17 positions, decoder.maxLen is 16');
  });
});

describe('SLLM.scoreDocument against a hand-built reference', () => {
  test('sentence i is decoded from the hidden state of sentence i-1 of the whole-document pass', async () => {
    const model = sllm(8);
    const score = await model.scoreDocument(doc);
    for (let i = 1; i < doc.length; i++) expect(score.sentenceLogProbs[i - 1]).toBeCloseTo(sllmReference(model, doc.slice(0, i), doc[i]!), 4);
    expect(score.contextTokens).toEqual([4, 7, 11, 13]);
    expect(score.scoredIds).toEqual([[8, 9, 2], [10, 5, 11, 2], [4, 2], [6, 6, 3, 2]]);
  });

  test('windows of maxLen 3 sentences overlapping by one: each sentence once, from its window', async () => {
    const model = sllm(3);
    const score = await model.scoreDocument(doc);
    // Windows: sentences 0-2 score 1, 2; sentences 2-4 score 3, 4.
    const want = [sllmReference(model, doc.slice(0, 1), doc[1]!), sllmReference(model, doc.slice(0, 2), doc[2]!), sllmReference(model, doc.slice(2, 3), doc[3]!), sllmReference(model, doc.slice(2, 4), doc[4]!)];
    score.sentenceLogProbs.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    expect(score.contextTokens).toEqual([4, 7, 4, 6]);
  });

  test('matched context: the same context tokens as the token LM given the same starts', async () => {
    const model = sllm(8);
    const contextStart = [0, 0, 1, 3];
    const score = await model.scoreDocument(doc, { contextStart });
    contextStart.forEach((start, k) => expect(score.sentenceLogProbs[k]).toBeCloseTo(sllmReference(model, doc.slice(start, k + 1), doc[k + 1]!), 4));
    expect(score.contextTokens).toEqual((await tokenLm(16).scoreDocument(doc, { contextStart })).contextTokens);
    await expect(sllm(2).scoreDocument(doc, { contextStart: [0, 0, 0, 0] })).rejects.toThrow('sentence 3 has 3 context sentences, decoder.maxLen is 2');
  });
});
