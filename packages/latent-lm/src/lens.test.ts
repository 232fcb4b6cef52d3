import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { packSentences } from '@sentencelab/sentence-vae';
import { beforeAll, describe, expect, test } from 'vitest';
import { sentenceLens, tokenF1 } from './lens.js';
import { SLLM } from './sllm.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

// Three decoder layers, and a decoder wider than the SentenceVAE (so the memory projection is used).
const config = {
  svae: {
    vocabSize: 12,
    dModel: 16,
    maxTokens: 6,
    encoder: { layers: 1, heads: 2, dropout: 0 },
    decoder: { layers: 1, heads: 2, dropout: 0 },
    seed: 3,
  },
  decoder: { dModel: 24, layers: 3, heads: 2, maxLen: 6 },
  seed: 4,
};
const doc = [[5, 6, 7], [8, 9], [10, 5, 11, 4], [9, 3]];

describe('sentenceLens', () => {
  test('the last layer equals generation at every position; layer states leave the forward pass unchanged', async () => {
    const model = new SLLM(config).eval();
    const before = tf.memory().numTensors;
    const grid = await sentenceLens(model, doc, { maxTokens: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(grid.cells).toHaveLength(3);
    expect(grid.cells.every((row) => row.length === doc.length)).toBe(true);
    expect(grid.targets).toEqual([doc[1], doc[2], doc[3], null]);
    for (let i = 0; i < doc.length; i++) {
      const out: number[][] = [];
      for await (const s of model.generate(doc.slice(0, i + 1), { maxSentences: 1, stopThreshold: 1.01, decode: { maxTokens: 5 } })) out.push(s);
      expect(grid.cells[2]![i]!.tokens).toEqual(out[0]);
    }
    // A random model still says something (the equality above is not between empty sentences).
    expect(grid.cells.flat().some((c) => c.tokens.length > 0)).toBe(true);
    expect(grid.cells[0]![3]).toMatchObject({ cosine: null, f1: null });

    // The last layer's state is the forward pass's, bit for bit.
    const packed = packSentences(doc, { pad: model.config.svae.specialIds.pad });
    const batch = { tokens: packed.tokens, lengths: packed.lengths, shape: [1, doc.length, packed.maxLen] as [number, number, number] };
    const states = model.layerHiddenStates(batch);
    const h = model.hiddenStates(batch);
    expect(states).toHaveLength(3);
    expect(Array.from(await states[2]!.data())).toEqual(Array.from(await h.data()));
    expect(Array.from(await states[0]!.data())).not.toEqual(Array.from(await h.data()));
    // Intermediate states went through the final LayerNorm (untrained: unit gain, zero bias):
    // every row has mean 0 and variance 1.
    const first = await states[0]!.data();
    for (let r = 0; r < doc.length; r++) {
      const row = Array.from(first.subarray(r * 24, r * 24 + 24));
      const mean = row.reduce((a, b) => a + b, 0) / 24;
      expect(mean).toBeCloseTo(0, 4);
      expect(row.reduce((a, b) => a + (b - mean) ** 2, 0) / 24).toBeCloseTo(1, 2);
    }

    // Cosine of the last layer at position 1, recomputed by hand from the memory and the target's encoding.
    const memory = model.toMemory(tf.reshape(h, [doc.length, 24]) as tf.Tensor2D);
    const m = Array.from((await memory.data()).subarray(16, 32));
    const target = model.svae.encoder.forward(packSentences([doc[2]!], { pad: 0 }));
    const t = Array.from(await target.data());
    const dot = m.reduce((s, v, k) => s + v * t[k]!, 0);
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    expect(grid.cells[2]![1]!.cosine).toBeCloseTo(dot / (norm(m) * norm(t)), 5);
    tf.dispose([...states, h, memory, target]);
    model.dispose();
  });

  test('rejects documents longer than the decoder reads', async () => {
    const model = new SLLM(config);
    await expect(sentenceLens(model, Array.from({ length: 7 }, () => [5]))).rejects.toThrow(/7 sentences; the model reads 1..6/);
    model.dispose();
  });

  test('token F1 (hand-worked)', () => {
    // overlap {5, 6} of 3 predicted and 4 true: P 2/3, R 1/2, F1 4/7.
    expect(tokenF1([5, 6, 7], [6, 5, 8, 9])).toBeCloseTo(4 / 7, 12);
    expect(tokenF1([5, 5], [5])).toBeCloseTo(2 / 3, 12);
    expect(tokenF1([], [])).toBe(1);
    expect(tokenF1([], [3])).toBe(0);
  });
});
