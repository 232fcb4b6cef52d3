import { initBackend } from '@sentencelab/tensor';
import { SLLM, TokenLM } from '@sentencelab/latent-lm';
import { beforeAll, describe, expect, test } from 'vitest';
import { bitsPerByte, formatPerplexity, matchedContextStarts, scoredBytes, perplexityOverDocuments, scoredTokensFingerprint, type Document, type DocumentScore, type Scorer } from './perplexity.js';

const docs: Document[] = [
  [[5, 6, 7], [8, 9], [10, 5, 11]],
  [[9, 8], [7, 6, 5, 4]],
  [[3]],
];

/** What a correct scorer reports besides its log-probs: counts, whole-prefix context, ids + EOS 2. */
function honest(d: Document, sentenceLogProbs: number[]): DocumentScore {
  const contextTokens: number[] = [];
  let c = 0;
  for (let i = 1; i < d.length; i++) contextTokens.push((c += d[i - 1]!.length + 1));
  return { sentenceLogProbs, sentenceTokens: d.slice(1).map((s) => s.length + 1), contextTokens, scoredIds: d.slice(1).map((s) => [...Array.from(s), 2]) };
}

/** A model that gives every token (and EOS) probability p: its PPL is exactly 1 / p. */
function constantScorer(p: number): Scorer {
  return { scoreDocument: (d) => honest(d, d.slice(1).map((s) => (s.length + 1) * Math.log(p))) };
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
    expect(lines).toEqual([formatPerplexity(r.models[0]!), formatPerplexity(r.models[1]!)]);
    // Contexts: doc 0: 4 and 7 tokens, doc 1: 3 tokens.
    expect(lines[0]).toMatch(/^uniform-8: PPL 8\.000 over 12 tokens, context 4\.7 tokens \(3-7\) \(scored-id fingerprint [0-9a-f]{16}\)$/);
    expect(r.models[0]!.context).toEqual({ mean: 14 / 3, min: 3, max: 7 });
    expect(r.models[0]!.byContext[0]).toEqual({ bucket: '0-32', sentences: 3, tokens: 12, logProb: 12 * Math.log(1 / 8), ppl: expect.closeTo(8, 10) });
    expect(r.models[0]!.byContext.slice(1).map((b) => [b.bucket, b.tokens])).toEqual([['32-64', 0], ['64-128', 0], ['128-256', 0], ['256+', 0]]);
    expect(r.models[1]!.documents).toEqual([{ num: 7 * Math.log(0.5), den: 7 }, { num: 5 * Math.log(0.5), den: 5 }, { num: 0, den: 0 }]);
    expect(r.context).toBe('unmatched');
  });

  test('hand-computed: mixed per-sentence log-probs', async () => {
    const scorer: Scorer = { scoreDocument: (d) => honest(d, d.slice(1).map((_, i) => -1 - i)) };
    const r = await perplexityOverDocuments([{ name: 'm', scorer }], docs.slice(0, 2));
    // log-probs: doc 0: -1, -2; doc 1: -1  => -4 over 12 tokens.
    expect(r.models[0]!.ppl).toBeCloseTo(Math.exp(4 / 12), 12);
  });

  test('a model that scores other tokens (here: the first sentence too) is an error naming it', async () => {
    const all: Scorer = { scoreDocument: (d) => ({ ...honest(d, []), sentenceLogProbs: d.map(() => -1), sentenceTokens: d.map((s) => s.length + 1) }) };
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
    const f = scoredTokensFingerprint(docs, 2);
    expect(scoredTokensFingerprint(docs.map((d) => d.map((s) => Array.from(s))), 2)).toBe(f);
    // The first sentence is never scored: changing it keeps the fingerprint.
    expect(scoredTokensFingerprint([[[99], [8, 9], [10, 5, 11]], docs[1]!, docs[2]!], 2)).toBe(f);
    expect(scoredTokensFingerprint([[[5, 6, 7], [8, 9], [10, 5, 12]], docs[1]!, docs[2]!], 2)).not.toBe(f);
    // Same tokens, different sentence boundaries: different sets.
    expect(scoredTokensFingerprint([[[5, 6, 7], [8, 9, 10], [5, 11]], docs[1]!, docs[2]!], 2)).not.toBe(f);
  });

  test('a scorer that scores the wrong ids with the right lengths is an error (the ids it scored are hashed)', async () => {
    // Scores sentence i's count of tokens, but from sentence i - 1's ids: every length check passes.
    const shifted: Scorer = { scoreDocument: (d) => ({ ...honest(d, d.slice(1).map(() => -1)), scoredIds: d.slice(1).map((s, i) => [...Array.from(d[i]!).slice(0, s.length), 2]) }) };
    const same = [[[5, 6], [8, 9], [10, 11]]];
    await expect(perplexityOverDocuments([{ name: 'shifted', scorer: shifted }], same)).rejects.toThrow(/model "shifted" scored other ids than sentences 2..N \(\+ EOS 2\) of document 0/);
  });

  test('matched context: the starts hold at most maxTokens tokens and maxSentences sentences, at least one sentence', () => {
    // Sentence tokens (+ EOS): 4, 3, 4, 2, 5.
    const doc = [[5, 6, 7], [8, 9], [10, 5, 11], [4], [6, 6, 3, 3]];
    expect(matchedContextStarts(doc, { maxTokens: 7 })).toEqual([0, 0, 1, 2]);
    expect(matchedContextStarts(doc, { maxTokens: 100, maxSentences: 2 })).toEqual([0, 0, 1, 2]);
    expect(matchedContextStarts(doc, { maxTokens: 100 })).toEqual([0, 0, 0, 0]);
    // A budget below one sentence still gives the previous sentence.
    expect(matchedContextStarts(doc, { maxTokens: 1 })).toEqual([0, 1, 2, 3]);
  });

  test('with context starts, every model is scored with them and must report the matched context', async () => {
    const seen: (readonly number[] | undefined)[] = [];
    const scorer: Scorer = {
      scoreDocument: (d, o) => {
        seen.push(o?.contextStart);
        const starts = o!.contextStart!;
        return { ...honest(d, d.slice(1).map(() => -1)), contextTokens: starts.map((st, k) => d.slice(st, k + 1).reduce((a, s) => a + s.length + 1, 0)) };
      },
    };
    const r = await perplexityOverDocuments([{ name: 'm', scorer }], docs.slice(0, 2), { contextStarts: [[0, 1], [0]] });
    expect(seen).toEqual([[0, 1], [0]]);
    expect(r.context).toBe('matched');
    expect(r.models[0]!.context).toEqual({ mean: 10 / 3, min: 3, max: 4 });
    await expect(perplexityOverDocuments([{ name: 'own', scorer: constantScorer(0.5) }], docs.slice(0, 2), { contextStarts: [[0, 1], [0]] })).rejects.toThrow(
      /model "own" reports context tokens \[4, 7\] on document 0, the matched context gives \[4, 3\]/,
    );
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

describe('bits per byte', () => {
  test('scoredBytes counts the UTF-8 bytes of sentences 2..N of each document', () => {
    // "Hi." is 3 bytes, " é" 3 (é is 2), "茶" 3; the first sentence of each document is context.
    expect(scoredBytes([['First.', 'Hi.', ' é'], ['only one'], ['x', '茶']])).toEqual([6, 0, 3]);
  });

  test('bitsPerByte: nats over bytes in bits, and the EOS-density confound it removes', () => {
    // 8 bytes scored at a total of -8 ln 2 nats: 1 bit per byte.
    expect(bitsPerByte(-8 * Math.LN2, 8)).toBeCloseTo(1, 12);
    // 12 bytes scored as 3 tokens + 1 EOS or as 3 tokens + 3 free EOS (log p = 0): the same
    // total loss of 6 nats, so the same bits per byte (PPL per token would be e^1.5 vs e^1).
    expect(bitsPerByte(-6, 12)).toBeCloseTo(6 / (12 * Math.LN2), 12);
    expect(() => bitsPerByte(-1, 0)).toThrow(/bytes must be > 0, got 0/);
  });
});
