/**
 * Generation speed: tokens/s and sentences/s over real generation calls, timed with
 * performance.now, with and without the first generated sentence (whose time includes the
 * prompt's prefill; the SentenceVAE paper excludes it, we report both).
 */
import type { Document } from './perplexity.js';

/** Streams generated sentences (token ids) after a prompt, one at a time (batch 1). */
export interface SentenceGenerator<O> {
  generate(prompt: Document, options: O): AsyncIterable<number[]>;
  /**
   * Optional batched generation: each step yields, for every prompt row, its next sentence, or
   * null once that row has finished.
   */
  generateBatch?(prompts: readonly Document[], options: O): AsyncIterable<readonly (number[] | null)[]>;
}

export interface GenerationOptions<O> {
  /** Options passed to every `generate` call (e.g. `{ maxSentences: 8 }`, `{ decode: {...} }`). */
  generateOptions: O;
  /** Prompts per batched call (1 = batch 1 only). Default 1. */
  batch?: number;
  /** Untimed generations on the first prompt before timing. Default 1. */
  warmup?: number;
  /** Tokens a generated sentence counts for. Default `s.length + 1` (its tokens and its EOS). */
  tokensOf?: (sentence: readonly number[]) => number;
}

/** Totals and rates of one timed pass. */
export interface GenerationSpeed {
  /** Rows generated together (1 for `generate`). */
  batch: number;
  prompts: number;
  sentences: number;
  tokens: number;
  seconds: number;
  /** tokens / seconds. */
  tokensPerS: number;
  /** sentences / seconds. */
  sentencesPerS: number;
  /** Tokens, sentences and seconds after each call's first step (its first sentence). */
  tokensExclFirst: number;
  sentencesExclFirst: number;
  secondsExclFirst: number;
  /** tokensExclFirst / secondsExclFirst (NaN when no call produced a second sentence). */
  tokensPerSExclFirst: number;
  sentencesPerSExclFirst: number;
}

export interface GenerationResult {
  batch1: GenerationSpeed;
  /** Batched speed when `batch > 1` and the generator has `generateBatch`. */
  batchN?: GenerationSpeed;
  /** Why batchN is absent when `batch > 1` was asked for. */
  batchNUnsupported?: string;
}

class Tally {
  sentences = 0;
  tokens = 0;
  seconds = 0;
  sentencesRest = 0;
  tokensRest = 0;
  secondsRest = 0;

  add(step: number, sentences: number, tokens: number, seconds: number): void {
    this.sentences += sentences;
    this.tokens += tokens;
    this.seconds += seconds;
    if (step > 0) {
      this.sentencesRest += sentences;
      this.tokensRest += tokens;
      this.secondsRest += seconds;
    }
  }

  speed(batch: number, prompts: number): GenerationSpeed {
    const rate = (n: number, s: number) => (s > 0 && n > 0 ? n / s : Number.NaN);
    return {
      batch,
      prompts,
      sentences: this.sentences,
      tokens: this.tokens,
      seconds: this.seconds,
      tokensPerS: rate(this.tokens, this.seconds),
      sentencesPerS: rate(this.sentences, this.seconds),
      tokensExclFirst: this.tokensRest,
      sentencesExclFirst: this.sentencesRest,
      secondsExclFirst: this.secondsRest,
      tokensPerSExclFirst: rate(this.tokensRest, this.secondsRest),
      sentencesPerSExclFirst: rate(this.sentencesRest, this.secondsRest),
    };
  }
}

/**
 * Times `generate` on every prompt (batch 1), and `generateBatch` on groups of `batch` prompts
 * when asked for and supported. The time of a step is measured from the end of the previous
 * step (or the call) to the moment its sentence arrives, so step 0 includes the prefill.
 */
export async function measureGeneration<O>(generator: SentenceGenerator<O>, prompts: readonly Document[], options: GenerationOptions<O>): Promise<GenerationResult> {
  const batch = options.batch ?? 1;
  const warmup = options.warmup ?? 1;
  const tokensOf = options.tokensOf ?? ((s: readonly number[]) => s.length + 1);
  if (prompts.length === 0) throw new Error('measureGeneration: no prompts given');
  if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`measureGeneration: batch must be an integer >= 1, got ${batch}`);
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new Error(`measureGeneration: warmup must be an integer >= 0, got ${warmup}`);
  for (let w = 0; w < warmup; w++) for await (const _ of generator.generate(prompts[0]!, options.generateOptions));

  const single = new Tally();
  for (const prompt of prompts) {
    let step = 0;
    let t = performance.now();
    for await (const s of generator.generate(prompt, options.generateOptions)) {
      const now = performance.now();
      single.add(step++, 1, tokensOf(s), (now - t) / 1000);
      t = now;
    }
  }
  const result: GenerationResult = { batch1: single.speed(1, prompts.length) };
  if (batch === 1) return result;
  if (generator.generateBatch === undefined) {
    result.batchNUnsupported = `the generator has no generateBatch: it generates one prompt at a time, so batch ${batch} was not measured`;
    return result;
  }
  const batched = new Tally();
  for (let i = 0; i < prompts.length; i += batch) {
    let step = 0;
    let t = performance.now();
    for await (const rows of generator.generateBatch(prompts.slice(i, i + batch), options.generateOptions)) {
      const now = performance.now();
      let sentences = 0;
      let tokens = 0;
      for (const s of rows) {
        if (s === null) continue;
        sentences++;
        tokens += tokensOf(s);
      }
      batched.add(step++, sentences, tokens, (now - t) / 1000);
      t = now;
    }
  }
  result.batchN = batched.speed(batch, prompts.length);
  return result;
}

/** The summary.json keys of a measurement (batch 1 unless suffixed `_b<N>`). */
export function generationSummary(r: GenerationResult): Record<string, number> {
  const keys = (s: GenerationSpeed, suffix: string): Record<string, number> => ({
    [`tokens_per_s${suffix}`]: s.tokensPerS,
    [`tokens_per_s_excl_first${suffix}`]: s.tokensPerSExclFirst,
    [`sentences_per_s${suffix}`]: s.sentencesPerS,
    [`sentences_per_s_excl_first${suffix}`]: s.sentencesPerSExclFirst,
    [`generated_tokens${suffix}`]: s.tokens,
  });
  return { ...keys(r.batch1, ''), ...(r.batchN ? keys(r.batchN, `_b${r.batchN.batch}`) : {}) };
}
