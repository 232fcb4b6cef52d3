import * as tf from '@tensorflow/tfjs-core';
import { AdamW, disposeGrads, initBackend, valueAndGrads } from '@sentencelab/tensor';
import { expectNoLeak } from '@sentencelab/tensor/testing';
import { beforeAll, describe, expect, test } from 'vitest';
import { documentStream } from './document.js';
import { TokenLM, type TokenLmBatch } from './token-lm.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

const tiny = (maxLen = 32) => new TokenLM({ vocabSize: 12, decoder: { dModel: 16, layers: 2, heads: 2, maxLen }, seed: 3 });

/** The documents' streams as one batch of windows (one row per document, PAD-filled, masked). */
function windows(docs: number[][][], T: number): TokenLmBatch {
  const input = new Int32Array(docs.length * T);
  const target = new Int32Array(docs.length * T);
  const mask = new Uint8Array(docs.length * T);
  docs.forEach((d, r) => {
    const { stream } = documentStream(d, 1, 2);
    for (let t = 0; t + 1 < stream.length && t < T; t++) {
      input[r * T + t] = stream[t]!;
      target[r * T + t] = stream[t + 1]!;
      mask[r * T + t] = 1;
    }
  });
  return { input, target, mask, shape: [docs.length, T] };
}

const docs = [
  [[5, 6, 7], [8, 9], [10, 5, 11]],
  [[9, 8], [7, 6, 5, 4], [11]],
];

