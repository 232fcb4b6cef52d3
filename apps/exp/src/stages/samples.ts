/**
 * The text samples training stages write to samples.jsonl at every evaluation: the same fixed
 * held-out sentences for every stage (the first sentence of the first validation documents), so
 * the report shows, side by side and step by step, a SentenceVAE's reconstruction of a sentence
 * and the token LM's and SLLM's continuations of it. Greedy decoding from the models' own
 * sampling state: writing samples never changes a loss.
 */
import type { DatasetDocument } from '@sentencelab/data';
import type { Sample } from '@sentencelab/runs';
import { pickDocuments } from './dataset.js';

/** Prompts per stage and the most tokens generated for each (at most a SentenceVAE's maxTokens per sentence): a few seconds at most. */
export const SAMPLE_PROMPTS = 3;
export const SAMPLE_TOKENS = 24;

/** The first sentence (token ids) of each of the first {@link SAMPLE_PROMPTS} validation documents. */
export function samplePrompts(validation: readonly DatasetDocument[]): number[][] {
  return pickDocuments(validation, SAMPLE_PROMPTS, 1).map((d) => Array.from(d.sentences[0]!));
}

/**
 * The loop's `samples` callback: `produce` maps each prompt to token ids (a reconstruction or a
 * continuation), both decoded with the dataset's tokenizer.
 */
export function textSamples(
  prompts: readonly number[][],
  decode: (ids: number[]) => string,
  model: string,
  produce: (prompt: number[]) => Promise<number[]>,
): () => Promise<Omit<Sample, 'step'>[]> {
  return async () => {
    const out: Omit<Sample, 'step'>[] = [];
    for (const p of prompts) out.push({ prompt: decode(p), output: decode(await produce(p)), model });
    return out;
  };
}

/** The first sentence a generator yields (undefined when it yields none); leaving the loop closes the generator. */
export async function firstSentence(sentences: AsyncIterable<number[]>): Promise<number[] | undefined> {
  for await (const s of sentences) return s;
  return undefined;
}
