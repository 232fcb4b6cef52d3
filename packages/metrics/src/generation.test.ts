import { initBackend } from '@sentencelab/tensor';
import { TokenLM, type TokenGenerateOptions } from '@sentencelab/latent-lm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generationSummary, measureGeneration, type SentenceGenerator } from './generation.js';
import type { Document } from './perplexity.js';

const prompts: Document[] = [[[5, 6, 7]], [[9, 8], [7, 6]], [[4]]];
const options: TokenGenerateOptions = { maxSentences: 4, maxTokens: 12 };

/** Batched generation by stepping one real generator per prompt in lockstep. */
class LockstepTokenLM implements SentenceGenerator<TokenGenerateOptions> {
  constructor(private readonly lm: TokenLM) {}

  generate(prompt: Document, o: TokenGenerateOptions): AsyncIterable<number[]> {
    return this.lm.generate(prompt, o);
  }

  async *generateBatch(batch: readonly Document[], o: TokenGenerateOptions): AsyncIterable<(number[] | null)[]> {
    const its = batch.map((p) => this.lm.generate(p, o));
    const done = batch.map(() => false);
    while (!done.every(Boolean)) {
      const step: (number[] | null)[] = [];
      for (let i = 0; i < its.length; i++) {
        const r = done[i] ? undefined : await its[i]!.next();
        if (r === undefined || r.done) {
          done[i] = true;
          step.push(null);
        } else step.push(r.value);
      }
      if (!done.every(Boolean)) yield step;
    }
  }
}

describe('measureGeneration on a real tiny token LM', () => {
  let lm: TokenLM;
  let expected: number[][][];

  beforeAll(async () => {
    await initBackend('cpu');
    lm = new TokenLM({ vocabSize: 16, decoder: { dModel: 16, layers: 1, heads: 2, maxLen: 32 } });
    // What the model generates for each prompt, collected without timing.
    expected = [];
    for (const p of prompts) {
      const out: number[][] = [];
      for await (const s of lm.generate(p, options)) out.push(s);
      expected.push(out);
    }
  });

  afterAll(() => lm.dispose());

  test('counts every generated sentence and token (with and without the first) exactly; rates are positive', async () => {
    const r = await measureGeneration(lm, prompts, { generateOptions: options, warmup: 1 });
    const tokens = expected.flat().reduce((n, s) => n + s.length + 1, 0);
    const firstTokens = expected.reduce((n, e) => n + (e[0] ? e[0].length + 1 : 0), 0);
    expect(r.batch1.prompts).toBe(3);
    expect(r.batch1.sentences).toBe(expected.flat().length);
    expect(r.batch1.tokens).toBe(tokens);
    expect(r.batch1.tokensExclFirst).toBe(tokens - firstTokens);
    expect(r.batch1.sentencesExclFirst).toBe(expected.flat().length - expected.filter((e) => e.length > 0).length);
    expect(r.batch1.tokensPerS).toBeGreaterThan(0);
    expect(r.batch1.seconds).toBeGreaterThan(r.batch1.secondsExclFirst);
    expect(r.batchN).toBeUndefined();
    expect(r.batchNUnsupported).toBeUndefined();
    const keys = generationSummary(r);
    expect(keys['generated_tokens']).toBe(tokens);
    expect(keys['tokens_per_s']).toBe(r.batch1.tokensPerS);
  });

  test('tokensOf changes what a sentence counts for', async () => {
    const r = await measureGeneration(lm, prompts.slice(0, 1), { generateOptions: options, warmup: 0, tokensOf: (s) => s.length });
    expect(r.batch1.tokens).toBe(expected[0]!.reduce((n, s) => n + s.length, 0));
  });

  test('batch N without generateBatch is reported as not measured, not faked', async () => {
    const plain: SentenceGenerator<TokenGenerateOptions> = { generate: (p, o) => lm.generate(p, o) };
    const r = await measureGeneration(plain, prompts, { generateOptions: options, batch: 2, warmup: 0 });
    expect(r.batchN).toBeUndefined();
    expect(r.batchNUnsupported).toMatch(/no generateBatch.*batch 2 was not measured/);
    expect(generationSummary(r)['tokens_per_s_b2']).toBeUndefined();
  });

  test('batch N with generateBatch counts the same sentences as batch 1', async () => {
    const r = await measureGeneration(new LockstepTokenLM(lm), prompts, { generateOptions: options, batch: 2, warmup: 0 });
    expect(r.batchN!.batch).toBe(2);
    expect(r.batchN!.sentences).toBe(r.batch1.sentences);
    expect(r.batchN!.tokens).toBe(r.batch1.tokens);
    expect(generationSummary(r)['generated_tokens_b2']).toBe(r.batch1.tokens);
  });

  test('bad settings name the setting', async () => {
    await expect(measureGeneration(lm, [], { generateOptions: options })).rejects.toThrow(/no prompts given/);
    await expect(measureGeneration(lm, prompts, { generateOptions: options, batch: 0 })).rejects.toThrow(/batch must be an integer >= 1, got 0/);
  });
});
