import { describe, expect, it } from 'vitest';
import { corpusBleu, exactMatchRate, perplexity, tokenAccuracy } from './metrics.js';

describe('tokenAccuracy', () => {
  it('counts position-wise matches over reference positions (micro average)', () => {
    // pair 1: 2 of 3 right; pair 2: hypothesis too short, 1 of 2 right -> 3 / 5
    const pairs = [
      { hyp: [5, 6, 9], ref: [5, 6, 7] },
      { hyp: [8], ref: [8, 2] },
    ];
    expect(tokenAccuracy(pairs)).toBeCloseTo(3 / 5, 12);
  });
  it('is 0 on an empty corpus', () => {
    expect(tokenAccuracy([])).toBe(0);
  });
});

describe('exactMatchRate', () => {
  it('needs the same tokens and the same length', () => {
    const pairs = [
      { hyp: [1, 2, 3], ref: [1, 2, 3] },
      { hyp: [1, 2, 3, 4], ref: [1, 2, 3] },
      { hyp: [1, 2], ref: [1, 2, 3] },
      { hyp: ['a', 'b'], ref: ['a', 'b'] },
    ];
    expect(exactMatchRate(pairs)).toBe(0.5);
  });
});

describe('perplexity', () => {
  it('is exp of the mean negative log-probability', () => {
    // tokens with probabilities 1/2, 1/4, 1/8: mean NLL = ln(2) * (1+2+3)/3 = 2 ln 2 -> PPL 4
    const sum = Math.log(1 / 2) + Math.log(1 / 4) + Math.log(1 / 8);
    expect(perplexity(sum, 3)).toBeCloseTo(4, 12);
  });
  it('rejects an empty count', () => {
    expect(() => perplexity(0, 0)).toThrow(/count must be > 0/);
  });
});

describe('corpusBleu', () => {
  it('matches a hand-computed example with brevity penalty', () => {
    // hyp 1 2 3 4 5 vs ref 1 2 3 4 6 7:
    // p1 = 4/5, p2 = 3/4 (12 23 34), p3 = 2/3 (123 234), p4 = 1/2 (1234)
    // geometric mean = (4/5 * 3/4 * 2/3 * 1/2)^(1/4) = 0.2^(1/4); BP = exp(1 - 6/5)
    const r = corpusBleu([{ hyp: [1, 2, 3, 4, 5], ref: [1, 2, 3, 4, 6, 7] }]);
    expect(r.precisions).toEqual([4 / 5, 3 / 4, 2 / 3, 1 / 2]);
    expect(r.brevityPenalty).toBeCloseTo(Math.exp(-0.2), 12);
    expect(r.bleu).toBeCloseTo(Math.exp(-0.2) * 0.2 ** 0.25, 12);
    expect(r.bleu).toBeCloseTo(0.547518, 5);
  });
  it('clips repeated n-grams by their reference count and sums over the corpus', () => {
    // the classic "the the the ..." case: unigram precision 2/7, no bigram match -> BLEU 0
    const r = corpusBleu([{ hyp: ['the', 'the', 'the', 'the', 'the', 'the', 'the'], ref: ['the', 'cat', 'is', 'on', 'the', 'mat'] }]);
    expect(r.precisions[0]).toBeCloseTo(2 / 7, 12);
    expect(r.bleu).toBe(0);
    // corpus level: counts add up across pairs before dividing
    const c = corpusBleu([
      { hyp: [1, 2, 3, 4], ref: [1, 2, 3, 4] },
      { hyp: [5, 6, 7, 9], ref: [5, 6, 7, 8] },
    ]);
    expect(c.precisions).toEqual([7 / 8, 5 / 6, 3 / 4, 1 / 2]);
    expect(c.brevityPenalty).toBe(1);
  });
  it('is 1 for a perfect reconstruction and 0 for an empty hypothesis', () => {
    expect(corpusBleu([{ hyp: [1, 2, 3, 4, 5], ref: [1, 2, 3, 4, 5] }]).bleu).toBeCloseTo(1, 12);
    expect(corpusBleu([{ hyp: [], ref: [1, 2, 3, 4] }]).bleu).toBe(0);
  });
});
