import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, disposeGrads, initBackend, metricScalars, readMetricValues, restoreCheckpoint, saveCheckpoint, valueAndGrads } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SentenceVaeConfigInput } from './config.js';
import type { SentencesInput } from './batch.js';
import { SentenceVAE, type SentenceVaeLossMetrics } from './model.js';

type StepMetrics = { [K in keyof SentenceVaeLossMetrics]: number } & { loss: number };

beforeAll(async () => {
  await initBackend('wasm', { log: false });
});

// Permutations and shared tokens: order and position must survive the sum pooling.
const corpus = [
  [5, 6, 7],
  [7, 6, 5],
  [8, 9, 10, 11, 12],
  [12, 11, 10, 9, 8, 5],
  [13, 14, 15, 16, 17, 18, 19, 20],
  [21, 5, 21, 5],
  [22, 23, 24, 25, 26, 27, 28, 29, 30, 31],
  [32, 33],
];

function config(over: SentenceVaeConfigInput = {}): SentenceVaeConfigInput {
  return {
    vocabSize: 34,
    dModel: 32,
    maxTokens: 12,
    ...over,
    encoder: { heads: 2, dropout: 0, ...over.encoder },
    decoder: { heads: 2, dropout: 0, ...over.decoder },
  };
}

/** One AdamW step; the loss and the metrics (kept past the step, then read in one go) as numbers. */
async function trainStep(model: SentenceVAE, opt: AdamW, batch: SentencesInput, step: number): Promise<StepMetrics> {
  let metrics: SentenceVaeLossMetrics | undefined;
  const { loss, grads } = await valueAndGrads(model, () => {
    const r = model.loss(batch, { step });
    metrics = r.metrics;
    metricScalars(r.metrics).forEach((s) => tf.keep(s));
    return r.loss;
  });
  opt.applyGradients(grads);
  disposeGrads(grads);
  return { ...(await readMetricValues(metrics!)), loss } as StepMetrics;
}

