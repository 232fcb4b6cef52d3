import * as tf from '@tensorflow/tfjs-core';
import { AdamW, disposeGrads, initBackend, valueAndGrads } from '@sentencelab/tensor';
import { packSentences } from '@sentencelab/sentence-vae';
import { beforeAll, describe, expect, test } from 'vitest';
import { gatherSentences, nextSentencePairs, SLLM, stopTargets, type SllmBatch } from './sllm.js';
import { TokenLM } from './token-lm.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

const tinyConfig = (maxLen = 8, freezeSvae = false) => ({
  svae: {
    vocabSize: 12,
    dModel: 16,
    maxTokens: 6,
    encoder: { layers: 1, heads: 2, dropout: 0 },
    decoder: { layers: 1, heads: 2, dropout: 0 },
    loss: { type: 'cross-entropy' as const },
    seed: 1,
  },
  decoder: { dModel: 16, layers: 1, heads: 2, maxLen },
  freezeSvae,
  seed: 2,
});

/** Documents as one [B, S, L] batch (one row per document) with their lengths. */
function batchOf(docs: number[][][], S: number, L: number): SllmBatch {
  const tokens = new Int32Array(docs.length * S * L);
  const lengths = new Int32Array(docs.length * S);
  docs.forEach((d, b) =>
    d.forEach((s, i) => {
      tokens.set(s, (b * S + i) * L);
      lengths[b * S + i] = s.length;
    }),
  );
  return { tokens, lengths, shape: [docs.length, S, L], windowStart: docs.map(() => 0), docSentences: docs.map((d) => d.length) };
}

const docs = [
  [[5, 6, 7], [8, 9], [10, 5, 11]],
  [[9, 8], [7, 6, 5, 4], [11, 3]],
];

describe('batch bookkeeping', () => {
  test('next-sentence pairs, stop targets and gathered sentences (hand-worked)', () => {
    const batch = batchOf([[[5], [6, 7]], [[8], [9], [10]]], 3, 2);
    const pairs = nextSentencePairs(batch);
    expect(Array.from(pairs.source)).toEqual([0, 3, 4]);
    expect(Array.from(pairs.target)).toEqual([1, 4, 5]);
    const stop = stopTargets(batch);
    expect(Array.from(stop.slots)).toEqual([0, 1, 3, 4, 5]);
    expect(Array.from(stop.labels)).toEqual([1, 0, 1, 1, 0]);
    const g = gatherSentences(batch, pairs.target);
    expect(Array.from(g.tokens)).toEqual([6, 7, 9, 0, 10, 0]);
    expect(Array.from(g.lengths)).toEqual([2, 1, 1]);
    // A window cut from a longer document has no END target at its last sentence.
    const cut = { ...batch, docSentences: [5, 3] };
    expect(Array.from(stopTargets(cut).labels)).toEqual([1, 1, 1, 0]);
  });
});

