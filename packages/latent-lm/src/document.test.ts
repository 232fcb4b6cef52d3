import { describe, expect, test } from 'vitest';
import { corpusPerplexity, documentStream } from './document.js';

describe('documentStream', () => {
  test('BOS, then each sentence followed by EOS; the EOS belongs to its sentence', () => {
    const { stream, sentenceOf } = documentStream([[5, 6], [7], []], 1, 2);
    expect(Array.from(stream)).toEqual([1, 5, 6, 2, 7, 2, 2]);
    expect(Array.from(sentenceOf)).toEqual([-1, 0, 0, 0, 1, 1, 2]);
  });
});

describe('corpusPerplexity', () => {
  test('exp of minus the mean log-probability per scored token (hand-computed)', () => {
    // 3 tokens at p = 1/2 and 1 token at p = 1/4: mean -log p = (3 ln2 + 2 ln2) / 4 = 1.25 ln 2.
    const r = corpusPerplexity([
      { sentenceLogProbs: [2 * Math.log(0.5)], sentenceTokens: [2] },
      { sentenceLogProbs: [Math.log(0.5) + Math.log(0.25)], sentenceTokens: [2] },
    ]);
    expect(r.tokens).toBe(4);
    expect(r.ppl).toBeCloseTo(2 ** 1.25, 10);
  });

  test('no scored token gives NaN, not a made-up number', () => {
    expect(corpusPerplexity([{ sentenceLogProbs: [], sentenceTokens: [] }]).ppl).toBeNaN();
  });
});
