import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@sentencelab/tensor';
import { z } from 'zod';
import { BeamSearch } from './beam.js';
import type { DecoderState, SentenceDecoder } from './decoder.js';
import { sampleToken } from './sampling.js';

export const decodeOptionsSchema = z.strictObject({
  strategy: z.enum(['greedy', 'sample', 'beam']).default('greedy').describe('greedy = argmax; sample = temperature + top-p draws; beam = beam search.'),
  maxTokens: z
    .number()
    .int()
    .min(0)
    .nullable()
    .default(null)
    .describe('Most tokens per sentence, EOS not counted; null = the model\'s maxTokens. A sentence that has not ended by then is cut.'),
  minTokens: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Fewest tokens per sentence: EOS cannot be chosen before (capped at maxTokens). 0 = no floor; 1 = no empty sentences.'),
  temperature: z.number().min(0).default(1).describe('Sampling temperature (sample; 0 = greedy).'),
  topP: z.number().gt(0).max(1).default(1).describe('Nucleus mass kept when sampling (1 = the whole distribution).'),
  beamSize: z.number().int().min(1).default(4).describe('Beams per sentence (beam).'),
  lengthPenalty: z.number().min(0).default(1).describe('Beam ranking: log p / length^lengthPenalty, length counting the EOS.'),
  seed: z.number().int().default(0).describe('Seed of the sampling draws.'),
  useCache: z.boolean().default(true).describe('Decode with the KV cache; false recomputes every prefix (a slow reference).'),
});

export type DecodeOptions = z.input<typeof decodeOptionsSchema>;

/** A user's sampling settings (`pnpm exp generate`'s flags, the report playground's fields). */
export interface SamplingSettings {
  /** 0 = greedy. */
  temperature: number;
  /** Nucleus mass (1 = off). */
  topP: number;
  /** Most tokens per sentence. */
  maxTokens: number;
  seed: number;
}

/** Decode options of a user's settings: greedy at temperature 0, else sampled. */
export function decodeOptionsFrom(s: SamplingSettings): { strategy: 'greedy' | 'sample'; temperature: number; topP: number; maxTokens: number; seed: number } {
  return { strategy: s.temperature > 0 ? 'sample' : 'greedy', temperature: s.temperature, topP: s.topP, maxTokens: s.maxTokens, seed: s.seed };
}

/** Decoded token ids per sentence (EOS and BOS excluded) and whether each ended with EOS. */
export interface DecodeResult {
  tokens: number[][];
  ended: boolean[];
}

/** Observers of decoding (not options of the decode itself). */
export interface DecodeHooks {
  /** After every decoder step, with the bytes its KV cache (self- and cross-attention, every layer) holds then. */
  onCacheBytes?: (bytes: number) => void;
}

/**
 * Autoregressive decoding from conditioning vectors, memory: [n, d] or [n, k, d].
 * Every step feeds one token per row through the KV cache and reads the logits back once.
 */
export async function decodeSentences(decoder: SentenceDecoder, memory: tf.Tensor, options: DecodeOptions = {}, hooks: DecodeHooks = {}): Promise<DecodeResult> {
  const o = decodeOptionsSchema.parse(options);
  const maxTokens = o.maxTokens ?? decoder.maxTokens;
  if (decoder.positions !== undefined && maxTokens > decoder.maxTokens) {
    throw new Error(`decodeSentences: maxTokens ${maxTokens} exceeds the model's maxTokens ${decoder.maxTokens} (learned positions)`);
  }
  // A floor above maxTokens would mask EOS at the step that can only end the sentence.
  const floored = { ...o, minTokens: Math.min(o.minTokens, maxTokens) };
  const wasTraining = decoder.training;
  decoder.eval();
  try {
    return o.strategy === 'beam' ? await beamDecode(decoder, memory, maxTokens, floored, hooks) : await stepDecode(decoder, memory, maxTokens, floored, hooks);
  } finally {
    decoder.train(wasTraining);
  }
}