describe('training', () => {
  it('reconstructs a small set of sentences exactly after short training, without leaking tensors', async () => {
    const model = new SentenceVAE(config({ seed: 1 }));
    const opt = new AdamW(model.namedParameters(), { lr: 3e-3, weightDecay: 0 });
    const losses: number[] = [];
    let exactAt = -1;
    let tensorsAfterWarmup = 0;
    const t0 = performance.now();
    for (let step = 0; step < 200 && exactAt < 0; step++) {
      losses.push((await trainStep(model, opt, corpus, step)).loss);
      if (step === 1) tensorsAfterWarmup = tf.memory().numTensors;
      if (step > 1) expect(tf.memory().numTensors).toBe(tensorsAfterWarmup);
      if (step % 10 === 9) {
        const out = await model.reconstruct(corpus);
        if (out.every((s, i) => String(s) === String(corpus[i]))) exactAt = step + 1;
      }
    }
    const msPerStep = (performance.now() - t0) / losses.length;
    console.log(`exact reconstruction after ${exactAt} steps (${msPerStep.toFixed(0)} ms/step incl. checks, wasm)`);
    expect(exactAt).toBeGreaterThan(0);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 10);
    const m = await model.reconstructionMetrics(corpus);
    expect(m).toMatchObject({ tokenAccuracy: 1, exactMatch: 1, bleu: 1, sentences: 8, tokens: 49 });
    expect(m.perplexity).toBeGreaterThan(1);
    expect(m.perplexity).toBeLessThan(2);
    // byGroup: each group's figures are those of its sentences alone (trained sentences, then reversed ones it has not seen).
    const mixed = [corpus[0]!, corpus[1]!, [...corpus[4]!].reverse(), [...corpus[6]!].reverse(), corpus[5]!];
    const grouped = await model.reconstructionMetrics(mixed, { groups: [2, 0, 2, 1] });
    expect(grouped.byGroup!.map((g) => g.sentences)).toEqual([2, 0, 2, 1]);
    for (const [g, part] of [[0, mixed.slice(0, 2)], [2, mixed.slice(2, 4)], [3, mixed.slice(4)]] as const) {
      const alone = await model.reconstructionMetrics(part);
      expect(grouped.byGroup![g]).toEqual({ sentences: alone.sentences, tokens: alone.tokens, tokenAccuracy: alone.tokenAccuracy, exactMatch: alone.exactMatch });
    }
    expect(grouped.byGroup![0]!.exactMatch).toBe(1);
    expect(grouped.byGroup![2]!.tokenAccuracy).toBeLessThan(1);
    const total = grouped.byGroup!.reduce((a, g) => a + g.tokenAccuracy * g.tokens, 0);
    expect(total / grouped.tokens).toBeCloseTo(grouped.tokenAccuracy, 12);
    await expect(model.reconstructionMetrics(mixed, { groups: [2, 2] })).rejects.toThrow('groups must be counts >= 0 summing to the 5 sentences, got [2, 2]');
    // beam search (raw log-probabilities) finds sequences at least as likely as greedy's
    const beam = await model.reconstruct(corpus, { strategy: 'beam', beamSize: 3, lengthPenalty: 0 });
    const vectors = model.encode(corpus);
    const score = (hyps: number[][]) => model.inEval(() => tf.tidy(() => tf.sum(model.decoder.logProbs(vectors, model.sentences(hyps)), 1).arraySync() as number[]));
    const greedyScores = score(corpus);
    score(beam).forEach((s, i) => expect(s).toBeGreaterThanOrEqual(greedyScores[i]! - 1e-4));
    vectors.dispose();
    opt.dispose();
    model.dispose();
  }, 120_000);

  it('is deterministic for a seed (init, dropout and reparameterisation noise)', async () => {
    const run = async (seed: number) => {
      const model = new SentenceVAE(config({ seed, variational: true, encoder: { dropout: 0.1 }, decoder: { dropout: 0.1 } }));
      const opt = new AdamW(model.namedParameters(), { lr: 1e-3 });
      const losses: number[] = [];
      for (const step of [0, 1, 2]) losses.push((await trainStep(model, opt, corpus, step)).loss);
      opt.dispose();
      model.dispose();
      return losses;
    };
    const a = await run(4);
    expect(await run(4)).toEqual(a);
    expect(await run(5)).not.toEqual(a);
  });

  it('resumes from a checkpoint exactly (weights, optimizer, dropout and noise generators)', async () => {
    const cfg = config({ seed: 6, variational: true, encoder: { dropout: 0.1 }, decoder: { dropout: 0.1 } });
    const dir = mkdtempSync(join(tmpdir(), 'svae-ckpt-'));
    const file = join(dir, 'step3.safetensors');
    try {
      const a = new SentenceVAE(cfg);
      const optA = new AdamW(a.namedParameters(), { lr: 1e-3 });
      for (let step = 0; step < 3; step++) await trainStep(a, optA, corpus, step);
      await saveCheckpoint(file, { model: a, optimizer: optA, step: 3, rngs: a.rngs, config: a.config });
      const continued = [(await trainStep(a, optA, corpus, 3)).loss, (await trainStep(a, optA, corpus, 4)).loss];
      const b = new SentenceVAE({ ...cfg, seed: 99 });
      const optB = new AdamW(b.namedParameters(), { lr: 1e-3 });
      const loaded = restoreCheckpoint(file, { model: b, optimizer: optB, rngs: b.rngs });
      expect(loaded.step).toBe(3);
      expect([(await trainStep(b, optB, corpus, 3)).loss, (await trainStep(b, optB, corpus, 4)).loss]).toEqual(continued);
      for (const x of [a, b, optA, optB]) x.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('variational mode: KL logged separately, annealed, and the ELBO goes down', async () => {
    const model = new SentenceVAE(config({ seed: 2, variational: true, kl: { weight: 1, annealSteps: 20, freeBits: 0.01 } }));
    const opt = new AdamW(model.namedParameters(), { lr: 3e-3, weightDecay: 0 });
    const metrics: StepMetrics[] = [];
    for (let step = 0; step < 30; step++) metrics.push(await trainStep(model, opt, corpus, step));
    const first = metrics[0]!;
    const last = metrics.at(-1)!;
    expect(first.klWeight).toBe(0);
    expect(metrics[10]!.klWeight).toBeCloseTo(0.5, 12);
    expect(last.klWeight).toBe(1);
    expect(first.kl).toBeGreaterThan(0);
    // objective = (recon sum + beta * KL term) / tokens
    for (const m of metrics) expect(m.loss).toBeCloseTo(m.recon + (m.klWeight! * m.klTerm! * m.sentences) / m.tokens, 4);
    // focal loss weighs confident tokens down, so it sits below the NLL
    for (const m of metrics) expect(m.recon).toBeLessThan(m.nll);
    expect(last.recon).toBeLessThan(first.recon);
    // encoding uses the posterior mean: deterministic in eval mode
    const a = model.encode(corpus).dataSync();
    const b = model.encode(corpus).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    opt.dispose();
    model.dispose();
  });
});

describe('gradients', () => {
  it('match central finite differences on a tiny model', async () => {
    const model = new SentenceVAE({
      vocabSize: 10,
      dModel: 8,
      maxTokens: 5,
      encoder: { heads: 2, dropout: 0, pooling: 'learnable-add', normPlacement: 'pre' },
      decoder: { heads: 2, dropout: 0, memorySlots: 2 },
      loss: { type: 'focal', gamma: 2 },
      seed: 9,
    });
    const batch = [
      [4, 5, 6],
      [7, 8],
    ];
    // At init the decoder barely listens to its memory (0.02-scale weights), so the encoder's
    // gradients are below float32 finite-difference resolution: train a little first.
    const opt = new AdamW(model.namedParameters(), { lr: 1e-2, weightDecay: 0 });
    for (let step = 0; step < 15; step++) await trainStep(model, opt, batch, step);
    opt.dispose();
    const lossValue = () => tf.tidy(() => model.loss(batch).loss.dataSync()[0]!);
    const { grads } = await valueAndGrads(model, () => model.loss(batch).loss);
    const params = model.parameterMap();
    const checks: Array<[string, number]> = [
      ['encoder.embed.weight', 4 * 8 + 3],
      ['encoder.transformer.layers.0.attn.qkv.weight', 21], // v's block: columns 16-23 of [8, 24]
      ['encoder.transformer.layers.0.mlp.up.weight', 7],
      ['encoder.pooling.weight.weight', 2],
      ['decoder.memory.weight', 17],
      ['decoder.transformer.layers.0.crossAttn.kv.weight', 25], // v's block: columns 8-15 of [8, 16]
      ['decoder.head.weight', 13],
    ];
    const eps = 1e-2;
    for (const [name, index] of checks) {
      const p = params.get(name)!;
      const analytic = grads.get(name)!.dataSync()[index]!;
      const original = p.dataSync().slice();
      const at = (delta: number) => {
        const values = original.slice();
        values[index] = original[index]! + delta;
        p.assign(tf.tensor(values, p.shape));
        return lossValue();
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      p.assign(tf.tensor(original, p.shape));
      expect(Math.abs(analytic)).toBeGreaterThan(1e-5);
      expect(Math.abs(analytic - numeric)).toBeLessThan(2e-5 + 0.05 * Math.abs(numeric));
    }
    disposeGrads(grads);
    model.dispose();
  });
});
