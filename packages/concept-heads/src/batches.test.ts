import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { collateWindows, conceptBatches, disposeBatch, conceptWindows } from './batches.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

/** Sentence k of document d is the 2-d vector [d, k]; the end vector is [-1, -1]. */
const doc = (d: number, n: number) => Array.from({ length: n }, (_, k) => Float32Array.from([d, k]));
const end = Float32Array.from([-1, -1]);
const id = (v: Float32Array) => `${v[0]},${v[1]}`;

describe('conceptWindows', () => {
  it('appends the end vector and splits long documents into consecutive windows overlapping by one', () => {
    const windows = conceptWindows([doc(0, 5), doc(1, 1)], { maxSentences: 3, endVector: end });
    expect(windows.map((w) => w.map(id))).toEqual([
      ['0,0', '0,1', '0,2'],
      ['0,2', '0,3', '0,4'],
      ['0,4', '-1,-1'],
      ['1,0', '-1,-1'],
    ]);
  });

  it('makes every sentence after the first a target (position >= 1) exactly once', () => {
    for (const [n, max] of [[10, 4], [7, 2], [3, 8], [9, 3]] as const) {
      const windows = conceptWindows([doc(0, n)], { maxSentences: max, endVector: end });
      const targets = windows.flatMap((w) => w.slice(1).map(id));
      const expected = [...doc(0, n).slice(1).map(id), '-1,-1'];
      expect(targets).toEqual(expected);
      for (const w of windows) expect(w.length).toBeLessThanOrEqual(max);
    }
  });

  it('skips documents with nothing to predict, and checks dims and maxSentences', () => {
    expect(conceptWindows([doc(0, 1)], { maxSentences: 4, endVector: null })).toEqual([]);
    expect(() => conceptWindows([doc(0, 3)], { maxSentences: 1, endVector: null })).toThrow(/maxSentences/);
    expect(() => conceptWindows([[Float32Array.from([1, 2, 3])]], { maxSentences: 4, endVector: end })).toThrow(/document 0, sentence 0/);
  });
});

describe('collateWindows / conceptBatches', () => {
  it('right-pads to the longest window with a 0/1 mask', () => {
    const b = collateWindows([doc(3, 3), doc(4, 1)], 2);
    expect(b.x.shape).toEqual([2, 3, 2]);
    expect(Array.from(b.mask.dataSync())).toEqual([1, 1, 1, 1, 0, 0]);
    expect(Array.from(b.x.dataSync())).toEqual([3, 0, 3, 1, 3, 2, 4, 0, 0, 0, 0, 0]);
    disposeBatch(b);
  });

  it('batches all windows; a seeded shuffle is reproducible', () => {
    const docs = [doc(0, 4), doc(1, 2), doc(2, 6)];
    const order = (seed: number) => {
      const ids: string[] = [];
      for (const b of conceptBatches(docs, { maxSentences: 3, endVector: end, batchSize: 2, rng: new Rng(seed) })) {
        const x = b.x.arraySync() as number[][][];
        ids.push(...x.map((w) => `${w[0]![0]},${w[0]![1]}`));
        disposeBatch(b);
      }
      return ids;
    };
    const a = order(1);
    expect(a.length).toBe(conceptWindows(docs, { maxSentences: 3, endVector: end }).length);
    expect(order(1)).toEqual(a);
    expect(tf.memory().numTensors).toBe(0);
  });

  it('carries each sentence\'s posterior std with it through windows and shuffling (0 for the end sentence and padding)', () => {
    const docs = [doc(0, 4), doc(1, 2), doc(2, 6)];
    // The std of sentence k of document d is [10 + d, 100 + k]: recognisable from its vector.
    const stds = docs.map((d, i) => d.map((_, k) => Float32Array.from([10 + i, 100 + k])));
    const order = (withStds: boolean) => {
      const firsts: string[] = [];
      for (const b of conceptBatches(docs, { maxSentences: 3, endVector: end, batchSize: 2, rng: new Rng(1), ...(withStds ? { stds } : {}) })) {
        const x = b.x.arraySync() as number[][][];
        const mask = b.mask.arraySync() as number[][];
        firsts.push(...x.map((w) => `${w[0]![0]},${w[0]![1]}`));
        if (withStds) {
          const std = b.std!.arraySync() as number[][][];
          x.forEach((w, i) =>
            w.forEach((v, j) => {
              const isEnd = v[0] === -1;
              const expected = mask[i]![j] === 0 || isEnd ? [0, 0] : [10 + v[0]!, 100 + v[1]!];
              expect(std[i]![j]).toEqual(expected);
            }),
          );
        } else expect(b.std).toBeUndefined();
        disposeBatch(b);
      }
      return firsts;
    };
    // The same order with and without stds: training over a plain SentenceVAE is unchanged.
    expect(order(true)).toEqual(order(false));
    expect(tf.memory().numTensors).toBe(0);
    expect(() => conceptBatches(docs, { maxSentences: 3, endVector: end, batchSize: 2, stds: stds.slice(1) }).next()).toThrow(/one vector per sentence/);
  });
});
