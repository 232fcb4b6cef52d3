import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierFreeGuidance } from './guidance.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

const condValues = [1, 2, 3, 4, -1, 0, 2, 5];
const uncondValues = [0.5, 1, 1, 2, 0, 0, 0, 1];
const std = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
};

describe('classifierFreeGuidance', () => {
  it('scale 1 gives the conditional prediction (with and without rescale)', () => {
    const cond = tf.tensor2d(condValues, [2, 4]);
    const uncond = tf.tensor2d(uncondValues, [2, 4]);
    for (const rescale of [0, 0.7, 1]) {
      const out = classifierFreeGuidance(cond, uncond, 1, rescale);
      out.dataSync().forEach((v, i) => expect(v).toBeCloseTo(condValues[i]!, 5));
      out.dispose();
    }
    tf.dispose([cond, uncond]);
  });

  it('combines and rescales per row as the formula says', () => {
    const cond = tf.tensor2d(condValues, [2, 4]);
    const uncond = tf.tensor2d(uncondValues, [2, 4]);
    const scale = 3;
    const phi = 0.7;
    const out = classifierFreeGuidance(cond, uncond, scale, phi).dataSync();
    for (let r = 0; r < 2; r++) {
      const c = condValues.slice(r * 4, r * 4 + 4);
      const u = uncondValues.slice(r * 4, r * 4 + 4);
      const g = c.map((v, j) => u[j]! + scale * (v - u[j]!));
      const ratio = std(c) / std(g);
      g.forEach((v, j) => expect(out[r * 4 + j]).toBeCloseTo(phi * v * ratio + (1 - phi) * v, 4));
    }
    const plain = classifierFreeGuidance(cond, uncond, scale, 0).dataSync();
    expect(plain[0]).toBeCloseTo(0.5 + 3 * 0.5, 6);
    tf.dispose([cond, uncond]);
  });
});