type Parsed = z.output<typeof decodeOptionsSchema>;

async function stepDecode(decoder: SentenceDecoder, memory: tf.Tensor, maxTokens: number, o: Parsed, hooks: DecodeHooks): Promise<DecodeResult> {
  const { bos, eos } = decoder.specialIds;
  const V = decoder.vocabSize;
  const sampling = { temperature: o.strategy === 'greedy' ? 0 : o.temperature, topP: o.topP };
  const rng = new Rng(o.seed);
  const uniform = () => rng.uniform();
  const state = decoder.begin(memory, { useCache: o.useCache });
  const n = state.rows;
  const tokens: number[][] = Array.from({ length: n }, () => []);
  const ended = new Array<boolean>(n).fill(false);
  // active[r] = the sentence decoded by state row r; finished rows are dropped from the state.
  let active = Array.from({ length: n }, (_, i) => i);
  let feed: Int32Array = new Int32Array(n).fill(bos);
  try {
    // Step t predicts token t; step maxTokens can only end the sentence.
    for (let t = 0; t <= maxTokens && active.length > 0; t++) {
      const data = await stepLogits(decoder, state, feed, hooks, t < o.minTokens ? eos : undefined);
      const keep: number[] = [];
      const next: number[] = [];
      active.forEach((i, r) => {
        // Draws happen in sentence order, whatever rows have finished, so sampling repeats.
        const token = sampleToken(data, sampling, uniform, r * V, V);
        if (token === eos) ended[i] = true;
        else if (t < maxTokens) {
          tokens[i]!.push(token);
          keep.push(r);
          next.push(token);
        }
      });
      if (keep.length < active.length && keep.length > 0) state.select(Int32Array.from(keep));
      active = keep.map((r) => active[r]!);
      feed = Int32Array.from(next);
    }
  } finally {
    state.dispose();
  }
  return { tokens, ended };
}

async function beamDecode(decoder: SentenceDecoder, memory: tf.Tensor, maxTokens: number, o: Parsed, hooks: DecodeHooks): Promise<DecodeResult> {
  const { bos, eos } = decoder.specialIds;
  const V = decoder.vocabSize;
  const n = memory.shape[0]!;
  const k = o.beamSize;
  // Row r of the beam batch decodes sentence floor(r / k).
  const expanded = tf.tidy(() => {
    const rows = Int32Array.from({ length: n * k }, (_, r) => Math.floor(r / k));
    return tf.gather(decoder.context(memory), tf.tensor1d(rows, 'int32'));
  });
  const state = decoder.begin(expanded, { useCache: o.useCache });
  expanded.dispose();
  const search = new BeamSearch({ batch: n, beamSize: k, eos, maxTokens, lengthPenalty: o.lengthPenalty });
  let feed: Int32Array = new Int32Array(n * k).fill(bos);
  try {
    for (let t = 0; !search.done; t++) {
      const data = await stepLogits(decoder, state, feed, hooks, t < o.minTokens ? eos : undefined);
      const { parents, next } = search.step(data, V);
      state.select(parents);
      feed = next;
    }
  } finally {
    state.dispose();
  }
  return { tokens: search.best(), ended: search.endedFlags() };
}

/**
 * One decoder step's logits, read back ([rows, vocab], flat), after telling `hooks` the cache's
 * bytes; with `banned`, a copy where no row can pick that token (its logit -Infinity; a backend
 * may hand out its own storage, so the read is not written to).
 */
async function stepLogits(decoder: SentenceDecoder, state: DecoderState, feed: Int32Array, hooks: DecodeHooks, banned: number | undefined): Promise<tf.TypedArray> {
  const logits = decoder.step(state, feed);
  hooks.onCacheBytes?.(state.cache?.bytes() ?? 0);
  const read = await logits.data();
  logits.dispose();
  if (banned === undefined) return read;
  const out = Float32Array.from(read);
  for (let i = banned; i < out.length; i += decoder.vocabSize) out[i] = Number.NEGATIVE_INFINITY;
  return out;
}
