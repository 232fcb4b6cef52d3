import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { energyScoreLoss } from './energy-score.js';
import { energyScores } from './evaluation.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

/** samples given as [position][sample][dim] -> the loss's [N, m, d] layout. */
function samplesOf(rows: number[][][]): tf.Tensor3D {
  const m = rows.length;
  const n = rows[0]!.length;
  const d = rows[0]![0]!.length;
  const out = new Float32Array(n * m * d);
  rows.forEach((pos, j) => pos.forEach((x, i) => out.set(x, (i * m + j) * d)));
  return tf.tensor3d(out, [n, m, d]);
}

const lossOf = (rows: number[][][], target: number[][], mask: number[], beta = 1) =>
  tf.tidy(() => energyScoreLoss(samplesOf(rows), tf.tensor2d(target), tf.tensor1d(mask), beta).dataSync()[0]!);

describe('energyScoreLoss (hand-worked)', () => {
  it('2/N sum |x_i - y| - 1/(N(N-1)) sum_{i != j} |x_i - x_j|, averaged over the masked positions', () => {
    // position 0: samples 1 and 3, target 2: 2 * (1 + 1) / 2 - (2 + 2) / 2 = 0
    // position 1: samples 0 and 0, target 1: 2 * 1 - 0 = 2
    const rows = [[[1], [3]], [[0], [0]]];
    expect(lossOf(rows, [[2], [1]], [1, 1])).toBeCloseTo(1, 6);
    expect(lossOf(rows, [[2], [1]], [0, 1])).toBeCloseTo(2, 6);
    expect(lossOf(rows, [[2], [1]], [1, 0])).toBeCloseTo(0, 6);
  });

  it('Euclidean distances over the dimensions, raised to beta', () => {
    // samples (0, 0) and (3, 4), target (3, 0): distances 3 and 4 to it, 5 apart
    const rows = [[[0, 0], [3, 4]]];
    expect(lossOf(rows, [[3, 0]], [1])).toBeCloseTo(2 * 3.5 - 5, 5);
    expect(lossOf(rows, [[3, 0]], [1], 0.5)).toBeCloseTo(Math.sqrt(3) + 2 - Math.sqrt(5), 5);
    expect(() => lossOf(rows, [[3, 0]], [1], 2)).toThrow(/beta must be in \(0, 2\)/);
  });

  it('prefers samples spread like the targets to samples at their mean (what MSE would pick)', () => {
    // Targets +1 and -1, equally likely. Samples {+1, -1}: 2 * 1 - 2 = 0 for either target.
    // Samples {0, 0}: 2 * 1 - 0 = 2. MSE ranks them the other way (its loss is 1 at 0, 2 at +-1).
    const spread = (lossOf([[[1], [-1]]], [[1]], [1]) + lossOf([[[1], [-1]]], [[-1]], [1])) / 2;
    const mean = (lossOf([[[0], [0]]], [[1]], [1]) + lossOf([[[0], [0]]], [[-1]], [1])) / 2;
    expect(spread).toBeCloseTo(0, 6);
    expect(mean).toBeCloseTo(2, 6);
  });

  it('with two samples, twice the eval\'s per-target energy score (energyScores), averaged', () => {
    const rng = new Rng(9);
    const rows = Array.from({ length: 3 }, () => [Array.from(rng.normalArray(4)), Array.from(rng.normalArray(4))]);
    const targets = Array.from({ length: 3 }, () => Array.from(rng.normalArray(4)));
    const scores = energyScores(rows.map((r) => Float32Array.from(r[0]!)), rows.map((r) => Float32Array.from(r[1]!)), targets.map((t) => Float32Array.from(t)));
    expect(lossOf(rows, targets, [1, 1, 1])).toBeCloseTo((2 * scores.reduce((a, b) => a + b, 0)) / 3, 5);
  });

  it('gradients equal central differences, for beta 1 and 1.5', () => {
    const rng = new Rng(4);
    const [n, m, d] = [3, 2, 3];
    const x0 = rng.normalArray(n * m * d);
    const y0 = rng.normalArray(m * d);
    const mask = tf.tensor1d([1, 1]);
    for (const beta of [1, 1.5]) {
      const f = (x: Float32Array, y: Float32Array) =>
        tf.tidy(() => energyScoreLoss(tf.tensor3d(x, [n, m, d]), tf.tensor2d(y, [m, d]), mask, beta).dataSync()[0]!);
      const [gx, gy] = tf.grads((x: tf.Tensor, y: tf.Tensor) => energyScoreLoss(x as tf.Tensor3D, y as tf.Tensor2D, mask, beta))([
        tf.tensor3d(x0, [n, m, d]),
        tf.tensor2d(y0, [m, d]),
      ]).map((g) => g.dataSync());
      // (f(v + h e_i) - f(v - h e_i)) / 2h, for every i of one argument
      const centralDiffs = (v: Float32Array, at: (w: Float32Array) => number) =>
        Array.from(v, (_, i) => {
          const shifted = (by: number) => Float32Array.from(v, (x, j) => (j === i ? x + by : x));
          return (at(shifted(1e-2)) - at(shifted(-1e-2))) / 2e-2;
        });
      centralDiffs(x0, (x) => f(x, y0)).forEach((g, i) => expect(gx![i]).toBeCloseTo(g, 2));
      centralDiffs(y0, (y) => f(x0, y)).forEach((g, i) => expect(gy![i]).toBeCloseTo(g, 2));
    }
  });

  it('has a finite gradient where samples coincide (as every sample does before training)', () => {
    const x = tf.zeros([4, 3, 2]) as tf.Tensor3D;
    const g = tf.grad((s: tf.Tensor) => energyScoreLoss(s as tf.Tensor3D, tf.ones([3, 2]) as tf.Tensor2D, tf.ones([3]) as tf.Tensor1D))(x).dataSync();
    expect(Array.from(g).every(Number.isFinite)).toBe(true);
    // Each sample is pulled towards the target (1, 1): -2/N * unit vector / positions = -(2/4)(1/sqrt 2)/3
    expect(g[0]).toBeCloseTo(-(2 / 4) * Math.SQRT1_2 / 3, 5);
  });

  it('against M draws of each target: 2/(N M) sum_i sum_k |x_i - y_k| - the samples\' spread (hand-worked)', () => {
    // position 0: samples 1 and 3, draws 0 and 2: 2 * (1 + 1 + 3 + 1) / 4 - (2 + 2) / 2 = 1
    // position 1: samples 0 and 0, draws 1 and 1: 2 * 1 - 0 = 2
    const draws = tf.tensor3d([[[0], [1]], [[2], [1]]]); // [M, m, d]: draw 0 of positions 0 and 1, then draw 1
    const loss = (mask: number[]) => tf.tidy(() => energyScoreLoss(samplesOf([[[1], [3]], [[0], [0]]]), draws, tf.tensor1d(mask)).dataSync()[0]!);
    expect(loss([1, 1])).toBeCloseTo(1.5, 5);
    expect(loss([1, 0])).toBeCloseTo(1, 5);
    expect(loss([0, 1])).toBeCloseTo(2, 5);
    // One draw is the one-target form; beta applies to the draws' distances too.
    const rng = new Rng(3);
    const x = samplesOf(Array.from({ length: 4 }, () => [Array.from(rng.normalArray(5)), Array.from(rng.normalArray(5)), Array.from(rng.normalArray(5))]));
    const y = tf.tensor2d(rng.normalArray(20), [4, 5]);
    for (const beta of [1, 1.5]) {
      const one = energyScoreLoss(x, y, tf.ones([4]) as tf.Tensor1D, beta).dataSync()[0]!;
      expect(energyScoreLoss(x, tf.expandDims(y, 0) as tf.Tensor3D, tf.ones([4]) as tf.Tensor1D, beta).dataSync()[0]).toBeCloseTo(one, 5);
    }
    expect(() => energyScoreLoss(x, tf.zeros([2, 3, 5]) as tf.Tensor3D, tf.ones([4]) as tf.Tensor1D)).toThrow(/and target \[2,3,5\] differ/);
  });

  it('against draws: gradients equal central differences, finite where a sample meets a draw', () => {
    const rng = new Rng(5);
    const [n, m, d, draws] = [3, 2, 3, 4];
    const x0 = rng.normalArray(n * m * d);
    const y = tf.tensor3d(rng.normalArray(draws * m * d), [draws, m, d]);
    const mask = tf.tensor1d([1, 1]);
    for (const beta of [1, 1.5]) {
      const f = (x: Float32Array) => tf.tidy(() => energyScoreLoss(tf.tensor3d(x, [n, m, d]), y, mask, beta).dataSync()[0]!);
      const g = tf.grad((x: tf.Tensor) => energyScoreLoss(x as tf.Tensor3D, y, mask, beta))(tf.tensor3d(x0, [n, m, d])).dataSync();
      x0.forEach((_, i) => {
        const shifted = (by: number) => Float32Array.from(x0, (v, j) => (j === i ? v + by : v));
        expect(g[i]).toBeCloseTo((f(shifted(1e-2)) - f(shifted(-1e-2))) / 2e-2, 2);
      });
    }
    // Every sample equal to every draw: distance 0, a zero gradient from the draws (no NaN).
    const same = tf.grad((s: tf.Tensor) => energyScoreLoss(s as tf.Tensor3D, tf.ones([2, 3, 2]) as tf.Tensor3D, tf.ones([3]) as tf.Tensor1D))(tf.ones([4, 3, 2])).dataSync();
    expect(Array.from(same).every(Number.isFinite)).toBe(true);
  });
});
