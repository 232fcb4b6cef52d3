/** The prepared dataset behind a tokenizer artifact, loaded once per process and shared by stages. */
import { openDataset, segmentUnits, type Dataset, type DatasetDocument, type SplitName } from '@sentencelab/data';
import { spreadPicks } from '@sentencelab/metrics';
import type { Artifact } from './types.js';

export interface LoadedData {
  dataset: Dataset;
  /** Special ids of the tokenizer. */
  ids: { pad: number; bos: number; eos: number };
  vocabSize: number;
  /** Longest sentence in tokens (the data section's segment.maxTokens). */
  maxTokens: number;
  split(name: SplitName): Promise<DatasetDocument[]>;
}

const cache = new Map<string, Promise<LoadedData>>();

export function tokenizerArtifact(inputs: Record<string, Artifact | Artifact[]>, slot = 'tokenizer'): Artifact {
  const a = inputs[slot];
  if (!a || Array.isArray(a)) throw new Error(`input "${slot}" must be one tokenizer stage`);
  return a;
}

/** The prepared dataset folder a tokenizer artifact points to. */
export function datasetDirOf(tokenizer: Artifact): string {
  const dir = tokenizer.meta['datasetDir'];
  if (typeof dir !== 'string') throw new Error(`tokenizer artifact ${tokenizer.hash.slice(0, 12)} has no datasetDir`);
  return dir;
}

export function loadData(dir: string): Promise<LoadedData> {
  let hit = cache.get(dir);
  if (!hit) {
    hit = (async () => {
      const dataset = await openDataset(dir);
      const splits = new Map<SplitName, Promise<DatasetDocument[]>>();
      const t = dataset.tokenizer;
      return {
        dataset,
        ids: { pad: t.pad, bos: t.bos, eos: t.eos },
        vocabSize: t.vocabSize,
        maxTokens: dataset.manifest.config.segment.maxTokens,
        split(name: SplitName) {
          let s = splits.get(name);
          if (!s) {
            s = dataset.split(name).loadAll();
            splits.set(name, s);
          }
          return s;
        },
      };
    })();
    cache.set(dir, hit);
  }
  return hit;
}

/**
 * A prompt cut into sentences with the dataset's own segmentation rules (mode, locale,
 * maxTokens measured by its tokenizer, or chunks of K tokens), as the documents the models
 * trained on were.
 */
export async function promptSentences(text: string, data: LoadedData): Promise<string[]> {
  const parts = segmentUnits(text, data.dataset.manifest.config.segment, data.dataset.tokenizer);
  const out = parts.map((p) => p.text).filter((t) => t.trim().length > 0);
  if (out.length === 0) throw new Error('the prompt has no sentences');
  return out;
}

/**
 * `n` of the documents with at least `minSentences` sentences (evaluation sets), evenly spaced
 * over the split in its order, all of them when there are no more. Corpora list documents by
 * source or genre (Brown: press first, then religion, ..., humour), so the first `n` would all
 * come from the first genre or two.
 */
export function pickDocuments(docs: readonly DatasetDocument[], n: number, minSentences: number): DatasetDocument[] {
  const eligible = docs.filter((d) => d.sentences.length >= minSentences);
  return evenlySpaced(eligible, n);
}

/** `n` items evenly spaced over `items` (centred strides, in order; all of them when there are no more than `n`). */
function evenlySpaced<T>(items: readonly T[], n: number): T[] {
  return spreadPicks([items.length], n)[0]!.map((i) => items[i]!);
}

/**
 * `count` of a stage's validation batches (built from the split in document order), evenly
 * spaced over them so that they span the split rather than its first documents, or an error
 * naming the split and the fix when there are none: with no validation batch, training would
 * report `val loss NaN` at every evaluation.
 */
export function validationBatches<B>(batches: readonly B[], count: number, docs: readonly DatasetDocument[], stage: string): B[] {
  if (batches.length === 0) {
    throw new Error(
      `stage ${stage}: the validation split has no batch to evaluate on (${docs.length} documents); raise data.split.validation or use more data (data.source.limit)`,
    );
  }
  return evenlySpaced(batches, count);
}
