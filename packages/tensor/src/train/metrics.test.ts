import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { metricScalars, readMetricValues } from './metrics.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('readMetricValues', () => {
  it('reads scalars and numbers together, each shared scalar once, and disposes the scalars', async () => {
    const loss = tf.scalar(2.5);
    const count = tf.scalar(7, 'int32');
    const before = tf.memory().numTensors;
    const metrics = { loss, objective: loss, count, tokens: 12, kl: undefined };
    expect(metricScalars(metrics)).toEqual([loss, count]);
    expect(await readMetricValues(metrics)).toEqual({ loss: 2.5, objective: 2.5, count: 7, tokens: 12 });
    expect(loss.isDisposed && count.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before - 2);
    expect(await readMetricValues({ n: 3 })).toEqual({ n: 3 });
  });

  it('names a metric that is not a scalar', async () => {
    const v = tf.tensor1d([1, 2]) as unknown as tf.Scalar;
    await expect(readMetricValues({ recon: v })).rejects.toThrow(/metric "recon" is a tensor of shape \[2\], not a scalar/);
    v.dispose();
  });
});
