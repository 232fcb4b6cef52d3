import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { SLLM, TokenLM } from '@sentencelab/latent-lm';
import { beforeAll, describe, expect, test } from 'vitest';
import { analyticalKvBytesPerToken, leastSquares, tokensPerCachePosition, measureGenerationKvBytes, measureKvBytesPerPosition, meanTokensPerSentence, peakTensorBytes } from './memory.js';

describe('leastSquares', () => {
  test('points on a line', () => {
    const f = leastSquares([1, 2, 3, 4], [3, 5, 7, 9]);
    expect(f.slope).toBeCloseTo(2, 12);
    expect(f.intercept).toBeCloseTo(1, 12);
    expect(f.r2).toBeCloseTo(1, 12);
  });

  test('hand-worked noisy example', () => {
    // mean x 1, mean y 2; Sxy = 1, Sxx = 2, Syy = 2 => slope 0.5, intercept 1.5, r2 = 1 / 4.
    const f = leastSquares([0, 1, 2], [1, 3, 2]);
    expect(f.slope).toBeCloseTo(0.5, 12);
    expect(f.intercept).toBeCloseTo(1.5, 12);
    expect(f.r2).toBeCloseTo(0.25, 12);
  });

  test('needs two distinct x and equal lengths', () => {
    expect(() => leastSquares([2, 2], [1, 3])).toThrow(/at least 2 distinct x values, got \[2, 2\]/);
    expect(() => leastSquares([1, 2], [1])).toThrow(/2 x values but 1 y values/);
  });
});

