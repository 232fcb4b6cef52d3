import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { interleave, oddPositions, oneTowerMask, twoTowerCrossMask } from './masks.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('attention masks', () => {
  it('two-tower cross mask: position p sees slots 0..p (zero + c_0..c_{p-1}); dropped rows only slot 0', () => {
    const m = twoTowerCrossMask(3, 3, [false, true]);
    expect(m.arraySync()).toEqual([
      [
        [1, 1, 0, 0],
        [1, 1, 1, 0],
        [1, 1, 1, 1],
      ],
      [
        [1, 0, 0, 0],
        [1, 0, 0, 0],
        [1, 0, 0, 0],
      ],
    ]);
    // Only the last position queried (generation): it sees everything.
    expect(twoTowerCrossMask(3, 1, [false]).arraySync()).toEqual([[[1, 1, 1, 1]]]);
    m.dispose();
  });

  it('one-tower mask over [c0, x1, c1, x2]: clean causal over clean, noisy sees earlier clean and itself', () => {
    const m = oneTowerMask(2, [false, true]);
    expect(m.arraySync()).toEqual([
      [
        [1, 0, 0, 0], // c0
        [1, 1, 0, 0], // x1: c0, itself
        [1, 0, 1, 0], // c1: c0, c1
        [1, 0, 1, 1], // x2: c0, c1, itself
      ],
      [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [1, 0, 1, 0],
        [0, 0, 0, 1],
      ],
    ]);
    m.dispose();
  });

  it('interleave and oddPositions are inverse where it matters', () => {
    const a = tf.tensor3d([1, 2, 3, 4], [1, 2, 2]);
    const b = tf.tensor3d([5, 6, 7, 8], [1, 2, 2]);
    const i = interleave(a, b);
    expect(i.arraySync()).toEqual([[[1, 2], [5, 6], [3, 4], [7, 8]]]);
    const odd = oddPositions(i);
    expect(odd.arraySync()).toEqual(b.arraySync());
    tf.dispose([a, b, i, odd]);
  });
});
