import { initBackend } from '@sentencelab/tensor';
import { SLLM, TokenLM } from '@sentencelab/latent-lm';
import { beforeAll, describe, expect, test } from 'vitest';
import { formatPerplexity, perplexityOverDocuments, scoredTokensFingerprint, type Document, type DocumentScore, type Scorer } from './perplexity.js';

const docs: Document[] = [
  [[5, 6, 7], [8, 9], [10, 5, 11]],
  [[9, 8], [7, 6, 5, 4]],
  [[3]],
];

/** A model that gives every token (and EOS) probability p: its PPL is exactly 1 / p. */
function constantScorer(p: number): Scorer {
  return {
    scoreDocument: (d): DocumentScore => ({
      sentenceLogProbs: d.slice(1).map((s) => (s.length + 1) * Math.log(p)),
      sentenceTokens: d.slice(1).map((s) => s.length + 1),
    }),
  };
}

describe('perplexityOverDocuments', () => {
  test('hand-computed: constant-probability scorers over sentences 2..N + EOS', async () => {
    const lines: string[] = [];
    const r = await perplexityOverDocuments(
      [
        { name: 'uniform-8', scorer: constantScorer(1 / 8) },
        { name: 'half', scorer: constantScorer(0.5) },
      ],
      docs,
      { log: (l) => lines.push(l) },
    );
    // Scored: [8, 9] + EOS = 3, [10, 5, 11] + EOS = 4, [7, 6, 5, 4] + EOS = 5; the one-sentence document scores nothing.
    expect(r.tokens).toBe(12);
    expect(r.models.map((m) => m.tokens)).toEqual([12, 12]);
    expect(r.models[0]!.ppl).toBeCloseTo(8, 10);
    expect(r.models[1]!.ppl).toBeCloseTo(2, 10);
    expect(r.models[1]!.logProb).toBeCloseTo(12 * Math.log(0.5), 10);
    expect(lines).toEqual([formatPerplexity(r.models[0]!, r.fingerprint), formatPerplexity(r.models[1]!, r.fingerprint)]);
    expect(lines[0]).toMatch(/^uniform-8: PPL 8\.000 over 12 tokens \(scored-token fingerprint [0-9a-f]{16}\)$/);
  });

  test('hand-computed: mixed per-sentence log-probs', async () => {
    const scorer: Scorer = { scoreDocument: (d) => ({ sentenceLogProbs: d.slice(1).map((_, i) => -1 - i), sentenceTokens: d.slice(1).map((s) => s.length + 1) }) };
    const r = await perplexityOverDocuments([{ name: 'm', scorer }], docs.slice(0, 2));
    // log-probs: doc 0: -1, -2; doc 1: -1  => -4 over 12 tokens.
    expect(r.models[0]!.ppl).toBeCloseTo(Math.exp(4 / 12), 12);
  });

  test('a model that scores other tokens (here: the first sentence too) is an error naming it', async () => {
    const all: Scorer = { scoreDocument: (d) => ({ sentenceLogProbs: d.map(() => -1), sentenceTokens: d.map((s) => s.length + 1) }) };
    await expect(perplexityOverDocuments([{ name: 'ok', scorer: constantScorer(0.5) }, { name: 'all-sentences', scorer: all }], docs)).rejects.toThrow(
      /model "all-sentences" scored different tokens on document 0: per-sentence counts \[4, 3, 4\], expected \[3, 4\]/,
    );
  });

  test('non-finite log-probs, duplicate names and nothing to score are errors', async () => {
    await expect(perplexityOverDocuments([{ name: 'nan', scorer: constantScorer(Number.NaN) }], docs)).rejects.toThrow(/model "nan" returned the log-probability NaN on document 0/);
    await expect(perplexityOverDocuments([{ name: 'a', scorer: constantScorer(0.5) }, { name: 'a', scorer: constantScorer(0.5) }], docs)).rejects.toThrow(/two models are named "a"/);
    await expect(perplexityOverDocuments([{ name: 'a', scorer: constantScorer(0.5) }], [[[1, 2]]])).rejects.toThrow(/nothing to score/);
  });

  test('the fingerprint depends on the scored tokens only', () => {
    const f = scoredTokensFingerprint(docs);
    expect(scoredTokensFingerprint(docs.map((d) => d.map((s) => Array.from(s))))).toBe(f);
    // The first sentence is never scored: changing it keeps the fingerprint.
    expect(scoredTokensFingerprint([[[99], [8, 9], [10, 5, 11]], docs[1]!, docs[2]!])).toBe(f);
    expect(scoredTokensFingerprint([[[5, 6, 7], [8, 9], [10, 5, 12]], docs[1]!, docs[2]!])).not.toBe(f);
    // Same tokens, different sentence boundaries: different sets.
    expect(scoredTokensFingerprint([[[5, 6, 7], [8, 9, 10], [5, 11]], docs[1]!, docs[2]!])).not.toBe(f);
  });

  describe('real models', () => {
    beforeAll(async () => {
      await initBackend('cpu');
    });

    test('an untrained token LM and SLLM score the same 12 tokens; each PPL matches its own corpus sum', async () => {
      const tokenLm = new TokenLM({ vocabSize: 12, decoder: { dModel: 16, layers: 1, heads: 2, maxLen: 32 } });
      const sllm = new SLLM({
        svae: { vocabSize: 12, dModel: 16, maxTokens: 6, encoder: { layers: 1, heads: 2, dropout: 0 }, decoder: { layers: 1, heads: 2, dropout: 0 } },
        decoder: { dModel: 16, layers: 1, heads: 2, maxLen: 8 },
      });
      try {
        const r = await perplexityOverDocuments([{ name: 'token-lm', scorer: tokenLm }, { name: 'sllm', scorer: sllm }], docs);
        expect(r.models.map((m) => m.tokens)).toEqual([12, 12]);
        let lp = 0;
        for (const d of docs) for (const x of (await sllm.scoreDocument(d)).sentenceLogProbs) lp += x;
        expect(r.models[1]!.ppl).toBeCloseTo(Math.exp(-lp / 12), 6);
        // Near-uniform at init: PPL close to the vocabulary size.
        for (const m of r.models) {
          expect(m.ppl).toBeGreaterThan(6);
          expect(m.ppl).toBeLessThan(24);
        }
      } finally {
        tokenLm.dispose();
        sllm.dispose();
      }
    });
  });
});
