import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { Linear } from '../layers/linear.js';
import { Rng } from '../rng.js';
import { expectNoLeak } from '../testing/leak.js';
import { AdamW } from './adamw.js';
import { clipGradNorm, disposeGrads, DynamicLossScaler, globalNorm, GradAccumulator, valueAndGrads } from './grads.js';
import { crossEntropy } from './losses.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

const grads = (entries: Array<[string, number[]]>) => new Map(entries.map(([n, v]) => [n, tf.tensor1d(v)]));

describe('gradient utilities', () => {
  it('clipGradNorm scales to maxNorm and returns the norm before clipping', async () => {
    const g = grads([['a', [3, 0]], ['b', [0, 4]]]);
    expect(await clipGradNorm(g, 1)).toBeCloseTo(5);
    expect(await globalNorm(g)).toBeCloseTo(1, 4);
    expect(Array.from(g.get('a')!.dataSync())[0]).toBeCloseTo(0.6, 4);
    expect(await clipGradNorm(g, 10)).toBeCloseTo(1, 4); // under the limit: untouched
    disposeGrads(g);
  });

  it('globalNorm of many gradients equals a single addN bit for bit (summed in chunks a webgpu shader can bind)', async () => {
    const rng = new Rng(5);
    const g = new Map(Array.from({ length: 20 }, (_, i) => [`p${i}`, tf.tensor1d(rng.normalArray(3 + i, 0, 10))] as const));
    const want = tf.tidy(() => Math.sqrt(tf.addN([...g.values()].map((x) => tf.sum(tf.square(x)))).dataSync()[0]!));
    expect(await globalNorm(g)).toBe(want);
    expect(await globalNorm(new Map([...g].slice(0, 7)))).toBe(tf.tidy(() => Math.sqrt(tf.addN([...g.values()].slice(0, 7).map((x) => tf.sum(tf.square(x)))).dataSync()[0]!)));
    disposeGrads(g);
  });

  it('GradAccumulator averages micro-batches like one big batch', async () => {
    const rng = new Rng(0);
    const lin = new Linear({ inFeatures: 3, outFeatures: 4, rng });
    const x = tf.tensor2d(rng.normalArray(12), [4, 3]);
    const y = tf.tensor1d([0, 3, 1, 2], 'int32');
    const whole = await valueAndGrads(lin, () => crossEntropy(lin.forward(x), y));
    const acc = new GradAccumulator();
    for (const [s, e] of [[0, 2], [2, 4]]) {
      acc.add((await valueAndGrads(lin, () => crossEntropy(lin.forward(tf.slice(x, [s!, 0], [e! - s!, 3])), tf.slice(y, [s!], [e! - s!])))).grads);
    }
    expect(acc.count).toBe(2);
    const mean = acc.mean();
    for (const [n, g] of whole.grads) {
      const m = mean.get(n)!.dataSync();
      g.dataSync().forEach((v, i) => expect(m[i]).toBeCloseTo(v, 5));
    }
    expect(() => acc.mean()).toThrow(/no gradients/);
    disposeGrads(whole.grads);
    disposeGrads(mean);
  });

  it('loss scaling returns unscaled loss and gradients; the dynamic scaler backs off on overflow', async () => {
    const lin = new Linear({ inFeatures: 2, outFeatures: 2, rng: new Rng(1) });
    const x = tf.tensor2d([[1, 2]]);
    const loss = () => tf.sum(tf.square(lin.forward(x))) as tf.Scalar;
    const plain = await valueAndGrads(lin, loss);
    const scaled = await valueAndGrads(lin, loss, { lossScale: 1024 });
    expect(scaled.loss).toBeCloseTo(plain.loss, 5);
    expect(Array.from(scaled.grads.get('weight')!.dataSync())).toEqual(Array.from(plain.grads.get('weight')!.dataSync()).map((v) => expect.closeTo(v, 5)));
    const scaler = new DynamicLossScaler(1024, 2);
    expect(await scaler.update(grads([['w', [1, Infinity]]]))).toBe(false);
    expect(scaler.scale).toBe(512);
    expect(await scaler.update(plain.grads)).toBe(true);
    expect(await scaler.update(plain.grads)).toBe(true);
    expect(scaler.scale).toBe(1024);
  });
});

describe('expectNoLeak', () => {
  it('passes for a clean training step and fails for one that leaks', async () => {
    const rng = new Rng(2);
    const lin = new Linear({ inFeatures: 3, outFeatures: 3, rng });
    const opt = new AdamW(lin.namedParameters(), { lr: 1e-2 });
    const x = tf.tensor2d(rng.normalArray(6), [2, 3]);
    const y = tf.tensor1d([0, 2], 'int32');
    const step = async () => {
      const { grads: g } = await valueAndGrads(lin, () => crossEntropy(lin.forward(x), y));
      opt.applyGradients(g);
      disposeGrads(g);
    };
    await expectNoLeak(step, 3);
    const leaky = async () => {
      await step();
      tf.keep(tf.zeros([1])); // the kind of tensor a forgotten dispose leaves behind
    };
    await expect(expectNoLeak(leaky, 2)).rejects.toThrow(/tensor leak: 2 tensors left behind over 2 steps/);
  });
});
