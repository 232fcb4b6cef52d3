import * as tf from '@tensorflow/tfjs-core';
import { initBackend, readMetricValues, Rng } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { flattenSentences, packSentences } from './batch.js';
import { poolingKinds, sentenceVaeConfigSchema, type SentenceVaeConfigInput } from './config.js';
import { SentenceVAE } from './model.js';
import { scatterToSlots } from './slots.js';
import { trainBriefly } from './train.testkit.js';
import { maskTokens } from './word-dropout.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

/** A tiny config: d 8, 2 heads, FFN 16, vocab 12, sentences of up to 6 tokens, no dropout. */
function tiny(over: SentenceVaeConfigInput = {}): SentenceVaeConfigInput {
  return {
    vocabSize: 12,
    dModel: 8,
    maxTokens: 6,
    ...over,
    encoder: { heads: 2, dropout: 0, ...over.encoder },
    decoder: { heads: 2, dropout: 0, ...over.decoder },
  };
}

/** `row` plus sigma x its RMS x eps (what `latentNoise` adds to one vector), by hand. */
function withNoise(row: number[], sigma: number, eps: ArrayLike<number>): number[] {
  const rms = Math.sqrt(row.reduce((a, x) => a + x * x, 0) / row.length);
  return row.map((x, j) => x + sigma * rms * eps[j]!);
}

/**
 * A tiny cross-entropy model trained briefly on `sentences` (so that its decoder reads its
 * vectors) and what the tests of training-only perturbations compare: its loss in train or eval
 * mode, the training loss with the noise generator rewound to before it (so the test redraws the
 * same numbers), and in eval mode the decoder's NLL per scored token of the sentences decoded
 * from `vectorsOf` the encoder's clean vectors of `encoded` ([n][d] rows).
 */
async function trainedProbe(over: SentenceVaeConfigInput) {
  const model = new SentenceVAE(tiny({ ...over, loss: { type: 'cross-entropy' } }));
  await trainBriefly(model, sentences);
  const batch = packSentences(sentences, { pad: 0 });
  const lossOf = (train: boolean) =>
    tf.tidy(() => {
      model.train(train);
      return model.loss(sentences).loss.dataSync()[0]!;
    });
  const trainingLossRewound = () => {
    const state = model.rngs.noise.getState();
    const loss = lossOf(true);
    model.rngs.noise.setState(state);
    return loss;
  };
  const nllOf = (vectorsOf: (clean: number[][]) => number[][], encoded = batch) => {
    model.train(false);
    return tf.tidy(() => {
      const r = model.decoder.loss(tf.tensor2d(vectorsOf(model.encoder.forward(encoded).arraySync())), batch, { nll: true });
      return r.nll!.dataSync()[0]! / r.count;
    });
  };
  return { model, batch, lossOf, trainingLossRewound, nllOf };
}

const sentences = [
  [4, 5, 6],
  [7, 8, 9, 10, 11],
  [5, 4],
];

describe('config', () => {
  it('fills every default and rejects unknown keys and bad values with their path', () => {
    const c = sentenceVaeConfigSchema.parse({});
    expect(c.encoder.pooling).toBe('sum');
    expect(c.encoder.normPlacement).toBe('post');
    expect(c.loss.type).toBe('focal');
    const bad = sentenceVaeConfigSchema.safeParse({ dModel: 10, encoder: { heads: 4, pool: 'sum' } });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('encoder');
    expect(paths).toContain('encoder.heads');
    expect(() => new SentenceVAE({ specialIds: { eos: 5000 } })).toThrow(/specialIds|outside the vocabulary/);
    // Every bad key path in one line, as the concept heads' constructors say it.
    expect(() => new SentenceVAE({ dModel: 30, encoder: { heads: 4, layerz: 1 } as never })).toThrow(/^invalid SentenceVAE config: encoder: Unrecognized key: "layerz"; encoder\.heads: /);
  });
});

