import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { AdamW } from './adamw.js';
import { lrSchedule } from './schedule.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('AdamW', () => {
  it('matches a hand-computed two-step update with decoupled weight decay', () => {
    const w = tf.variable(tf.tensor2d([[1, -2]]));
    const b = tf.variable(tf.tensor1d([0.5]));
    const opt = new AdamW([['w', w], ['b', b]], { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.5 });
    // step 1, g = [0.2, -0.4]: m = 0.1 g, v = 0.01 g², mhat = g, vhat = g² -> update = sign(g)
    opt.applyGradients({ w: tf.tensor2d([[0.2, -0.4]]), b: tf.tensor1d([1]) });
    // w: decay 1 - 0.1*0.5 = 0.95 first, then -0.1*sign(g); b (rank 1) does not decay
    expect(Array.from(w.dataSync())[0]).toBeCloseTo(1 * 0.95 - 0.1, 6);
    expect(Array.from(w.dataSync())[1]).toBeCloseTo(-2 * 0.95 + 0.1, 6);
    expect(b.dataSync()[0]).toBeCloseTo(0.5 - 0.1, 6);
    // step 2 for w[0] with g = 0.1:
    const g1 = 0.2, g2 = 0.1;
    const m = 0.9 * (0.1 * g1) + 0.1 * g2;
    const v = 0.99 * (0.01 * g1 * g1) + 0.01 * g2 * g2;
    const update = m / (1 - 0.9 ** 2) / (Math.sqrt(v / (1 - 0.99 ** 2)) + 1e-8);
    const expected = (0.95 - 0.1) * 0.95 - 0.1 * update;
    opt.applyGradients({ w: tf.tensor2d([[g2, 0]]) });
    expect(w.dataSync()[0]).toBeCloseTo(expected, 6);
    expect(b.dataSync()[0]).toBeCloseTo(0.4, 6); // no gradient given: untouched
    expect(opt.step).toBe(2);
    opt.dispose();
  });

  it('rejects gradients for unknown parameters', () => {
    const opt = new AdamW([['w', tf.variable(tf.zeros([1]))]], { lr: 1 });
    expect(() => opt.applyGradients({ nope: tf.zeros([1]) })).toThrow(/unknown parameter "nope"/);
  });
});

describe('lrSchedule', () => {
  it('warms up linearly, then decays by cosine to minLr', () => {
    const s = lrSchedule({ kind: 'cosine', lr: 1, warmupSteps: 10, totalSteps: 110, minLr: 0.1 });
    expect(s(0)).toBeCloseTo(0.1);
    expect(s(9)).toBeCloseTo(1);
    expect(s(10)).toBeCloseTo(1);
    expect(s(60)).toBeCloseTo(0.55);
    expect(s(110)).toBeCloseTo(0.1);
    expect(s(500)).toBeCloseTo(0.1);
  });

  it('supports linear decay and constant', () => {
    const lin = lrSchedule({ kind: 'linear', lr: 2, totalSteps: 4 });
    expect([0, 1, 2, 4].map(lin)).toEqual([2, 1.5, 1, 0]);
    expect(lrSchedule({ kind: 'constant', lr: 3, warmupSteps: 2 })(5)).toBe(3);
    expect(() => lrSchedule({ kind: 'cosine', lr: 1, warmupSteps: 5, totalSteps: 5 })).toThrow(/totalSteps/);
  });
});
