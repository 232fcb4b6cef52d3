import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { maskedSquaredError } from './losses.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('maskedSquaredError', () => {
  it('sums squared errors over dims and divides by the number of target sentences', () => {
    // batch 1, seq 3, dim 2; the last sentence is padding.
    const pred = tf.tensor3d([1, 2, 0, 0, 9, 9], [1, 3, 2]);
    const target = tf.tensor3d([0, 0, 3, 4, 0, 0], [1, 3, 2]);
    const mask = tf.tensor2d([1, 1, 0], [1, 3]);
    // (1 + 4) + (9 + 16) = 30 over 2 targets
    const loss = maskedSquaredError(pred, target, mask);
    expect(loss.dataSync()[0]).toBeCloseTo(15, 6);
    tf.dispose([pred, target, mask, loss]);
  });
});
