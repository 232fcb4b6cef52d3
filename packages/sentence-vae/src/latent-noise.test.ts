import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { noisyVectors } from './latent-noise.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('noisyVectors', () => {
  it('adds noise of sigma times each vector\'s RMS (hand-worked)', () => {
    // rms([3, 4]) = sqrt(12.5); rms([0, 2]) = sqrt(2)
    const got = noisyVectors(tf.tensor2d([3, 4, 0, 2], [2, 2]), 0.5, tf.tensor2d([1, -1, 2, 0], [2, 2])).arraySync();
    const r0 = 0.5 * Math.sqrt(12.5);
    expect(got[0]![0]).toBeCloseTo(3 + r0, 5);
    expect(got[0]![1]).toBeCloseTo(4 - r0, 5);
    expect(got[1]![0]).toBeCloseTo(2 * 0.5 * Math.SQRT2, 5);
    expect(got[1]![1]).toBeCloseTo(2, 5);
  });
});