describe('parameters', () => {
  it('have stable names and the hand-counted size', () => {
    const model = new SentenceVAE(tiny());
    const names = model.namedParameters().map(([n]) => n);
    expect(names).toContain('encoder.embed.weight');
    expect(names).toContain('encoder.transformer.layers.0.attn.qkv.weight');
    expect(names).toContain('encoder.norm.weight');
    expect(names).toContain('decoder.transformer.layers.0.crossAttn.kv.weight');
    expect(names).toContain('decoder.head.weight');
    // encoder: embed 96 + layer (attn 4*72 + 2 norms 32 + mlp 144+136) 600 + norm 16 = 712
    // decoder: embed 96 + layer (2 attn 576 + 3 norms 48 + mlp 280) 904 + head 108 = 1108
    expect(model.numParams('encoder.')).toBe(712);
    expect(model.numParams('decoder.')).toBe(1108);
    model.dispose();
  });

  it('shared embeddings and a tied output drop the duplicate tables', () => {
    const model = new SentenceVAE(tiny({ shareEmbeddings: true, decoder: { tieOutput: true } }));
    const names = model.namedParameters().map(([n]) => n);
    expect(names.filter((n) => n.endsWith('embed.weight'))).toEqual(['embed.weight']);
    expect(names.some((n) => n.startsWith('decoder.head'))).toBe(false);
    expect(model.numParams()).toBe(1820 - 96 - 108);
    model.dispose();
  });
});

describe('encoder', () => {
  it('maps [n, L] sentences to [n, d] and accepts the [B, S, L] layout', () => {
    const model = new SentenceVAE(tiny());
    const v = model.encode(sentences);
    expect(v.shape).toEqual([3, 8]);
    // the same sentences in a 2 x 2 x 6 document batch with one empty slot
    const tokens = new Int32Array(24);
    const lengths = Int32Array.from([3, 5, 2, 0]);
    sentences.forEach((s, i) => tokens.set(s, i * 6));
    const w = model.encode({ tokens, lengths, shape: [2, 2, 6] });
    expect(Array.from(w.dataSync())).toEqual(Array.from(v.dataSync()));
    tf.dispose([v, w]);
    model.dispose();
  });

  it('vectors go back onto the [B, S] grid (zeros in empty slots), differentiably', () => {
    const model = new SentenceVAE(tiny());
    const tokens = new Int32Array(24);
    const lengths = Int32Array.from([3, 0, 5, 2]);
    [sentences[0]!, [], sentences[1]!, sentences[2]!].forEach((s, i) => tokens.set(s, i * 6));
    const flat = flattenSentences({ tokens, lengths, shape: [2, 2, 6] }, { pad: 0 });
    const v = model.encode(flat);
    const grid = scatterToSlots(v, flat.slots, [2, 2]).arraySync();
    const rows = v.arraySync();
    expect(grid[0]![0]).toEqual(rows[0]);
    expect(grid[0]![1]).toEqual(new Array(8).fill(0));
    expect(grid[1]![0]).toEqual(rows[1]);
    expect(grid[1]![1]).toEqual(rows[2]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(scatterToSlots(x as tf.Tensor2D, flat.slots, [2, 2]), tf.reshape(tf.range(1, 5), [2, 2, 1]))))(v);
    expect((g.arraySync() as number[][]).map((r) => r[0])).toEqual([1, 3, 4]);
    expect(() => scatterToSlots(v, Int32Array.from([0, 1, 9]), [2, 2])).toThrow(/slot 9 \(row 2\) is outside the 2 x 2 grid/);
    model.dispose();
  });

  for (const pooling of poolingKinds) {
    it(`lets no padding leak into the vector (${pooling} pooling)`, () => {
      const model = new SentenceVAE(tiny({ encoder: { pooling, positions: 'learned' } }));
      const batch = packSentences(sentences, { pad: 0, maxLen: 6 });
      const base = model.encode(batch).arraySync();
      // other tokens in the padding positions
      const noisy = { ...batch, tokens: batch.tokens.map((t, i) => (i % 6 >= batch.lengths[Math.floor(i / 6)]! ? 1 + (i % 11) : t)) };
      const changed = model.encode(noisy).arraySync();
      // each sentence alone (no padding at all) gives the same vector
      const alone = sentences.map((s) => model.encode([s]).arraySync()[0]!);
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 8; j++) {
          expect(changed[i]![j]).toBeCloseTo(base[i]![j]!, 5);
          expect(alone[i]![j]).toBeCloseTo(base[i]![j]!, 5);
        }
      }
      // and the vectors do depend on the real tokens
      const other = model.encode([[4, 5, 7]]).arraySync()[0]!;
      expect(other.some((x, j) => Math.abs(x - base[0]![j]!) > 1e-4)).toBe(true);
      model.dispose();
    });
  }

  it('rejects sentences the model cannot take, naming them', () => {
    const model = new SentenceVAE(tiny());
    expect(() => model.encode([[4, 5, 6, 7, 8, 9, 10]])).toThrow(/sentence 0 has 7 tokens; the model takes 1..6/);
    expect(() => model.encode([[4], [99]])).toThrow(/token id 99 \(sentence 1\) is outside the vocabulary/);
    model.dispose();
  });
});