describe('KV-cache bytes per context token', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  test('measured slope of a real token LM equals its analytical kvBytesPerToken', () => {
    const lm = new TokenLM({ vocabSize: 32, decoder: { dModel: 16, layers: 2, heads: 2, maxLen: 64 } });
    try {
      const slope = measureKvBytesPerPosition((n) => {
        const cache = lm.decoder.createCache();
        tf.tidy(() => {
          lm.logits(tf.tensor2d(Int32Array.from({ length: n }, (_, i) => 3 + (i % 20)), [1, n], 'int32'), cache);
        });
        return cache;
      }, [4, 8, 16, 32]);
      // 2 layers x (keys + values) x 16 floats x 4 bytes.
      expect(analyticalKvBytesPerToken(lm)).toBe(256);
      expect(slope.slope).toBeCloseTo(256, 6);
      expect(slope.r2).toBeCloseTo(1, 9);
      expect(slope.points.map((p) => p.bytes)).toEqual([4, 8, 16, 32].map((n) => 256 * n));
    } finally {
      lm.dispose();
    }
  });

  test('measured slope per sentence position of a real SLLM equals kvBytesPerSentence; per token divides by the mean sentence length', () => {
    const sllm = new SLLM({
      svae: { vocabSize: 12, dModel: 16, maxTokens: 6, encoder: { layers: 1, heads: 2, dropout: 0 }, decoder: { layers: 1, heads: 2, dropout: 0 } },
      decoder: { dModel: 24, layers: 1, heads: 2, maxLen: 16 },
    });
    try {
      const slope = measureKvBytesPerPosition((n) => {
        const cache = sllm.decoder.createCache();
        tf.tidy(() => {
          sllm.decoder.forward(tf.randomNormal([1, n, 16]) as tf.Tensor3D, { cache });
        });
        return cache;
      }, [2, 4, 8]);
      expect(sllm.kvBytesPerSentence()).toBe(1 * 2 * 24 * 4);
      expect(slope.slope).toBeCloseTo(sllm.kvBytesPerSentence(), 6);
      // Sentences of 3, 2 and 4 tokens: (4 + 3 + 5) / 3 = 4 tokens per sentence with EOS.
      const perSentence = meanTokensPerSentence([[[1, 2, 3], [4, 5]], [[6, 7, 8, 9]]]);
      expect(perSentence).toBe(4);
      expect(analyticalKvBytesPerToken(sllm, perSentence)).toBe(48);
      expect(() => analyticalKvBytesPerToken(sllm)).toThrow(/need tokensPerSentence > 0, got undefined/);
    } finally {
      sllm.dispose();
    }
  });

  test('a prefill that leaves tensors outside its cache is an error', () => {
    const leaked: tf.Tensor[] = [];
    expect(() =>
      measureKvBytesPerPosition((n) => {
        leaked.push(tf.zeros([n]));
        return { dispose: () => undefined };
      }, [1, 2]),
    ).toThrow(/prefill\(1\) left 4 bytes of tensors outside its cache/);
    tf.dispose(leaked);
  });

  test('peak tensor bytes see a temporary that is freed before the end', async () => {
    const r = await peakTensorBytes(() => {
      const big = tf.zeros([1000]);
      const small = tf.sum(big);
      big.dispose();
      return small;
    });
    expect(r.peakBytes).toBeGreaterThanOrEqual(4000);
    expect(r.newBytes).toBe(4);
    r.result.dispose();
  });

  test('during generation, on the cache objects: the slopes agree with the analytical figures, what generating adds is apart', async () => {
    const lm = new TokenLM({ vocabSize: 32, decoder: { dModel: 16, layers: 2, heads: 2, maxLen: 64 } }).eval();
    const sllm = new SLLM({
      svae: { vocabSize: 32, dModel: 16, maxTokens: 4, encoder: { layers: 1, heads: 2, dropout: 0 }, decoder: { layers: 1, heads: 2, dropout: 0 } },
      decoder: { dModel: 16, layers: 2, heads: 2, maxLen: 16 },
    }).eval();
    // Prompts of k sentences of 3 tokens (4 with EOS): context 4k tokens.
    const prompt = (tokens: number) => Array.from({ length: Math.max(1, Math.floor(tokens / 4)) }, (_, s) => [3 + s, 4 + s, 5 + s]);
    const contextOf = (p: number[][]) => meanTokensPerSentence([p]) * p.length;
    try {
      const budget = 8;
      const tokenFit = await measureGenerationKvBytes(async (n, onCacheBytes) => {
        const p = prompt(n);
        for await (const _ of lm.generate(p, { maxSentences: 100, maxTokens: budget, onCacheBytes }));
        return contextOf(p);
      }, [8, 16, 24, 32]);
      expect(tokenFit.slope).toBeCloseTo(analyticalKvBytesPerToken(lm), 6);
      expect(tokenFit.r2).toBeCloseTo(1, 9);
      // The prompt's cache holds a BOS position beside the context; generating adds the generated tokens but the last.
      expect(tokenFit.intercept).toBeCloseTo(lm.kvBytesPerToken(), 6);
      expect(tokenFit.generationBytes).toBe((budget - 1) * lm.kvBytesPerToken());
      // The SLLM writes a shorter sentence after the longer prompts (3, 3, 1, 1 tokens): its
      // sentence decoder's cache, largest at the sentence's last step, varies with what it writes,
      // not with the context. Fitted on the peak, it would tilt the slope; it is reported apart.
      const lengths = [8, 16, 24, 32];
      const written = new Map(lengths.map((n, i) => [n, i < 2 ? 3 : 1]));
      const steps: number[] = [];
      const sllmFit = await measureGenerationKvBytes(async (n, onCacheBytes) => {
        const p = prompt(n);
        const k = written.get(n)!;
        for await (const s of sllm.generate(p, { maxSentences: 1, stopThreshold: 1.01, decode: { minTokens: k, maxTokens: k }, onCacheBytes })) steps.push(s.length + 1);
        // The SLLM's cache positions: the prompt's sentences.
        return p.length;
      }, lengths);
      expect(steps).toEqual(lengths.map((n) => written.get(n)! + 1));
      expect(sllmFit.slope).toBeCloseTo(sllm.kvBytesPerSentence(), 6);
      // Every prompt sentence is 4 tokens: per token, the analytical bytes per token of this context.
      expect(sllmFit.slope / tokensPerCachePosition(sllm, 4)).toBeCloseTo(analyticalKvBytesPerToken(sllm, 4), 6);
      expect(sllmFit.intercept).toBeCloseTo(0, 6);
      expect(sllmFit.r2).toBeCloseTo(1, 9);
      // The most it added: the sentence decoder's self + cross cache at the longest sentence's last step.
      expect(sllmFit.generationBytes).toBe(sllm.sentenceDecoderKvBytes(Math.max(...steps)));
      expect(sllmFit.points.map((p) => p.length)).toEqual([2, 4, 6, 8]);
      expect(sllmFit.points.map((p) => p.peak - p.bytes)).toEqual(steps.map((k) => sllm.sentenceDecoderKvBytes(k)));
      // What the former fit (peak against context) would have said: a slope off the analytical figure.
      const peakFit = leastSquares(sllmFit.points.map((p) => p.length), sllmFit.points.map((p) => p.peak));
      expect(Math.abs(peakFit.slope - sllmFit.slope)).toBeGreaterThan(0.1 * sllmFit.slope);
    } finally {
      lm.dispose();
      sllm.dispose();
    }
  });
});
