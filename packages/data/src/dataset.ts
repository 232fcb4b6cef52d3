import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readDocumentFile } from './arrow.js';
import { SPLITS, type DatasetDocument, type SplitName } from './document.js';
import { DataError } from './errors.js';
import { DATASET_FORMAT, type DatasetManifest } from './prepare.js';
import type { DatasetStats } from './stats.js';
import { BpeTokenizer } from './tokenizer.js';

/** One split of a prepared dataset, read from its Arrow file. */
export interface DatasetSplit {
  readonly name: SplitName;
  readonly file: string;
  /** Number of documents (from the manifest). */
  readonly documents: number;
  /** Documents one Arrow record batch at a time (bounded memory). */
  batches(): AsyncGenerator<DatasetDocument[]>;
  /** Documents one at a time, streaming. */
  [Symbol.asyncIterator](): AsyncGenerator<DatasetDocument>;
  /** Every document in memory (for small data). */
  loadAll(): Promise<DatasetDocument[]>;
}

/** A prepared dataset folder (what `prepareDataset` returns the path of). */
export interface Dataset {
  readonly dir: string;
  readonly manifest: DatasetManifest;
  readonly stats: DatasetStats;
  readonly tokenizer: BpeTokenizer;
  split(name: SplitName): DatasetSplit;
}

function readJson<T>(file: string): T {
  if (!existsSync(file)) throw new DataError(`${file}: missing (not a prepared dataset folder?)`, file);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new DataError(`${file}: not valid JSON (${(e as Error).message})`, file);
  }
}

/** Opens a prepared dataset folder: manifest, stats, tokenizer and the three splits. */
export async function openDataset(dir: string): Promise<Dataset> {
  const abs = resolve(dir);
  const manifest = readJson<DatasetManifest>(join(abs, 'manifest.json'));
  if (manifest.format !== DATASET_FORMAT) {
    throw new DataError(`${abs}: dataset format ${manifest.format}, this version reads ${DATASET_FORMAT}; prepare it again`, abs);
  }
  const stats = readJson<DatasetStats>(join(abs, 'stats.json'));
  const tokenizer = BpeTokenizer.load(join(abs, 'tokenizer.json'), manifest.config.tokenizer.specials);
  return {
    dir: abs,
    manifest,
    stats,
    tokenizer,
    split(name: SplitName): DatasetSplit {
      if (!SPLITS.includes(name)) throw new DataError(`unknown split "${name}" (have ${SPLITS.join(', ')})`);
      const file = join(abs, manifest.splits[name].file);
      const batches = (): AsyncGenerator<DatasetDocument[]> => readDocumentFile(file);
      return {
        name,
        file,
        documents: manifest.splits[name].documents,
        batches,
        async *[Symbol.asyncIterator]() {
          for await (const b of batches()) yield* b;
        },
        async loadAll() {
          const all: DatasetDocument[] = [];
          for await (const b of batches()) all.push(...b);
          return all;
        },
      };
    },
  };
}
