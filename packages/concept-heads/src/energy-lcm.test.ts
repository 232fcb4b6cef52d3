import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { BaseLcm } from './base-lcm.js';
import { collateWindows, disposeBatch } from './batches.js';
import { EnergyLcm } from './energy-lcm.js';
import type { ConceptModel, ConceptSpace } from './model.js';
import { EmbeddingNormalizer } from './normalizer.js';
import {
  continuations,
  documents,
  evalLoss,
  fit,
  fixture,
  maxDiff,
  noiseTensor,
  perturbFrom,
  posteriorSpreadFixture,
  randomizeParameters,
  reloaded,
  spreadAfter,
  tinyConfig,
  trainingBatch,
  type Fixture,
} from './testing/fixture.js';

let f: Fixture;
beforeAll(async () => {
  await initBackend('wasm', { log: false });
  f = await fixture();
});

const generator = { blocks: 2, noiseDim: 8, samples: 8 };

describe('EnergyLcm', () => {
  it('learns both continuations where the next sentence is one of two, where the MSE head predicts their mean', async () => {
    // Every document: sentence A, then +v or -v (half each). The best regression is 0; the
    // distribution is two points.
    const d = 4;
    const a = Float32Array.from([1, 0, 0, 0]);
    const v = (sign: number) => Float32Array.from([0, 2 * sign, 0, 0]);
    const docs = Array.from({ length: 16 }, (_, i) => [a, v(i % 2 === 0 ? 1 : -1)]);
    const space: ConceptSpace = { normalizer: EmbeddingNormalizer.identity(d), endVector: Float32Array.from([0, 0, 0, 1]) };
    const sizes = { ...tinyConfig, dEmb: d, normalizer: 'none' as const, layers: 1 };
    const batch = collateWindows(docs, d);
    const heads: [string, ConceptModel][] = [
      ['energy', new EnergyLcm({ ...sizes, generator }, space)],
      ['mse', new BaseLcm(sizes, space)],
    ];
    const drawn: Record<string, Float32Array[]> = {};
    for (const [name, model] of heads) {
      await fit(model, batch, 250, 3e-3);
      drawn[name] = await Promise.all(Array.from({ length: 48 }, (_, seed) => model.predictNext([a], { seed })));
    }
    const second = (xs: Float32Array[]) => xs.map((x) => x[1]!);
    const energy = second(drawn['energy']!);
    // Both modes drawn, each sample near one of them, the other coordinates near 0.
    expect(energy.filter((y) => y > 1.5).length).toBeGreaterThan(48 / 4);
    expect(energy.filter((y) => y < -1.5).length).toBeGreaterThan(48 / 4);
    expect(energy.filter((y) => Math.abs(Math.abs(y) - 2) < 0.5).length).toBeGreaterThan(0.8 * 48);
    for (const x of drawn['energy']!) expect(Math.hypot(x[0]!, x[2]!, x[3]!)).toBeLessThan(0.5);
    // The MSE head: every prediction at the mean of the two, near 0.
    for (const y of second(drawn['mse']!)) expect(Math.abs(y)).toBeLessThan(0.3);
    disposeBatch(batch);
    for (const [, m] of heads) m.dispose();
  }, 120_000);

  it('fits tiny documents, regenerates their continuations, draws the same sample for the same seed and reloads from its state', async () => {
    const model = new EnergyLcm({ ...tinyConfig, layers: 1, generator }, f.space);
    const batch = trainingBatch(f, tinyConfig.maxSentences);
    const first = await evalLoss(model, batch, 2);
    await fit(model, batch, 400, 1e-2);
    const last = await evalLoss(model, batch, 2);
    // 8.8 at the start, ~0.06 after (0 only when every sample lands on its target)
    expect(first).toBeGreaterThan(5);
    expect(last).toBeLessThan(0.2);
    expect(await continuations(model, f)).toEqual(documents.map((doc) => doc.slice(1)));
    const ctx = f.vectors[2]!.slice(0, 2);
    const again = await reloaded(model);
    expect(again).toBeInstanceOf(EnergyLcm);
    expect(Array.from(await again.predictNext(ctx, { seed: 3 }))).toEqual(Array.from(await model.predictNext(ctx, { seed: 3 })));
    expect(Array.from(await model.predictNext(ctx, { seed: 3 }))).not.toEqual(Array.from(await model.predictNext(ctx, { seed: 4 })));
    disposeBatch(batch);
    again.dispose();
    model.dispose();
  }, 120_000);

  it('a prediction reads only the sentences before it', async () => {
    const model = new EnergyLcm({ ...tinyConfig, layers: 1, generator }, f.space);
    randomizeParameters(model, 5);
    model.eval();
    const x = noiseTensor(1, 5);
    const base = await model.predictNormalized(x, false, { seed: 1 });
    const changed = perturbFrom(x, 3, 9);
    const out = await model.predictNormalized(changed, false, { seed: 1 });
    expect(maxDiff(base, out, 0, 3)).toBeLessThan(1e-5);
    expect(maxDiff(base, out, 3, 5)).toBeGreaterThan(1e-3);
    tf.dispose([x, base, changed, out]);
    model.dispose();
  });

  it('with targetDraws, learns the spread of the targets\' posteriors (in raw units, through the normaliser); without, a point', async () => {
    const { dim, a, space, batch } = posteriorSpreadFixture();
    const sizes = { ...tinyConfig, dEmb: dim, normalizer: 'standard' as const, layers: 1 };
    const spreadOf = async (targetDraws: number) => {
      const model = new EnergyLcm({ ...sizes, generator: { ...generator, targetDraws } }, space);
      await fit(model, batch, 250, 3e-3);
      const spread = await spreadAfter(model, a);
      model.dispose();
      return spread;
    };
    const drawn = await spreadOf(32);
    expect(drawn.mean).toBeCloseTo(1, 0);
    expect(drawn.std).toBeGreaterThan(0.35);
    expect(drawn.std).toBeLessThan(0.65);
    const point = await spreadOf(0);
    expect(point.mean).toBeCloseTo(1, 0);
    expect(point.std).toBeLessThan(0.15);
    disposeBatch(batch);
  }, 120_000);

  it('refuses targetDraws on batches without a posterior std, naming the option', () => {
    const model = new EnergyLcm({ ...tinyConfig, layers: 1, generator: { ...generator, targetDraws: 4 } }, f.space);
    const batch = trainingBatch(f, tinyConfig.maxSentences);
    expect(() => model.loss(batch)).toThrow(/generator.targetDraws is 4, but the batch has no posterior std/);
    disposeBatch(batch);
    model.dispose();
  });
});
