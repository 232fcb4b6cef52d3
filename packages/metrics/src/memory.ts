/**
 * Memory: KV-cache bytes per context token, analytical (from the cached tensors' shapes) and
 * measured (the least-squares slope of live tensor bytes vs context length), peak tensor bytes
 * of a computation, and the process's resident set size.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Document } from './perplexity.js';

export interface LineFit {
  slope: number;
  intercept: number;
  /** Coefficient of determination (1 = every point on the line; NaN when all y are equal). */
  r2: number;
}

/** Ordinary least squares y = slope x + intercept. Needs >= 2 distinct x. */
export function leastSquares(xs: readonly number[], ys: readonly number[]): LineFit {
  if (xs.length !== ys.length) throw new Error(`leastSquares: ${xs.length} x values but ${ys.length} y values`);
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (!(sxx > 0)) throw new Error(`leastSquares: needs at least 2 distinct x values, got [${xs.join(', ')}]`);
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy > 0 ? (sxy * sxy) / (sxx * syy) : Number.NaN };
}

/** Something that holds tensors until disposed (a KV cache). */
export interface Disposable {
  dispose(): void;
}

export interface KvSlope extends LineFit {
  /** Context length and live tensor bytes held after prefilling it (relative to before). */
  points: { length: number; bytes: number }[];
}

/**
 * Measured KV-cache bytes per context position: for each length, `prefill(length)` builds a
 * cache holding that many positions; the live tensor bytes it leaves (tf.memory().numBytes
 * after minus before) are fitted against the length, and the slope is returned. `prefill` must
 * release everything but the cache (use tf.tidy); the intercept shows what it keeps regardless
 * of length.
 */
export function measureKvBytesPerPosition(prefill: (length: number) => Disposable, lengths: readonly number[]): KvSlope {
  if (lengths.length < 2) throw new Error(`measureKvBytesPerPosition: needs at least 2 context lengths, got [${lengths.join(', ')}]`);
  const points: KvSlope['points'] = [];
  for (const length of lengths) {
    const before = tf.memory().numBytes;
    const cache = prefill(length);
    const bytes = tf.memory().numBytes - before;
    cache.dispose();
    const leaked = tf.memory().numBytes - before;
    if (leaked !== 0) throw new Error(`measureKvBytesPerPosition: prefill(${length}) left ${leaked} bytes of tensors outside its cache (wrap it in tf.tidy)`);
    points.push({ length, bytes });
  }
  const fit = leastSquares(points.map((p) => p.length), points.map((p) => p.bytes));
  return { ...fit, points };
}

export interface GenerationKvFit extends LineFit {
  /**
   * Per prompt: its length (what `generate` resolved to: cache positions), the bytes its caches
   * held once the prompt was in (the first report) and the most they held while generating.
   */
  points: { length: number; bytes: number; peak: number }[];
  /**
   * The most cache bytes generation held beyond the prompt's cache, over the prompts: the
   * generated positions and, for an SLLM, the sentence decoder's cache of the sentence being
   * written. It does not grow with the context.
   */
  generationBytes: number;
}

/**
 * KV bytes per cache position, measured on the cache objects during generation: for each
 * requested context length, `generate(length, onCacheBytes)` generates after a prompt of about
 * that length, calling `onCacheBytes` with the bytes all its live caches hold, first once the
 * prompt is in its cache and then after every update, and resolves to the positions the prompt
 * takes in the cache (tokens for a token model, sentences for a sentence model: per token, divide
 * the slope by {@link tokensPerCachePosition}). The first report per prompt is fitted against
 * those positions: slope = bytes per position, intercept = what the cache holds whatever the
 * context (a BOS position). What generating adds on top (peak minus first report) is returned
 * apart (`generationBytes`): fitting the peak instead would mix it into the slope, and an SLLM's
 * share of it (its sentence decoder's cache, the sentences it wrote) varies with what it writes,
 * not with the context.
 */
export async function measureGenerationKvBytes(
  generate: (length: number, onCacheBytes: (bytes: number) => void) => Promise<number>,
  lengths: readonly number[],
): Promise<GenerationKvFit> {
  if (lengths.length < 2) throw new Error(`measureGenerationKvBytes: needs at least 2 context lengths, got [${lengths.join(', ')}]`);
  const points: GenerationKvFit['points'] = [];
  for (const want of lengths) {
    let first: number | undefined;
    let peak = 0;
    const length = await generate(want, (b) => {
      first ??= b;
      peak = Math.max(peak, b);
    });
    if (first === undefined || peak === 0) throw new Error(`measureGenerationKvBytes: generating after a prompt of ${length} positions reported no cache bytes`);
    points.push({ length, bytes: first, peak });
  }
  const fit = leastSquares(points.map((p) => p.length), points.map((p) => p.bytes));
  return { ...fit, points, generationBytes: Math.max(...points.map((p) => p.peak - p.bytes)) };
}

/** A model whose cache grows by one position per token (a token LM). */
export interface TokenKvModel {
  kvBytesPerToken(): number;
}

/** A model whose cache grows by one position per sentence (an SLLM). */
export interface SentenceKvModel {
  kvBytesPerSentence(): number;
}

/** Mean tokens per sentence including its EOS: the context a sentence position stands for. */
export function meanTokensPerSentence(documents: readonly Document[]): number {
  let tokens = 0;
  let sentences = 0;
  for (const d of documents) {
    for (const s of d) tokens += s.length + 1;
    sentences += d.length;
  }
  if (sentences === 0) throw new Error('meanTokensPerSentence: the documents have no sentences');
  return tokens / sentences;
}

/**
 * Context tokens one cache position stands for: 1 for a token model; `tokensPerSentence` for a
 * sentence model (from {@link meanTokensPerSentence} over the evaluation documents). Bytes per
 * position / this = bytes per context token.
 */
export function tokensPerCachePosition(model: TokenKvModel | SentenceKvModel, tokensPerSentence?: number): number {
  if ('kvBytesPerToken' in model) return 1;
  if (tokensPerSentence === undefined || !(tokensPerSentence > 0)) {
    throw new Error(`a sentence-level model's KV bytes per token need tokensPerSentence > 0, got ${tokensPerSentence}`);
  }
  return tokensPerSentence;
}

/**
 * Analytical KV bytes per context token: `kvBytesPerToken()` for a token model;
 * `kvBytesPerSentence() / tokensPerSentence` for a sentence model ({@link tokensPerCachePosition}).
 */
export function analyticalKvBytesPerToken(model: TokenKvModel | SentenceKvModel, tokensPerSentence?: number): number {
  const perPosition = 'kvBytesPerToken' in model ? model.kvBytesPerToken() : model.kvBytesPerSentence();
  return perPosition / tokensPerCachePosition(model, tokensPerSentence);
}

export interface PeakBytes<T> {
  result: T;
  /** Most tensor bytes alive at once during `fn` (tf.profile), including what was alive before. */
  peakBytes: number;
  /** Tensor bytes `fn` left alive. */
  newBytes: number;
}

/** Runs `fn` under tf.profile and reports its peak and retained tensor bytes. */
export async function peakTensorBytes<T>(fn: () => T | Promise<T>): Promise<PeakBytes<T>> {
  let result: T | undefined;
  const info = await tf.profile(async () => {
    result = await fn();
    return [];
  });
  return { result: result as T, peakBytes: info.peakBytes, newBytes: info.newBytes };
}

/** Resident set size of this process in bytes (tensors, code and everything else). */
export function rssBytes(): number {
  return process.memoryUsage().rss;
}
