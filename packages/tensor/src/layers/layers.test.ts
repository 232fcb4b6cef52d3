import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { Rng } from '../rng.js';
import { dropout } from './dropout.js';
import { LearnedPositionalEmbedding, RotaryEmbedding, sinusoidalEncoding } from './positional.js';
import { TransformerBlock } from './transformer-block.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('dropout', () => {
  it('is reproducible from the seed, zeroes about `rate` and rescales the rest', () => {
    const x = tf.ones([4000]);
    const a = dropout(x, 0.25, new Rng(9), true).dataSync();
    const b = dropout(x, 0.25, new Rng(9), true).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    const zeros = a.filter((v) => v === 0).length / a.length;
    expect(zeros).toBeGreaterThan(0.22);
    expect(zeros).toBeLessThan(0.28);
    expect(a.find((v) => v !== 0)).toBeCloseTo(1 / 0.75);
    expect(dropout(x, 0.25, new Rng(9), false)).toBe(x);
    expect(() => dropout(x, 1, new Rng(9), true)).toThrow(/\[0, 1\)/);
  });

  it('is off in eval mode inside blocks', () => {
    const block = new TransformerBlock({ dModel: 8, numHeads: 2, dropout: 0.5, rng: new Rng(0) });
    const x = tf.tensor3d(new Rng(1).normalArray(16), [1, 2, 8]);
    block.eval();
    const a = block.forward(x).dataSync();
    const b = block.forward(x).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    block.train();
    expect(Array.from(block.forward(x).dataSync())).not.toEqual(Array.from(a));
  });
});

describe('positional encodings', () => {
  it('sinusoidal: sin on even, cos on odd columns, offset shifts rows', () => {
    const pe = sinusoidalEncoding(3, 4).arraySync();
    expect(pe[0]).toEqual([0, 1, 0, 1]);
    expect(pe[2]![0]).toBeCloseTo(Math.sin(2));
    expect(pe[2]![1]).toBeCloseTo(Math.cos(2));
    expect(pe[2]![2]).toBeCloseTo(Math.sin(2 / 100));
    expect(sinusoidalEncoding(1, 4, 2).arraySync()[0]).toEqual(pe[2]!.map((v) => expect.closeTo(v, 6)));
  });

  it('learned: slices rows and refuses positions past maxLen', () => {
    const pos = new LearnedPositionalEmbedding({ maxLen: 4, dim: 2, rng: new Rng(0) });
    expect(Array.from(pos.forward(2, 1).dataSync())).toEqual(Array.from(pos.weight.dataSync().slice(2, 6)));
    expect(() => pos.forward(3, 2)).toThrow(/exceed maxLen 4/);
  });

  it('rotary: preserves norms and makes q.k depend only on the position difference', () => {
    const rope = new RotaryEmbedding(4);
    const rng = new Rng(3);
    const q = tf.tensor4d(rng.normalArray(4), [1, 1, 1, 4]);
    const k = tf.tensor4d(rng.normalArray(4), [1, 1, 1, 4]);
    const dot = (pq: number, pk: number) => tf.sum(tf.mul(rope.apply(q, pq), rope.apply(k, pk))).dataSync()[0]!;
    expect(dot(5, 2)).toBeCloseTo(dot(13, 10), 4);
    expect(dot(5, 2)).not.toBeCloseTo(dot(5, 4), 2);
    expect(tf.norm(rope.apply(q, 7)).dataSync()[0]).toBeCloseTo(tf.norm(q).dataSync()[0]!, 5);
  });
});
