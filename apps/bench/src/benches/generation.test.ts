import { SLLM } from '@sentencelab/latent-lm';
import { measureGeneration } from '@sentencelab/metrics';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, expect, test } from 'vitest';
import { maskSllmEos, sllmFixedLength } from './generation.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

test('the SLLM writes sentences of L tokens in L + 1 decoder steps, and the bench counts L + 1 tokens for each', async () => {
  const L = 4;
  const sllm = new SLLM({
    svae: { vocabSize: 16, dModel: 16, maxTokens: L, encoder: { layers: 1, heads: 2, dropout: 0 }, decoder: { layers: 1, heads: 2, dropout: 0 } },
    decoder: { dModel: 16, layers: 1, heads: 2, maxLen: 8 },
  });
  await maskSllmEos(sllm);
  sllm.eval();
  // Count the SentenceVAE decoder's steps through the real method.
  const decoder = sllm.svae.decoder;
  const step = decoder.step.bind(decoder);
  let steps = 0;
  decoder.step = (state, tokens) => {
    steps++;
    return step(state, tokens);
  };
  const speed = await measureGeneration(sllm, [[[5, 6, 7, 8], [9, 10, 11, 12]]], { generateOptions: sllmFixedLength(3, L), warmup: 0 });
  expect(speed.batch1.sentences).toBe(3);
  expect(speed.batch1.tokens).toBe(3 * (L + 1));
  expect(steps).toBe(speed.batch1.tokens);
  sllm.dispose();
});
