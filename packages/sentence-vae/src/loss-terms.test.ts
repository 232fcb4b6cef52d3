import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { gaussianKl, klTerm, klWeight, reparameterise } from './kl.js';
import { targetLogProbs, tokenLoss } from './token-loss.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

const ln2 = Math.log(2);

describe('gaussianKl / klTerm (hand-worked)', () => {
  // sentence 0: mean [1, 0], logVar [0, ln 2]
  //   dim 0: 0.5 (1 + 1 - 1 - 0) = 0.5
  //   dim 1: 0.5 (0 + 2 - 1 - ln 2) = 0.5 (1 - ln 2) = 0.153426
  // sentence 1: mean [0, 0], logVar [0, 0] -> 0 and 0 (the prior itself)
  let mean: tf.Tensor2D;
  let logVar: tf.Tensor2D;
  beforeAll(() => {
    mean = tf.tensor2d([1, 0, 0, 0], [2, 2]);
    logVar = tf.tensor2d([0, ln2, 0, 0], [2, 2]);
  });

  it('is 0.5 (mean² + exp(logVar) - 1 - logVar) per dimension', () => {
    const kl = gaussianKl(mean, logVar).arraySync();
    expect(kl[0]![0]).toBeCloseTo(0.5, 6);
    expect(kl[0]![1]).toBeCloseTo(0.5 * (1 - ln2), 6);
    expect(kl[1]).toEqual([0, 0]);
  });

  it('sums over dimensions and sentences; free bits clamp each dimension\'s batch mean', () => {
    const kl = gaussianKl(mean, logVar);
    // no free bits: total = 0.5 + 0.153426
    expect(klTerm(kl, 0).dataSync()[0]).toBeCloseTo(0.5 + 0.5 * (1 - ln2), 5);
    // batch means per dim: 0.25 and 0.076713; with lambda 0.1: 2 * (0.25 + 0.1) = 0.7
    expect(klTerm(kl, 0.1).dataSync()[0]).toBeCloseTo(0.7, 5);
    // lambda 0.3 clamps both: 2 * (0.3 + 0.3)
    expect(klTerm(kl, 0.3).dataSync()[0]).toBeCloseTo(1.2, 5);
  });

  it('free bits stop the gradient of dimensions below the threshold', () => {
    const g = tf.grad((m: tf.Tensor) => klTerm(gaussianKl(m as tf.Tensor2D, logVar), 0.1))(mean).arraySync() as number[][];
    // d KL / d mean = mean on dim 0 (above lambda); dim 1 is clamped -> 0
    expect(g[0]![0]).toBeCloseTo(1, 5);
    expect(g[0]![1]).toBe(0);
  });

  it('free bits per sentence clamp each sentence\'s KL in each dimension (CALM)', () => {
    const kl = gaussianKl(mean, logVar);
    // sentence 0: max(0.1, 0.5) + max(0.1, 0.153426); sentence 1 (the prior): 0.1 + 0.1
    expect(klTerm(kl, 0.1, 'sentence').dataSync()[0]).toBeCloseTo(0.5 + 0.5 * (1 - ln2) + 0.2, 5);
    // lambda 0.3: 0.5 + 0.3, then 0.3 + 0.3
    expect(klTerm(kl, 0.3, 'sentence').dataSync()[0]).toBeCloseTo(1.4, 5);
    // without free bits the two are the same sum
    expect(klTerm(kl, 0, 'sentence').dataSync()[0]).toBeCloseTo(klTerm(kl, 0, 'batch').dataSync()[0]!, 6);
  });

  it('per sentence, a sentence below the threshold gets no gradient even when the batch mean is above it', () => {
    // one dimension; KL 0.5 and 0.02 (mean 1 and 0.2, unit variance): batch mean 0.26 > 0.1
    const m = tf.tensor2d([1, 0.2], [2, 1]);
    const lv = tf.zeros([2, 1]) as tf.Tensor2D;
    const batch = tf.grad((x: tf.Tensor) => klTerm(gaussianKl(x as tf.Tensor2D, lv), 0.1, 'batch'))(m).arraySync() as number[][];
    const sentence = tf.grad((x: tf.Tensor) => klTerm(gaussianKl(x as tf.Tensor2D, lv), 0.1, 'sentence'))(m).arraySync() as number[][];
    expect(klTerm(gaussianKl(m, lv), 0.1, 'batch').dataSync()[0]).toBeCloseTo(0.52, 5); // 2 * 0.26
    expect(klTerm(gaussianKl(m, lv), 0.1, 'sentence').dataSync()[0]).toBeCloseTo(0.6, 5); // 0.5 + 0.1
    expect(batch[0]![0]).toBeCloseTo(1, 5);
    expect(batch[1]![0]).toBeCloseTo(0.2, 5);
    expect(sentence[0]![0]).toBeCloseTo(1, 5);
    expect(sentence[1]![0]).toBe(0);
  });

  it('anneals beta linearly', () => {
    const c = { weight: 0.5, annealSteps: 100, freeBits: 0, freeBitsPer: 'batch' as const };
    expect(klWeight(c, 0)).toBe(0);
    expect(klWeight(c, 50)).toBeCloseTo(0.25, 12);
    expect(klWeight(c, 1000)).toBe(0.5);
    expect(klWeight({ ...c, annealSteps: 0 }, 0)).toBe(0.5);
  });

  it('reparameterises with the given noise', () => {
    const z = reparameterise(mean, logVar, tf.tensor2d([1, 1, -2, 0.5], [2, 2])).arraySync();
    expect(z[0]![0]).toBeCloseTo(2, 6);
    expect(z[0]![1]).toBeCloseTo(Math.SQRT2, 6);
    expect(z[1]![0]).toBeCloseTo(-2, 6);
  });
});

describe('token losses (hand-worked)', () => {
  it('targetLogProbs reads log-softmax at the target', () => {
    // row 0: logits [0, ln 3] -> p = [1/4, 3/4]
    const logits = tf.tensor2d([0, Math.log(3), 0, 0], [2, 2]);
    const lp = targetLogProbs(logits, tf.tensor1d([1, 0], 'int32')).dataSync();
    expect(lp[0]).toBeCloseTo(Math.log(0.75), 6);
    expect(lp[1]).toBeCloseTo(Math.log(0.5), 6);
  });

  it('cross-entropy and focal, summed over rows (hand-worked)', () => {
    // row 0: logits [0, 0] -> p(0) = 0.5; row 1: [ln 9, 0] -> p(0) = 0.9
    const logits = tf.tensor2d([0, 0, Math.log(9), 0], [2, 2]);
    const targets = tf.tensor1d([0, 0], 'int32');
    const ce = tokenLoss(logits, targets, { type: 'cross-entropy', gamma: 2 }).dataSync()[0];
    expect(ce).toBeCloseTo(ln2 - Math.log(0.9), 5);
    // focal gamma 2: 0.5² ln 2 + 0.1² (-ln 0.9)
    const focal = tokenLoss(logits, targets, { type: 'focal', gamma: 2 }).dataSync()[0];
    expect(focal).toBeCloseTo(0.25 * ln2 - 0.01 * Math.log(0.9), 5);
    // gamma 0 is cross-entropy
    expect(tokenLoss(logits, targets, { type: 'focal', gamma: 0 }).dataSync()[0]).toBeCloseTo(ce!, 6);
  });
});
