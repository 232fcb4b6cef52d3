import { initBackend } from '@sentencelab/tensor';
import { SLLM, TokenLM } from '@sentencelab/latent-lm';
import { beforeAll, describe, expect, test } from 'vitest';
import { countParams } from './params.js';

describe('countParams', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  test('a token LM by top-level prefix, checked against hand counts', () => {
    const lm = new TokenLM({ vocabSize: 12, decoder: { dModel: 8, layers: 1, heads: 2, maxLen: 10 } });
    try {
      const c = countParams(lm);
      expect(c.byPrefix['embed']).toBe(12 * 8);
      // Decoder: learned positions 10 x 8; one pre-norm block: 2 LayerNorms (2 x 16), q/k/v/o (4 x (64 + 8)),
      // MLP 8 -> 32 -> 8 ((256 + 32) + (256 + 8)); final LayerNorm 16.
      expect(c.byPrefix['decoder']).toBe(80 + 32 + 4 * 72 + 288 + 264 + 16);
      expect(c.total).toBe(lm.numParams());
      expect(Object.keys(c.byPrefix).sort()).toEqual(['decoder', 'embed']);
    } finally {
      lm.dispose();
    }
  });

  test('an SLLM splits into svae, decoder, stop', () => {
    const sllm = new SLLM({
      svae: { vocabSize: 12, dModel: 8, maxTokens: 6, encoder: { layers: 1, heads: 2 }, decoder: { layers: 1, heads: 2 } },
      decoder: { dModel: 8, layers: 1, heads: 2, maxLen: 4 },
    });
    try {
      const c = countParams(sllm);
      expect(c.byPrefix['stop']).toBe(8 * 2 + 2);
      expect(c.byPrefix['svae']).toBe(sllm.svae.numParams());
      expect(c.total).toBe(sllm.numParams());
    } finally {
      sllm.dispose();
    }
  });
});