describe('TokenLM', () => {
  test('a future token does not change earlier logits (causal)', () => {
    const model = tiny().eval();
    const a = tf.tensor2d([[1, 5, 6, 7, 2, 8]], [1, 6], 'int32');
    const b = tf.tensor2d([[1, 5, 6, 7, 9, 9]], [1, 6], 'int32');
    const la = model.logits(a).arraySync()[0]!;
    const lb = model.logits(b).arraySync()[0]!;
    for (let t = 0; t < 4; t++) la[t]!.forEach((v, k) => expect(lb[t]![k]).toBeCloseTo(v, 5));
    expect(Math.abs(la[5]![0]! - lb[5]![0]!)).toBeGreaterThan(1e-6);
  });

  test('KV-cached logits equal the full pass', () => {
    const model = tiny().eval();
    const ids = [1, 5, 6, 7, 2, 8, 9];
    const full = model.logits(tf.tensor2d([ids], [1, ids.length], 'int32')).arraySync()[0]!;
    const cache = model.decoder.createCache();
    const first = model.logits(tf.tensor2d([ids.slice(0, 3)], [1, 3], 'int32'), cache).arraySync()[0]!;
    const rest = ids.slice(3).map((id) => model.logits(tf.tensor2d([[id]], [1, 1], 'int32'), cache).arraySync()[0]![0]!);
    [...first, ...rest].forEach((row, t) => row.forEach((v, k) => expect(v).toBeCloseTo(full[t]![k]!, 4)));
    cache.dispose();
  });

  test('scoreDocument sums the log-probs of sentences 1..N-1 with their EOS, in windows too', async () => {
    const model = tiny(64).eval();
    const doc = docs[0]!;
    const { stream, sentenceOf } = documentStream(doc, 1, 2);
    const n = stream.length;
    const lp = model.logProbs(tf.tensor2d(stream.subarray(0, n - 1), [1, n - 1], 'int32'), tf.tensor2d(stream.subarray(1), [1, n - 1], 'int32')).dataSync();
    const want = [0, 0];
    for (let p = 1; p < n; p++) if (sentenceOf[p]! >= 1) want[sentenceOf[p]! - 1]! += lp[p - 1]!;
    const score = await model.scoreDocument(doc);
    expect(score.sentenceTokens).toEqual([3, 4]);
    score.sentenceLogProbs.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    // A maxLen shorter than the stream scores the same tokens (with less context).
    const short = new TokenLM({ ...model.config, decoder: { ...model.config.decoder, maxLen: 4 } });
    const windowed = await short.scoreDocument(doc);
    expect(windowed.sentenceTokens).toEqual([3, 4]);
    expect(windowed.sentenceLogProbs.every(Number.isFinite)).toBe(true);
  });

  test('loss: the mean negative log-prob of the masked targets, whatever the unmasked ones hold', () => {
    const model = tiny().eval();
    const batch = windows(docs, 16);
    const lp = model.logProbs(tf.tensor2d(batch.input, [2, 16], 'int32'), tf.tensor2d(batch.target, [2, 16], 'int32')).dataSync();
    let sum = 0;
    let count = 0;
    batch.mask.forEach((m, i) => {
      if (m === 1) (sum -= lp[i]!), count++;
    });
    expect(count).toBeLessThan(32);
    const { loss, metrics } = model.loss(batch);
    expect(metrics.tokens).toBe(count);
    expect(loss.dataSync()[0]).toBeCloseTo(sum / count, 5);
    // An unscored position's target (padding) changes nothing.
    const other = { ...batch, target: batch.target.map((t, i) => (batch.mask[i] === 0 ? 7 : t)) };
    expect(model.loss(other).loss.dataSync()[0]).toBeCloseTo(loss.dataSync()[0]!, 6);
  });

  test('memorises two documents: loss near zero, greedy generation continues the prompt', async () => {
    const model = tiny();
    const batch = windows(docs, 16);
    const opt = new AdamW(model.namedParameters(), { lr: 2e-2, weightDecay: 0 });
    let first = 0;
    let last = 0;
    for (let step = 0; step < 80; step++) {
      const { loss, grads } = await valueAndGrads(model, () => model.loss(batch).loss);
      opt.applyGradients(grads);
      disposeGrads(grads);
      if (step === 0) first = loss;
      last = loss;
    }
    expect(first).toBeGreaterThan(1.5);
    // The first token of a document is a coin flip between the two (ln 2 each): the floor.
    let scored = 0;
    for (const m of batch.mask) scored += m;
    expect(last).toBeLessThan((2 * Math.LN2) / scored + 0.02);
    const out: number[][] = [];
    for await (const s of model.generate([docs[0]![0]!], { maxSentences: 2 })) out.push(s);
    expect(out).toEqual([docs[0]![1], docs[0]![2]]);
    opt.dispose();
  });

  test('generation slides its window past maxLen: equals a cache-free reference with the same rule', async () => {
    const maxLen = 8;
    const model = tiny(maxLen).eval();
    const prompt = [[5, 6, 7, 8], [9, 10, 11, 5]]; // stream of 11 tokens: longer than maxLen
    const got: number[][] = [];
    for await (const s of model.generate(prompt, { maxSentences: 100, maxTokens: 20 })) got.push(s);
    // Reference: full forward passes over history[start..], start moved by the same rule.
    const window = maxLen / 2;
    const history = Array.from(documentStream(prompt, 1, 2).stream);
    let start = history.length >= maxLen ? history.length - window : 0;
    const want: number[][] = [];
    let sentence: number[] = [];
    for (let k = 0; k < 20; k++) {
      const ctx = history.slice(start);
      const logits = model.logits(tf.tensor2d([ctx], [1, ctx.length], 'int32')).arraySync()[0]!.at(-1)!;
      const next = logits.indexOf(Math.max(...logits));
      history.push(next);
      if (next === 2) {
        want.push(sentence);
        sentence = [];
      } else sentence.push(next);
      if (history.length - 1 - start >= maxLen) start = history.length - window;
    }
    if (sentence.length > 0) want.push(sentence);
    expect(got).toEqual(want);
    expect(got.flat().length + got.length).toBeGreaterThan(maxLen);
  });

  test('onToken sees every generated token, EOS included, before its sentence is yielded', async () => {
    const model = tiny().eval();
    const tokens: number[] = [];
    const seenAtYield: number[] = [];
    const got: number[][] = [];
    for await (const s of model.generate([[5, 6, 7]], { maxSentences: 3, maxTokens: 12, strategy: 'sample', temperature: 1.5, seed: 4, onToken: (id) => tokens.push(id) })) {
      got.push(s);
      seenAtYield.push(tokens.length);
    }
    // Each sentence ends with EOS (2) except a last one cut by maxTokens.
    const stream = got.flatMap((s, i) => (i < got.length - 1 || tokens.at(-1) === 2 ? [...s, 2] : s));
    expect(tokens).toEqual(stream);
    expect(tokens.length).toBeLessThanOrEqual(12);
    // When sentence i is yielded, onToken has seen it and its EOS, nothing after.
    let end = 0;
    expect(seenAtYield).toEqual(got.map((s) => (end = Math.min(end + s.length + 1, tokens.length))));
  });

  test('a training step does not leak tensors', async () => {
    const model = tiny();
    const batch = windows(docs, 16);
    const opt = new AdamW(model.namedParameters(), { lr: 1e-3 });
    await expectNoLeak(async () => {
      const { grads } = await valueAndGrads(model, () => model.loss(batch).loss);
      opt.applyGradients(grads);
      disposeGrads(grads);
    });
    opt.dispose();
  });
});