describe('SLLM', () => {
  test('the token loss is cross-entropy by default, also over a SentenceVAE trained with focal loss; focal only when asked', () => {
    const focalSvae = { ...tinyConfig(), svae: { ...tinyConfig().svae, loss: { type: 'focal' as const, gamma: 2 } } };
    const lossOf = (config: object): [number, number] =>
      tf.tidy(() => {
        const r = new SLLM(config).eval().loss(batchOf(docs, 3, 4));
        return [r.metrics.tokenLoss.dataSync()[0]!, r.metrics.nll.dataSync()[0]!];
      });
    const [ce, nll] = lossOf(focalSvae);
    expect(new SLLM(focalSvae).config.loss.type).toBe('cross-entropy');
    expect(ce).toBeCloseTo(nll, 6);
    const [focal, nllFocal] = lossOf({ ...focalSvae, loss: { type: 'focal', gamma: 2 } });
    expect(nllFocal).toBeCloseTo(nll, 6);
    expect(focal).toBeLessThan(0.9 * nll);
  });

  test('causal: changing sentence i+1 leaves the hidden state at position i unchanged', () => {
    const model = new SLLM(tinyConfig()).eval();
    const a = model.hiddenStates(batchOf([[[5, 6], [7, 8, 9], [10]]], 3, 4)).arraySync()[0]!;
    const b = model.hiddenStates(batchOf([[[5, 6], [3, 3], [4, 4, 4]]], 3, 4)).arraySync()[0]!;
    a[0]!.forEach((v, k) => expect(b[0]![k]).toBeCloseTo(v, 5));
    expect(Math.abs(a[1]![0]! - b[1]![0]!)).toBeGreaterThan(1e-6);
  });

  test('scores exactly the tokens the token LM scores, each sentence once, also across windows', async () => {
    const doc = [[5, 6, 7], [8, 9], [10, 5, 11], [4], [6, 6]];
    const tokenLm = new TokenLM({ vocabSize: 12, decoder: { dModel: 16, layers: 1, heads: 2, maxLen: 32 } });
    const want = (await tokenLm.scoreDocument(doc)).sentenceTokens;
    expect(want).toEqual([3, 4, 2, 3]);
    const whole = await new SLLM(tinyConfig(8)).scoreDocument(doc);
    expect(whole.sentenceTokens).toEqual(want);
    const windowed = await new SLLM(tinyConfig(2)).scoreDocument(doc);
    expect(windowed.sentenceTokens).toEqual(want);
    expect([...whole.sentenceLogProbs, ...windowed.sentenceLogProbs].every((x) => Number.isFinite(x) && x < 0)).toBe(true);
  });

  test('memorises two documents: generates the continuation and stops at the end', async () => {
    const model = new SLLM(tinyConfig());
    const batch = batchOf(docs, 4, 6);
    const opt = new AdamW(model.namedParameters(), { lr: 2e-2, weightDecay: 0 });
    let first = 0;
    let last = 0;
    for (let step = 0; step < 120; step++) {
      const { loss, grads } = await valueAndGrads(model, () => model.loss(batch).loss);
      opt.applyGradients(grads);
      disposeGrads(grads);
      if (step === 0) first = loss;
      last = loss;
    }
    expect(first).toBeGreaterThan(2);
    expect(last).toBeLessThan(0.05);
    for (const d of docs) {
      const out: number[][] = [];
      for await (const s of model.generate([d[0]!], { maxSentences: 5 })) out.push(s);
      expect(out).toEqual(d.slice(1));
    }
    // The cached generation equals a reference that re-runs the whole document each step.
    const reference: number[][] = [];
    const context = [docs[0]![0]!];
    model.eval();
    for (let i = 0; i < 2; i++) {
      const S = context.length;
      const packed = packSentences(context, { pad: 0, maxLen: 6 });
      const h = model.hiddenStates({ tokens: packed.tokens, lengths: packed.lengths, shape: [1, S, 6] });
      const last = tf.reshape(tf.slice(h, [0, S - 1, 0], [1, 1, 16]), [1, 16]);
      const [sentence] = await model.svae.decode(last);
      reference.push(sentence!);
      context.push(sentence!);
    }
    expect(reference).toEqual(docs[0]!.slice(1));
    opt.dispose();
  });

  test('decode.maxTokens above the SentenceVAE\'s maxTokens is cut to it: every sentence can be re-encoded', async () => {
    const model = new SLLM(tinyConfig()).eval();
    const got: number[][] = [];
    // stopThreshold above 1: the stop head never ends it early; untrained, the decoder rarely emits EOS within 6 tokens.
    for await (const s of model.generate([[5, 6, 7]], { maxSentences: 4, stopThreshold: 1.01, decode: { maxTokens: 40, strategy: 'sample', temperature: 1, seed: 3 } })) got.push(s);
    expect(got).toHaveLength(4);
    expect(Math.max(...got.map((s) => s.length))).toBe(6);
    model.dispose();
  });

  test('sampling: generated sentence k draws from decode.seed + k, not the same draws each sentence', async () => {
    const model = new SLLM(tinyConfig()).eval();
    const decode = { strategy: 'sample', temperature: 1, maxTokens: 5, seed: 3 } as const;
    const got: number[][] = [];
    for await (const s of model.generate([[5, 6, 7]], { maxSentences: 3, stopThreshold: 1.01, decode })) got.push(s);
    expect(got).toHaveLength(3);
    // Reference: the whole context re-run for each sentence, its last state decoded with seed 3 + k.
    const context = [[5, 6, 7]];
    for (let k = 0; k < 3; k++) {
      const S = context.length;
      const packed = packSentences(context, { pad: 0, maxLen: 6 });
      const h = model.hiddenStates({ tokens: packed.tokens, lengths: packed.lengths, shape: [1, S, 6] });
      const last = tf.reshape(tf.slice(h, [0, S - 1, 0], [1, 1, 16]), [1, 16]);
      const [sentence] = await model.svae.decode(last, { ...decode, seed: 3 + k });
      tf.dispose([h, last]);
      expect(got[k]).toEqual(sentence);
      context.push(sentence!);
    }
    model.dispose();
  });

  test('a prompt longer than decoder.maxLen sentences is read through a sliding window', async () => {
    const model = new SLLM(tinyConfig(4));
    const prompt = Array.from({ length: 6 }, (_, i) => [5 + (i % 5), 6]);
    const out: number[][] = [];
    for await (const s of model.generate(prompt, { maxSentences: 6, stopThreshold: 1.01, decode: { maxTokens: 3 } })) out.push(s);
    expect(out.length).toBeGreaterThan(0);
    expect(out.every((s) => s.length <= 3)).toBe(true);
  });

  test('freezeSvae trains only the sentence decoder and the stop head', async () => {
    const model = new SLLM(tinyConfig(8, true));
    const { grads } = await valueAndGrads(model, () => model.loss(batchOf(docs, 4, 6)).loss);
    const names = [...grads.keys()];
    expect(names.some((n) => n.startsWith('svae.'))).toBe(false);
    expect(names.some((n) => n.startsWith('decoder.'))).toBe(true);
    expect(names.some((n) => n.startsWith('stop.'))).toBe(true);
    disposeGrads(grads);
  });
});
