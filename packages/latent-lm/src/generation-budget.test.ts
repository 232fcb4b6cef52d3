/**
 * Generation as the bench measures it: a token budget both models spend exactly (counted in
 * decoder steps), and the KV bytes held by the cache objects during generation, checked
 * against the analytical figure from the shapes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test } from 'vitest';
import { documentStream } from './document.js';
import { SLLM } from './sllm.js';
import { TokenLM } from './token-lm.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

const sllm = () =>
  new SLLM({
    svae: { vocabSize: 12, dModel: 16, maxTokens: 6, encoder: { layers: 1, heads: 2, dropout: 0 }, decoder: { layers: 2, heads: 2, dropout: 0 }, seed: 1 },
    decoder: { dModel: 16, layers: 3, heads: 2, maxLen: 16 },
    seed: 2,
  }).eval();
const tokenLm = () => new TokenLM({ vocabSize: 12, decoder: { dModel: 16, layers: 2, heads: 2, maxLen: 64 }, seed: 3 }).eval();

/** Counts the SentenceVAE decoder's steps (the real method, wrapped). */
function countSteps(model: SLLM): () => number {
  const decoder = model.svae.decoder;
  const step = decoder.step.bind(decoder);
  let n = 0;
  decoder.step = (state, tokens) => {
    n++;
    return step(state, tokens);
  };
  return () => n;
}

/** Makes EOS the SentenceVAE decoder's likeliest token at every step (an undertrained model often starts with it). */
function eosFirst(model: SLLM): void {
  const decoder = model.svae.decoder;
  const step = decoder.step.bind(decoder);
  const { eos } = decoder.specialIds;
  decoder.step = (state, tokens) => {
    const logits = step(state, tokens);
    const biased = tf.tidy(() => tf.add(logits, tf.mul(tf.oneHot(tf.tensor1d([eos], 'int32'), decoder.vocabSize), 100)));
    logits.dispose();
    return biased as typeof logits;
  };
}

const prompt = [[5, 6, 7], [8, 9]];

describe('SLLM generation steps', () => {
  test('a sentence of L tokens takes L + 1 decoder steps (its end or cut included), so s.length + 1 counts steps', async () => {
    const model = sllm();
    const steps = countSteps(model);
    let counted = 0;
    for await (const s of model.generate(prompt, { maxSentences: 3, stopThreshold: 1.01, decode: { maxTokens: 4 } })) counted += s.length + 1;
    expect(steps()).toBe(counted);
  });

  test('a token budget is spent exactly: the last sentence is cut to what is left', async () => {
    const model = sllm();
    const steps = countSteps(model);
    const out: number[][] = [];
    for await (const s of model.generate(prompt, { maxSentences: 100, maxTokens: 11, stopThreshold: 1.01, decode: { maxTokens: 4 } })) out.push(s);
    expect(out.reduce((n, s) => n + s.length + 1, 0)).toBe(11);
    expect(steps()).toBe(11);
  });

  test('an empty sentence ends the document, unless decode.minTokens forbids it: then the budget is spent', async () => {
    const model = sllm();
    eosFirst(model);
    const out: number[][] = [];
    for await (const s of model.generate(prompt, { maxSentences: 100, maxTokens: 11, stopThreshold: 1.01 })) out.push(s);
    expect(out).toEqual([[]]);
    const floored: number[][] = [];
    for await (const s of model.generate(prompt, { maxSentences: 100, maxTokens: 11, stopThreshold: 1.01, decode: { minTokens: 1 } })) floored.push(s);
    // EOS as soon as allowed: sentences of one token (2 steps each), the last cut to the 1 step left.
    expect(floored.map((s) => s.length)).toEqual([1, 1, 1, 1, 1, 0]);
    expect(floored.reduce((n, s) => n + s.length + 1, 0)).toBe(11);
  });

  test('the token LM spends the same budget: 11 steps, the cut sentence counting its tokens only', async () => {
    const out: number[][] = [];
    for await (const s of tokenLm().generate(prompt, { maxSentences: 100, maxTokens: 11 })) out.push(s);
    // Every ended sentence took length + 1 steps; a trailing cut one took its length.
    const ended = out.length - (out.at(-1)!.length > 0 ? 1 : 0);
    const steps = out.reduce((n, s, i) => n + s.length + (i < ended ? 1 : 0), 0);
    expect(steps).toBe(11);
  });
});

describe('KV bytes held during generation, measured on the caches', () => {
  test('token LM: the peak is (prompt stream + generated - 1) positions x kvBytesPerToken', async () => {
    const model = tokenLm();
    let peak = 0;
    for await (const _ of model.generate(prompt, { maxSentences: 100, maxTokens: 9, onCacheBytes: (b) => (peak = Math.max(peak, b)) }));
    const stream = documentStream(prompt, 1, 2).stream.length;
    // The last generated token is never fed back.
    expect(peak).toBe((stream + 9 - 1) * model.kvBytesPerToken());
  });

  test('SLLM: the peak adds the SentenceVAE decoder cache (self + cross attention) to the sentence-level cache', async () => {
    const model = sllm();
    let peak = 0;
    const out: number[][] = [];
    for await (const s of model.generate(prompt, { maxSentences: 1, stopThreshold: 1.01, decode: { maxTokens: 4 }, onCacheBytes: (b) => (peak = Math.max(peak, b)) })) out.push(s);
    const steps = out[0]!.length + 1;
    // 2 prompt sentences x 3 layers x (k + v) x 16 floats; the SentenceVAE decoder: 2 layers x (k + v) x 16 floats x (steps self positions + 1 cross position).
    expect(model.kvBytesPerSentence()).toBe(3 * 2 * 16 * 4);
    expect(model.sentenceDecoderKvBytes(steps)).toBe(2 * 2 * 16 * 4 * (steps + 1));
    expect(peak).toBe(2 * model.kvBytesPerSentence() + model.sentenceDecoderKvBytes(steps));
  });
});