describe('decoder', () => {
  it('memory slots start at the scale of the vector they expand (k > 1 is not a weaker path than k = 1)', () => {
    const model = new SentenceVAE({ vocabSize: 12, dModel: 64, maxTokens: 6, encoder: { dropout: 0 }, decoder: { dropout: 0, memorySlots: 4 } });
    const rms = (t: tf.Tensor) => Math.sqrt(tf.tidy(() => tf.mean(tf.square(t)).dataSync()[0]!));
    const memory = model.encode(sentences); // [3, 64], unit scale per element (LayerNorm)
    const ctx = model.decoder.context(memory); // [3, 4, 64]
    const ratio = rms(ctx) / rms(memory);
    // N(0, 1/d) keeps the scale (~1); Linear's default N(0, 0.02) gave 0.02 * sqrt(64) = 0.16.
    expect(ratio).toBeGreaterThan(0.7);
    expect(ratio).toBeLessThan(1.4);
    tf.dispose([memory, ctx]);
    model.dispose();
  });

  it('is causal: changing input token j changes no output before j', () => {
    const model = new SentenceVAE(tiny({ decoder: { layers: 2, memorySlots: 3 } }));
    const memory = model.encode(sentences.slice(0, 1));
    const ctx = model.decoder.context(memory);
    expect(ctx.shape).toEqual([1, 3, 8]);
    const a = model.decoder.logits(ctx, tf.tensor2d([[1, 4, 5, 6, 7]], [1, 5], 'int32')).arraySync()[0]!;
    const b = model.decoder.logits(ctx, tf.tensor2d([[1, 4, 5, 9, 7]], [1, 5], 'int32')).arraySync()[0]!;
    for (let t = 0; t < 3; t++) for (let v = 0; v < 12; v++) expect(b[t]![v]).toBeCloseTo(a[t]![v]!, 6);
    expect(b[3]!.some((x, v) => Math.abs(x - a[3]![v]!) > 1e-4)).toBe(true);
    model.dispose();
  });

  it('scores real tokens + EOS only: logProbs [n, L + 1], loss = -sum of them for cross-entropy', async () => {
    const model = new SentenceVAE(tiny({ loss: { type: 'cross-entropy' } }));
    const batch = packSentences(sentences, { pad: 0, maxLen: 6 });
    const memory = model.encode(batch);
    const lp = model.decoder.logProbs(memory, batch);
    expect(lp.shape).toEqual([3, 7]);
    const rows = lp.arraySync();
    rows.forEach((row, i) => {
      const len = sentences[i]!.length;
      row.forEach((x, j) => (j <= len ? expect(x).toBeLessThan(0) : expect(x === 0).toBe(true)));
    });
    const { sum, count, nll } = model.decoder.loss(memory, batch, { nll: true });
    expect(count).toBe(3 + 5 + 2 + 3);
    const logLik = rows.flat().reduce((s, x) => s + x, 0);
    expect(sum.dataSync()[0]).toBeCloseTo(-logLik, 4);
    expect(nll!.dataSync()[0]).toBeCloseTo(-logLik, 4);
    expect(model.decoder.loss(memory, batch).nll).toBeUndefined();
    // the model's metrics: mean NLL per scored token
    expect((await readMetricValues(model.inEval(() => tf.tidy(() => model.loss(batch).metrics)))).nll).toBeCloseTo(-logLik / count, 4);
    // other padding tokens in the targets change nothing
    const noisy = { ...batch, tokens: batch.tokens.map((t, i) => (i % 6 >= batch.lengths[Math.floor(i / 6)]! ? 7 : t)) };
    expect(model.decoder.loss(memory, noisy).sum.dataSync()[0]).toBeCloseTo(sum.dataSync()[0]!, 5);
    model.dispose();
  });

  it('takes any conditioning vectors: [n, d] or [n, k, d], and names a bad shape', () => {
    const model = new SentenceVAE(tiny());
    const batch = packSentences(sentences, { pad: 0 });
    const slots = tf.randomNormal([3, 4, 8], 0, 1, 'float32', 1);
    expect(model.decoder.logProbs(slots, batch).shape).toEqual([3, 6]);
    expect(() => model.decoder.loss(tf.zeros([3, 5]), batch)).toThrow(/memory must be \[n, 8\] or \[n, k, 8\], got \[3,5\]/);
    expect(() => model.decoder.loss(tf.zeros([2, 8]), batch)).toThrow(/memory has 2 rows but targets has 3 sentences/);
    model.dispose();
  });

  it('KV-cached steps give the full forward pass\'s logits (pre-norm, tied, shared, learned positions)', () => {
    const model = new SentenceVAE(
      tiny({ shareEmbeddings: true, decoder: { layers: 2, positions: 'learned', tieOutput: true, normPlacement: 'pre', activation: 'gelu' } }),
    );
    model.eval();
    const memory = model.encode(sentences.slice(0, 2));
    const inputs = [
      [1, 4, 5, 6, 7],
      [1, 7, 8, 9, 10],
    ];
    const full = model.decoder.logits(model.decoder.context(memory), tf.tensor2d(inputs, [2, 5], 'int32')).arraySync();
    const state = model.decoder.begin(memory);
    for (let t = 0; t < 5; t++) {
      const step = model.decoder.step(state, Int32Array.from(inputs.map((r) => r[t]!))).arraySync();
      for (let i = 0; i < 2; i++) for (let v = 0; v < 12; v++) expect(step[i]![v]).toBeCloseTo(full[i]![t]![v]!, 4);
    }
    expect(state.cache!.length).toBe(5);
    state.dispose();
    model.dispose();
  });

  it('decodes the same with and without the cache (greedy, sample, beam)', async () => {
    const model = new SentenceVAE(tiny({ decoder: { layers: 2 }, seed: 3 }));
    // large, distinct conditioning vectors so that the rows decode differently
    const memory = tf.randomNormal([3, 8], 0, 300, 'float32', 5);
    for (const o of [{ strategy: 'greedy' as const }, { strategy: 'sample' as const, temperature: 1.5, topP: 0.9, seed: 7 }, { strategy: 'beam' as const, beamSize: 3 }]) {
      const cached = await model.decodeDetailed(memory, { ...o, maxTokens: 5 });
      const uncached = await model.decodeDetailed(memory, { ...o, maxTokens: 5, useCache: false });
      expect(cached).toEqual(uncached);
      expect(new Set(cached.tokens.map(String)).size).toBeGreaterThan(1);
      expect(cached.tokens.every((s) => s.length <= 5)).toBe(true);
    }
    // sampling is seeded: same seed, same draws
    const s1 = await model.decode(memory, { strategy: 'sample', temperature: 2, seed: 11 });
    const s2 = await model.decode(memory, { strategy: 'sample', temperature: 2, seed: 11 });
    expect(s1).toEqual(s2);
    model.dispose();
  });

  it('minTokens keeps EOS out until a sentence has that many tokens (greedy, sample, beam)', async () => {
    const model = new SentenceVAE(tiny({ decoder: { layers: 1 }, seed: 3 }));
    const { eos } = model.decoder.specialIds;
    // An output bias that makes EOS every step's likeliest token: without a floor, every sentence is empty.
    const bias = model.namedParameters().find(([n]) => n === 'decoder.head.bias')![1];
    bias.assign(tf.tidy(() => tf.add(bias, tf.tensor1d(Array.from({ length: 12 }, (_, i) => (i === eos ? 100 : 0)))) as tf.Tensor1D));
    const memory = tf.randomNormal([3, 8], 0, 1, 'float32', 5);
    for (const o of [{ strategy: 'greedy' as const }, { strategy: 'sample' as const, temperature: 1, seed: 7 }, { strategy: 'beam' as const, beamSize: 2 }]) {
      expect((await model.decodeDetailed(memory, { ...o, maxTokens: 5 })).tokens).toEqual([[], [], []]);
      const floored = await model.decodeDetailed(memory, { ...o, maxTokens: 5, minTokens: 3 });
      // exactly 3: EOS is still the likeliest once allowed, and no row picks it before
      expect(floored.tokens.map((s) => s.length)).toEqual([3, 3, 3]);
      expect(floored.tokens.flat()).not.toContain(eos);
      expect(floored.ended).toEqual([true, true, true]);
      // a floor above maxTokens stops at maxTokens (the sentence is cut, not ended)
      const capped = await model.decodeDetailed(memory, { ...o, maxTokens: 2, minTokens: 4 });
      expect(capped.tokens.map((s) => s.length)).toEqual([2, 2, 2]);
    }
    memory.dispose();
    model.dispose();
  });

  it('leaves no tensors behind when decoding', async () => {
    const model = new SentenceVAE(tiny());
    const memory = model.encode(sentences);
    await model.decode(memory, { strategy: 'beam', beamSize: 2 });
    const before = tf.memory().numTensors;
    await model.decode(memory, { strategy: 'beam', beamSize: 2 });
    await model.decode(memory);
    await model.reconstructionMetrics(sentences);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('text and checkpoints', () => {
  /** A character-level tokenizer over 'a'..'h' (ids 4..11), the TokenizerLike interface. */
  const chars = {
    encode: async (text: string) => [...text].map((c) => c.charCodeAt(0) - 97 + 4),
    decode: async (ids: number[]) => ids.map((i) => String.fromCharCode(i - 4 + 97)).join(''),
  };

  it('encodeText / decodeText go through the tokenizer', async () => {
    const model = new SentenceVAE(tiny());
    const v = await model.encodeText(['abc', 'hgfe'], chars);
    expect(Array.from(v.dataSync())).toEqual(Array.from(model.encode([[4, 5, 6], [11, 10, 9, 8]]).dataSync()));
    const texts = await model.decodeText(v, chars, { maxTokens: 3 });
    const ids = await model.decode(v, { maxTokens: 3 });
    expect(texts).toEqual(await Promise.all(ids.map((s) => chars.decode(s))));
    await expect(model.encodeText(['ab', ''], chars)).rejects.toThrow(/text 1 \(""\) has no tokens/);
    model.dispose();
  });

  it('elbo: NLL of a reparameterised sample + KL at full weight, whatever the training loss, annealing and free bits', () => {
    // Focal loss, beta annealed from 0 and free bits: loss() at step 0 is the focal reconstruction alone.
    const model = new SentenceVAE(tiny({ variational: true, encoder: { dropout: 0.3 }, kl: { annealSteps: 1000, freeBits: 0.5 }, loss: { type: 'focal', gamma: 2 } }));
    model.train(true);
    const r = model.elbo(sentences, { noise: new Rng(7) });
    const [nll, kl] = [r.nll.dataSync()[0]!, r.kl.dataSync()[0]!];
    expect(model.training).toBe(true);
    expect(r.tokens).toBe(3 + 5 + 2 + 3);
    // Reference from the pieces: the posterior, the same draw of eps, hand KL, cross-entropy of the decoded sample.
    model.train(false);
    const batch = packSentences(sentences, { pad: 0 });
    const { mean, logVar } = model.encoder.posterior(batch);
    const m = mean.dataSync();
    const lv = logVar.dataSync();
    const eps = new Rng(7).normalArray(m.length);
    let klRef = 0;
    for (let i = 0; i < m.length; i++) klRef += 0.5 * (m[i]! ** 2 + Math.exp(lv[i]!) - 1 - lv[i]!);
    const z = tf.tensor2d(Array.from(m, (x, i) => x + Math.exp(lv[i]! / 2) * eps[i]!), mean.shape);
    const nllRef = -tf.sum(model.decoder.logProbs(z, batch)).dataSync()[0]!;
    expect(kl).toBeCloseTo(klRef, 4);
    expect(nll).toBeCloseTo(nllRef, 3);
    expect(klRef).toBeGreaterThan(0);
    // The step-0 training loss leaves the KL out and is focal: it is not the ELBO.
    const loss = tf.tidy(() => model.loss(sentences, { step: 0 }).loss.dataSync()[0]!);
    expect(loss).toBeLessThan((nllRef + klRef) / r.tokens);
    expect(() => new SentenceVAE(tiny()).elbo(sentences, { noise: new Rng(7) })).toThrow(/not variational/);
    model.dispose();
  });

  it('posterior: the mean is encode()\'s vector, in eval mode even while training; refused on a plain model', () => {
    const model = new SentenceVAE(tiny({ variational: true, encoder: { dropout: 0.3 } }));
    model.train(true);
    const { mean, logVar } = model.posterior(sentences);
    expect(model.training).toBe(true);
    expect(mean.shape).toEqual([sentences.length, model.config.dModel]);
    expect(logVar.shape).toEqual(mean.shape);
    const v = model.encode(sentences);
    expect(Array.from(mean.dataSync())).toEqual(Array.from(v.dataSync()));
    // Dropout off: the same posterior twice.
    const again = model.posterior(sentences);
    expect(Array.from(again.logVar.dataSync())).toEqual(Array.from(logVar.dataSync()));
    expect(() => new SentenceVAE(tiny()).posterior(sentences)).toThrow(/not variational/);
    tf.dispose([mean, logVar, v, again.mean, again.logVar]);
    model.dispose();
  });

  it('kl.freeBitsPer: the loss clamps each dimension\'s batch-mean KL (batch) or each sentence\'s (sentence)', () => {
    const batch = packSentences(sentences, { pad: 0 });
    const termOf = (per: 'batch' | 'sentence', lambda: number) => {
      const model = new SentenceVAE(tiny({ variational: true, kl: { freeBits: lambda, freeBitsPer: per } }));
      model.train(false);
      const { mean, logVar } = model.encoder.posterior(batch);
      const kl = Array.from(mean.dataSync(), (m, i) => 0.5 * (m ** 2 + Math.exp(logVar.dataSync()[i]!) - 1 - logVar.dataSync()[i]!));
      const term = tf.tidy(() => model.loss(sentences).metrics.klTerm!.dataSync()[0]!) * sentences.length;
      model.dispose();
      return { kl, term, d: mean.shape[1] };
    };
    const { kl, d } = termOf('batch', 0);
    const n = sentences.length;
    // A threshold between the smallest and largest KL, so that both clamps bite and differ.
    const lambda = [...kl].sort((a, b) => a - b)[Math.floor(kl.length / 2)]!;
    const perSentence = kl.reduce((s, k) => s + Math.max(lambda, k), 0);
    let perBatch = 0;
    for (let j = 0; j < d; j++) perBatch += n * Math.max(lambda, kl.filter((_, i) => i % d === j).reduce((s, k) => s + k, 0) / n);
    expect(termOf('sentence', lambda).term).toBeCloseTo(perSentence, 4);
    expect(termOf('batch', lambda).term).toBeCloseTo(perBatch, 4);
    expect(Math.abs(perSentence - perBatch)).toBeGreaterThan(1e-3);
    expect(sentenceVaeConfigSchema.parse({}).kl.freeBitsPer).toBe('batch');
  });

  it('latentNoise: training reads each vector plus sigma x its RMS x eps from the noise generator; eval and sigma 0 read it clean', async () => {
    const { model, lossOf, trainingLossRewound, nllOf } = await trainedProbe({ latentNoise: 0.5 });
    // Reference from the pieces: the clean vectors, the same draw of eps, hand RMS noise, the decoder's NLL.
    const noisy = trainingLossRewound();
    const eps = model.rngs.noise.normalArray(sentences.length * 8);
    expect(noisy).toBeCloseTo(nllOf((v) => v.map((row, i) => withNoise(row, 0.5, eps.slice(i * 8, i * 8 + 8)))), 4);
    const clean = lossOf(false);
    expect(Math.abs(noisy - clean)).toBeGreaterThan(1e-3);
    expect(lossOf(false)).toBe(clean);
    // sigma 0 (the default) draws nothing: the training loss is the clean one.
    const plain = new SentenceVAE(tiny({ loss: { type: 'cross-entropy' } }));
    plain.loadParameters(model.parameterMap());
    plain.train(true);
    const before = plain.rngs.noise.getState();
    expect(tf.tidy(() => plain.loss(sentences).loss.dataSync()[0]!)).toBeCloseTo(clean, 6);
    expect(plain.rngs.noise.getState()).toEqual(before);
    expect(sentenceVaeConfigSchema.safeParse({ latentNoise: -1 }).success).toBe(false);
    model.dispose();
    plain.dispose();
  });

  it('latentDropout: training reads the noised vector with coordinates dropped (inverted, noise first, both from the noise generator); eval reads it clean', async () => {
    const { model, lossOf, trainingLossRewound, nllOf } = await trainedProbe({ latentNoise: 0.5, latentDropout: 0.5 });
    // Reference from the pieces: the clean vectors, eps then one uniform per coordinate from the same generator.
    const dropped = trainingLossRewound();
    const eps = model.rngs.noise.normalArray(sentences.length * 8);
    const keep = Array.from({ length: sentences.length * 8 }, () => (model.rngs.noise.uniform() < 0.5 ? 2 : 0));
    expect(keep).toContain(0);
    expect(keep).toContain(2);
    expect(dropped).toBeCloseTo(nllOf((v) => v.map((row, i) => withNoise(row, 0.5, eps.slice(i * 8, i * 8 + 8)).map((x, j) => x * keep[i * 8 + j]!))), 4);
    expect(Math.abs(dropped - lossOf(false))).toBeGreaterThan(1e-3);
    expect(sentenceVaeConfigSchema.safeParse({ latentDropout: 0.95 }).success).toBe(false);
    model.dispose();
  });

  it('encoder.tokenDropout: training encodes the sentences with tokens replaced by the pad id (from the noise generator) and scores the real tokens; eval encodes them whole', async () => {
    const { model, batch, lossOf, trainingLossRewound, nllOf } = await trainedProbe({ encoder: { tokenDropout: 0.5 } });
    const masked = trainingLossRewound();
    // One uniform per real token, row-major: the same draws give the same masked batch.
    const maskedBatch = maskTokens(batch, 0.5, 0, model.rngs.noise);
    expect(Array.from(maskedBatch.tokens)).not.toEqual(Array.from(batch.tokens));
    expect(masked).toBeCloseTo(nllOf((v) => v, maskedBatch), 4);
    expect(lossOf(false)).toBeCloseTo(nllOf((v) => v), 6);
    expect(Math.abs(masked - lossOf(false))).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('parameters load by name into a fresh model and reproduce its outputs', async () => {
    const config = tiny({ variational: true, encoder: { pooling: 'attention' }, decoder: { memorySlots: 2 } });
    const a = new SentenceVAE({ ...config, seed: 1 });
    const b = new SentenceVAE({ ...config, seed: 2 });
    const before = b.encode(sentences).dataSync()[0];
    b.loadParameters(a.parameterMap());
    expect(b.encode(sentences).dataSync()[0]).not.toBe(before);
    expect(Array.from(b.encode(sentences).dataSync())).toEqual(Array.from(a.encode(sentences).dataSync()));
    expect(await b.reconstruct(sentences, { maxTokens: 4 })).toEqual(await a.reconstruct(sentences, { maxTokens: 4 }));
    a.dispose();
    b.dispose();
  });
});
