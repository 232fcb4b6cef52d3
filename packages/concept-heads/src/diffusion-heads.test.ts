import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  continuations,
  disposeBatch,
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
import { OneTowerLcm } from './one-tower.js';
import { TwoTowerLcm } from './two-tower.js';

let f: Fixture;
beforeAll(async () => {
  await initBackend('wasm', { log: false });
  f = await fixture();
});

const common = { ...tinyConfig, timestepDim: 32, sampling: { steps: 10 } };

/** Both diffusion heads must pass the same mask and overfitting checks; only their sizes differ. */
const heads = [
  { name: 'OneTowerLcm', make: (layers: number) => new OneTowerLcm({ ...common, layers }, f.space) },
  { name: 'TwoTowerLcm', make: (layers: number) => new TwoTowerLcm({ ...common, contextLayers: layers, denoiserLayers: layers }, f.space) },
];

describe.each(heads)('$name', ({ make }) => {
  it('masks (2 layers, random weights): noisy x_p never sees c_p or later, nor other noisy vectors; a dropped row sees no context', () => {
    const model = make(2);
    randomizeParameters(model, 5);
    model.eval();
    const n = 5;
    const context = noiseTensor(1, n);
    const xt = noiseTensor(2, n);
    const t = Float32Array.from([90, 10, 50, 70, 30]);
    const base = model.denoiseWithContext(context, xt, t, [false]);
    // Output j is position p = j + 1. Changing c_3, c_4 may only affect positions 4 and 5.
    const later = perturbFrom(context, 3, 9);
    const outLater = model.denoiseWithContext(later, xt, t, [false]);
    expect(maxDiff(base, outLater, 0, 3)).toBeLessThan(1e-5);
    expect(maxDiff(base, outLater, 3, 5)).toBeGreaterThan(1e-3);
    // Changing c_2 reaches position 3 (it is its last context sentence).
    const third = perturbFrom(context, 2, 9);
    const outThird = model.denoiseWithContext(third, xt, t, [false]);
    expect(maxDiff(base, outThird, 0, 2)).toBeLessThan(1e-5);
    expect(maxDiff(base, outThird, 2, 3)).toBeGreaterThan(1e-3);
    // Self-attention restricted to itself: other positions' noisy vectors do not matter.
    const xtLater = perturbFrom(xt, 2, 4);
    const outX = model.denoiseWithContext(context, xtLater, t, [false]);
    expect(maxDiff(base, outX, 0, 2)).toBeLessThan(1e-5);
    // Dropped condition: no context reaches any position.
    const d1 = model.denoiseWithContext(context, xt, t, [true]);
    const d2 = model.denoiseWithContext(perturbFrom(context, 0, 8), xt, t, [true]);
    expect(maxDiff(d1, d2, 0, n)).toBeLessThan(1e-5);
    expect(maxDiff(d1, base, 0, n)).toBeGreaterThan(1e-3);
    tf.dispose([context, xt, base, later, outLater, third, outThird, xtLater, outX, d1, d2]);
    model.dispose();
  });

  it('overfits tiny documents, regenerates their continuations and reloads from its state', async () => {
    const model = make(1);
    // Four copies of each window: four noise draws per target and step.
    const batch = trainingBatch(f, tinyConfig.maxSentences, 4);
    const first = await evalLoss(model, batch, 4);
    await fit(model, batch, 300, 3e-3);
    const last = await evalLoss(model, batch, 4);
    expect(first).toBeGreaterThan(10);
    expect(last).toBeLessThan(0.2);
    expect(await continuations(model, f)).toEqual(documents.map((d) => d.slice(1)));

    const again = await reloaded(model);
    const ctx = f.vectors[2]!.slice(0, 2);
    expect(Array.from(await again.predictNext(ctx, { seed: 3 }))).toEqual(Array.from(await model.predictNext(ctx, { seed: 3 })));
    disposeBatch(batch);
    again.dispose();
    model.dispose();
  }, 240_000);
});

describe('posteriorTargets', () => {
  it("learns the spread of the targets' posteriors (in raw units, through the normaliser); without, a point", async () => {
    const { dim, a, space, batch } = posteriorSpreadFixture();
    const spreadOf = async (posteriorTargets: boolean) => {
      // Unguided, from unit noise: the samples are the learned distribution's, not a guided one's.
      const model = new TwoTowerLcm({ ...common, dEmb: dim, normalizer: 'standard', contextLayers: 1, denoiserLayers: 1, guidance: { conditionDropout: 0, scale: 1 }, sampling: { steps: 10, initialNoiseScale: 1 }, posteriorTargets }, space);
      await fit(model, batch, 300, 3e-3);
      const spread = await spreadAfter(model, a);
      model.dispose();
      return spread;
    };
    const drawn = await spreadOf(true);
    expect(drawn.mean).toBeCloseTo(1, 0);
    // Deterministic DDIM from a briefly trained denoiser samples a little narrower than it was
    // trained on (0.32 here, 0.36 after 800 steps); the draws taken in normalised units, or the
    // normaliser's scale applied the wrong way, would give 1 or 2.
    expect(drawn.std).toBeGreaterThan(0.25);
    expect(drawn.std).toBeLessThan(0.65);
    const point = await spreadOf(false);
    expect(point.mean).toBeCloseTo(1, 0);
    expect(point.std).toBeLessThan(0.15);
    disposeBatch(batch);
  }, 120_000);

  it('refuses a batch without posterior stds, naming the option', () => {
    const model = new TwoTowerLcm({ ...common, contextLayers: 1, denoiserLayers: 1, posteriorTargets: true }, f.space);
    const batch = trainingBatch(f, tinyConfig.maxSentences);
    expect(() => model.loss(batch)).toThrow(/two-tower head: posteriorTargets is true, but the batch has no posterior std/);
    disposeBatch(batch);
    model.dispose();
  });
});
