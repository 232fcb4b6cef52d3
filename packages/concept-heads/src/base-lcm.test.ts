import * as tf from '@tensorflow/tfjs-core';
import { initBackend, readMetricValues } from '@sentencelab/tensor';
import { expectNoLeak } from '@sentencelab/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { BaseLcm } from './base-lcm.js';
import { collateWindows } from './batches.js';
import { contrastiveAccuracy, nextEmbeddingL2 } from './evaluation.js';
import { continuations, disposeBatch, documents, evalLoss, fit, fixture, reloaded, tinyConfig, trainer, trainingBatch, type Fixture } from './testing/fixture.js';

let f: Fixture;
beforeAll(async () => {
  await initBackend('wasm', { log: false });
  f = await fixture();
});

describe('BaseLcm', () => {
  it('loss = squared error summed over dims / number of targets, position 0 and padding excluded', async () => {
    const model = new BaseLcm({ ...tinyConfig, layers: 1 }, f.space);
    model.eval();
    const windows = [f.vectors[0]!, f.vectors[1]!.slice(0, 2)]; // lengths 3 and 2: one padded slot
    const batch = collateWindows(windows, tinyConfig.dEmb);
    const { loss, metrics } = model.loss(batch);
    const x = tf.tidy(() => model.normalizer.normalize(batch.x));
    const pred = tf.tidy(() => model.forward(tf.slice(x, [0, 0, 0], [2, 2, tinyConfig.dEmb]) as tf.Tensor3D));
    const p = pred.arraySync() as number[][][];
    const xs = x.arraySync() as number[][][];
    let sum = 0;
    // targets: row 0 positions 1, 2; row 1 position 1 (position 2 is padding)
    for (const [r, pos] of [[0, 1], [0, 2], [1, 1]] as const) {
      for (let j = 0; j < tinyConfig.dEmb; j++) sum += (p[r]![pos - 1]![j]! - xs[r]![pos]![j]!) ** 2;
    }
    expect((await readMetricValues(metrics)).targets).toBe(3);
    expect(loss.dataSync()[0]).toBeCloseTo(sum / 3, 4);
    tf.dispose([loss, x, pred]);
    disposeBatch(batch);
    model.dispose();
  });

  it('is causal: changing later sentences leaves earlier predictions unchanged', () => {
    const model = new BaseLcm({ ...tinyConfig, layers: 2 }, f.space);
    model.eval();
    const a = tf.tensor3d(Float32Array.from({ length: 4 * tinyConfig.dEmb }, (_, i) => Math.sin(i)), [1, 4, tinyConfig.dEmb]);
    const b = tf.tidy(() => tf.concat([tf.slice(a, [0, 0, 0], [1, 2, -1]), tf.mul(tf.slice(a, [0, 2, 0], [1, 2, -1]), -3)], 1) as tf.Tensor3D);
    const pa = model.forward(a).arraySync() as number[][][];
    const pb = model.forward(b).arraySync() as number[][][];
    for (const pos of [0, 1]) pa[0]![pos]!.forEach((v, j) => expect(pb[0]![pos]![j]).toBeCloseTo(v, 5));
    expect(Math.abs(pa[0]![2]![0]! - pb[0]![2]![0]!)).toBeGreaterThan(1e-4);
    tf.dispose([a, b]);
    model.dispose();
  });

  it('overfits tiny documents, regenerates their continuations and survives a checkpoint round trip', async () => {
    const model = new BaseLcm({ ...tinyConfig, layers: 2 }, f.space);
    const batch = trainingBatch(f, tinyConfig.maxSentences);
    const first = await evalLoss(model, batch);
    await fit(model, batch, 150, 3e-3);
    const last = await evalLoss(model, batch);
    expect(last).toBeLessThan(0.01 * first);
    expect(last).toBeLessThan(0.05);
    expect(await continuations(model, f)).toEqual(documents.map((d) => d.slice(1)));

    const preds = await model.predictBatch(batch);
    expect(preds.predictions.length).toBe(documents.length * 3);
    // Every prediction is nearest its own target; the three end-of-text targets are identical,
    // so each of those has two tied distractors (half a win each): (6 + 3 * 7/8) / 9.
    expect(contrastiveAccuracy(preds.predictions, preds.targets)).toBeCloseTo((6 + (3 * 7) / 8) / 9, 10);
    expect(nextEmbeddingL2(preds.predictions, preds.targets, model.normalizer).normalized!).toBeLessThan(0.2);

    const again = await reloaded(model);
    const ctx = f.vectors[1]!.slice(0, 2);
    expect(Array.from(await again.predictNext(ctx))).toEqual(Array.from(await model.predictNext(ctx)));
    disposeBatch(batch);
    again.dispose();
    model.dispose();
  }, 240_000);

  it('does not leak tensors across training steps', async () => {
    const model = new BaseLcm({ ...tinyConfig, layers: 1 }, f.space);
    const batch = trainingBatch(f, tinyConfig.maxSentences);
    const t = trainer(model, 1e-3);
    await expectNoLeak(() => t.step(batch), 2);
    t.dispose();
    disposeBatch(batch);
    model.dispose();
  });
});
