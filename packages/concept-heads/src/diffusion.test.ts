import * as tf from '@tensorflow/tfjs-core';
import { initBackend, metricScalars } from '@sentencelab/tensor';
import { expectNoLeak } from '@sentencelab/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OneTowerConfigInput } from './config.js';
import { OneTowerLcm } from './one-tower.js';
import { disposeBatch, fixture, tinyConfig, trainer, trainingBatch, type Fixture } from './testing/fixture.js';
import { TwoTowerLcm } from './two-tower.js';

let f: Fixture;
beforeAll(async () => {
  await initBackend('wasm', { log: false });
  f = await fixture();
});

const shared = { ...tinyConfig, timestepDim: 32, sampling: { steps: 4 } };
const heads: Array<[string, (seed: number, extra?: object) => TwoTowerLcm | OneTowerLcm]> = [
  ['two-tower', (seed, extra = {}) => new TwoTowerLcm({ ...shared, contextLayers: 1, denoiserLayers: 1, seed, ...extra }, f.space)],
  ['one-tower', (seed, extra = {}) => new OneTowerLcm({ ...shared, layers: 1, seed, ...extra }, f.space)],
];

describe.each(heads)('%s training and sampling', (_name, make) => {
  it('is deterministic for a seed (noise, timesteps, condition dropout) and differs across seeds', async () => {
    const batch = trainingBatch(f, tinyConfig.maxSentences);
    const run = async (seed: number) => {
      const model = make(seed);
      const t = trainer(model, 1e-3);
      const losses: number[] = [];
      for (let i = 0; i < 3; i++) losses.push(await t.step(batch));
      t.dispose();
      model.dispose();
      return losses;
    };
    const a = await run(4);
    expect(await run(4)).toEqual(a);
    expect(await run(5)).not.toEqual(a);
    disposeBatch(batch);
  });

  it('drops the context of every row with conditionDropout 1 in training, of none in eval', () => {
    const model = make(1, { guidance: { conditionDropout: 1 } });
    const batch = trainingBatch(f, tinyConfig.maxSentences);
    model.train();
    const trained = model.loss(batch);
    expect(trained.metrics.dropped_rows).toBe(batch.x.shape[0]);
    model.eval();
    const evaluated = model.loss(batch);
    expect(evaluated.metrics.dropped_rows).toBe(0);
    tf.dispose([trained, evaluated].flatMap((r) => [r.loss, ...metricScalars(r.metrics)]));
    disposeBatch(batch);
    model.dispose();
  });

  it('leaks no tensors across training steps or guided sampling', async () => {
    const model = make(2);
    const batch = trainingBatch(f, tinyConfig.maxSentences);
    const t = trainer(model, 1e-3);
    await expectNoLeak(() => t.step(batch), 2);
    await expectNoLeak(() => model.predictNext(f.vectors[0]!.slice(0, 2)), 2);
    await expectNoLeak(() => model.predictBatch(batch), 1);
    t.dispose();
    disposeBatch(batch);
    model.dispose();
  });
});

describe('prediction parameterisations', () => {
  it.each<[string, OneTowerConfigInput]>([
    ['v', { prediction: 'v' }],
    ['epsilon', { prediction: 'epsilon', schedule: { zeroTerminalSnr: false } }],
    ['x0 on a sigmoid schedule', { schedule: { kind: 'sigmoid' } }],
  ])('%s trains (the loss falls) and samples finite vectors', async (_name, extra) => {
    const model = new OneTowerLcm({ ...shared, layers: 1, ...extra }, f.space);
    const batch = trainingBatch(f, tinyConfig.maxSentences, 4);
    const t = trainer(model, 3e-3);
    const losses: number[] = [];
    for (let i = 0; i < 80; i++) losses.push(await t.step(batch));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(0.7 * mean(losses.slice(0, 10)));
    const next = await model.predictNext(f.vectors[0]!.slice(0, 2));
    expect(next.every(Number.isFinite)).toBe(true);
    t.dispose();
    disposeBatch(batch);
    model.dispose();
  }, 120_000);
});
