import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { ddimSample, ddimTimesteps, type DdimOptions } from './ddim.js';
import { makeSchedule } from './schedule.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

const x0Values = [0.5, -1.25, 2, 0.75, -0.3, 1.1];
const options = (o: Partial<DdimOptions> = {}): DdimOptions => ({
  schedule: makeSchedule({ kind: 'cosine', steps: 100, zeroTerminalSnr: true }),
  prediction: 'x0',
  steps: 40,
  eta: 0,
  spacing: 'trailing',
  initialNoiseScale: 0.6,
  rng: new Rng(7),
  ...o,
});

describe('ddimTimesteps', () => {
  it('trailing starts at the pure-noise step T-1; leading uses floor(T/n) strides', () => {
    const trailing = ddimTimesteps(100, 40, 'trailing');
    expect(trailing.length).toBe(40);
    expect(trailing[0]).toBe(99);
    for (let k = 1; k < 40; k++) expect(trailing[k]!).toBeLessThan(trailing[k - 1]!);
    expect(ddimTimesteps(10, 10, 'trailing')).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(ddimTimesteps(10, 2, 'trailing')).toEqual([9, 4]);
    expect(ddimTimesteps(10, 3, 'leading')).toEqual([6, 3, 0]);
    expect(() => ddimTimesteps(10, 11, 'trailing')).toThrow(/sampling.steps/);
  });
});

describe('ddimSample', () => {
  it('recovers x0 exactly with an oracle x0 predictor (eta 0 and 1, both spacings)', async () => {
    const x0 = tf.tensor2d(x0Values, [2, 3]);
    for (const o of [{ eta: 0 }, { eta: 1 }, { spacing: 'leading' as const, steps: 7 }]) {
      const before = tf.memory().numTensors;
      const out = await ddimSample(() => x0.clone(), 2, 3, options(o));
      expect(Array.from(out.dataSync())).toEqual(Array.from(Float32Array.from(x0Values)));
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    x0.dispose();
  });

  it('recovers x0 with oracle v and epsilon predictors (the conversions are consistent)', async () => {
    const x0 = tf.tensor2d(x0Values, [2, 3]);
    const oracle = (kind: 'v' | 'epsilon', alphaBar: Float64Array) => (xt: tf.Tensor2D, t: number) =>
      tf.tidy(() => {
        const a = alphaBar[t]!;
        const eps = tf.div(tf.sub(xt, tf.mul(x0, Math.sqrt(a))), Math.sqrt(1 - a));
        return (kind === 'epsilon' ? eps : tf.sub(tf.mul(eps, Math.sqrt(a)), tf.mul(x0, Math.sqrt(1 - a)))) as tf.Tensor2D;
      });
    const zsnr = makeSchedule({ steps: 100, zeroTerminalSnr: true });
    const v = await ddimSample(oracle('v', zsnr.alphaBar), 2, 3, options({ schedule: zsnr, prediction: 'v' }));
    const plain = makeSchedule({ kind: 'linear', steps: 100, zeroTerminalSnr: false });
    const e = await ddimSample(oracle('epsilon', plain.alphaBar), 2, 3, options({ schedule: plain, prediction: 'epsilon', eta: 0.5 }));
    for (const out of [v, e]) out.dataSync().forEach((val, i) => expect(val).toBeCloseTo(x0Values[i]!, 4));
    tf.dispose([x0, v, e]);
  });

  it('matches a hand-computed two-step deterministic chain', async () => {
    const schedule = makeSchedule({ kind: 'linear', steps: 10, zeroTerminalSnr: false, betaStart: 0.05, betaEnd: 0.3 });
    // Model: x0_hat = 0.5 * x_t. Steps: t=9 -> t=4 -> clean.
    const out = await ddimSample((xt) => tf.mul(xt, 0.5) as tf.Tensor2D, 1, 2, options({ schedule, steps: 2, initialNoiseScale: 0.6, rng: new Rng(3) }));
    const x = Array.from(new Rng(3).normalArray(2, 0, 0.6), Number);
    const ab = schedule.alphaBar;
    const step = (xt: number[], a: number, ap: number) =>
      xt.map((v) => {
        const x0 = 0.5 * v;
        const eps = (v - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
        return Math.sqrt(ap) * x0 + Math.sqrt(1 - ap) * eps;
      });
    const want = step(step(x, ab[9]!, ab[4]!), ab[4]!, 1);
    out.dataSync().forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    out.dispose();
  });

  it('refuses epsilon prediction at zero signal with a clear message', async () => {
    await expect(ddimSample((xt) => xt.clone(), 1, 2, options({ prediction: 'epsilon' }))).rejects.toThrow(/epsilon.*alphaBar = 0/);
  });
});
