import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { writeFileAtomic, writeJsonAtomic } from '@sentencelab/fs-atomic';
import { join, resolve } from 'node:path';
import { segment } from '@sentencelab/segment';
import { DocumentFileWriter } from './arrow.js';
import type { DataConfig } from './config.js';
import { SPLITS, type DatasetDocument, type SplitName } from './document.js';
import { DataError } from './errors.js';
import { openSource } from './sources/index.js';
import type { CorpusSource, SourceDocument } from './sources/types.js';
import { splitOf } from './split.js';
import { StatsBuilder, type DatasetStats } from './stats.js';
import { BpeTokenizer } from './tokenizer.js';
import { trainTokenizer } from './train-tokenizer.js';
import { eachUnit } from './units.js';
import { findWorkspaceRoot } from './workspace.js';

/** Bumped whenever the prepared files change meaning, so old caches are not reused. */
export const DATASET_FORMAT = 1;

export interface PrepareProgress {
  /** `read` (files), `tokenizer` (training; done 0 of 1 until it ends), `prepare` (documents). */
  stage: 'read' | 'tokenizer' | 'prepare';
  done: number;
  total: number;
  unit: string;
}

export interface PrepareOptions {
  /** Rebuild even when the cache holds this dataset. */
  force?: boolean;
  onProgress?: (p: PrepareProgress) => void;
  /** Where relative source and tokenizer paths start (default: the working directory). */
  baseDir?: string;
  /** Root of a relative `output.cacheDir` (default: the workspace root above baseDir). */
  workspaceRoot?: string;
  /** Let the native tokenizer trainer draw its progress bars on stdout (for terminals). */
  showTrainerProgress?: boolean;
}

/** What `manifest.json` in a prepared dataset folder holds. */
export interface DatasetManifest {
  format: number;
  key: string;
  createdAt: string;
  source: string;
  corpusHash: string;
  tokenizerHash: string;
  config: DataConfig;
  splits: Record<SplitName, { file: string; documents: number }>;
}

export interface PrepareResult {
  /** The prepared dataset folder: train/validation/test.arrow, tokenizer.json, stats.json, manifest.json. */
  dir: string;
  /** True when the folder was already in the cache. */
  cached: boolean;
  stats: DatasetStats;
  manifest: DatasetManifest;
}

/**
 * A hash of what the segmenter does to a fixed tricky text under the configured mode, locale and
 * a small length limit. It goes into the dataset key, so a changed segmenter is never served a
 * stale cache.
 */
function segmenterFingerprint(config: DataConfig['segment']): string {
  const probe = [
    'Mr. Smith paid $3.50 for the U.S. edition, e.g. the blue one... "Really?" she asked (twice). Then: nothing; it ended',
    "Dr. Jones (b. 1950) arrived at 5 p.m. on Jan. 3rd. 'Is it?' He said: \"Yes!\" The end... Or not? Fig. 2 shows it.",
    'A.B. Clark Jr. met Ms. Lee at No. 10 Main St. They talked -- at length -- about 3.14 and 1,000.5 and vs. them [see p. 4.]',
    '',
    '他说：“今天很好。”我们走吧！真的吗？好，那就明天、后天；或者永远。（括号里。）「引号」『也是』……然后呢',
    'A very long sentence without any punctuation at all that keeps going and going until it must be split somewhere',
].join('\n');
  const segs = segment(probe, {
    mode: config.mode === 'chunk' ? 'sentence' : config.mode,
    maxTokens: 12,
    lengthOf: (t) => t.length / 4,
    ...(config.locale !== null ? { locale: config.locale } : {}),
  });
  return sha256(JSON.stringify(segs));
}

const EMPTY_DOC = 'empty documents (no text)';
const BLANK_SENTENCE = 'whitespace-only segments';

function sha256(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${Buffer.byteLength(p)}:`).update(p);
  return h.digest('hex');
}

/** Removes temp folders of earlier runs that died (their process is gone) before renaming. */
function removeStaleWork(cacheDir: string): void {
  for (const name of readdirSync(cacheDir)) {
    const m = /^\.tmp-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(cacheDir, name), { recursive: true, force: true });
    }
  }
}

interface CorpusScan {
  hash: string;
  documents: number;
  /** The train split's text, one document a line: all the tokenizer is trained on. */
  trainingFile: string;
  /** A hash of the training file's documents (ids and text): the trained tokenizer's cache key. */
  trainingHash: string;
  /** Non-empty documents in the train split (those in trainingFile). */
  trainingDocuments: number;
  /** The documents themselves when the corpus is small enough to keep (else read again). */
  kept: SourceDocument[] | null;
}

/** Lines of the tokenizer's training file are broken after about this many characters. */
const TRAINING_LINE_CHARS = 16 * 1024;

/**
 * The tokenizer trainer holds each line whole, with per-byte bookkeeping: one 50 MB line took
 * gigabytes. Long lines are broken at a single space between two non-space characters, where
 * the byte-level pre-tokenizer starts a new word (" word") either way, so the words it counts,
 * and so the trained merges, are the same.
 */
export function breakLongLines(text: string, max = TRAINING_LINE_CHARS): string {
  if (text.length <= max) return text;
  const parts: string[] = [];
  let start = 0;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      lineStart = i + 1;
      continue;
    }
    if (i - lineStart < max || c !== 32) continue;
    const before = text.charCodeAt(i - 1);
    const after = i + 1 < text.length ? text.charCodeAt(i + 1) : 32;
    if (isSpace(before) || isSpace(after)) continue;
    parts.push(text.slice(start, i));
    start = i;
    lineStart = i;
  }
  parts.push(text.slice(start));
  return parts.join('\n');
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x2028 || c === 0x2029 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a);
}

/** Corpora up to this many characters are kept in memory between the two passes. */
const KEEP_CHARS = 64 * 1024 * 1024;

/**
 * Pass 1: hash the corpus, check ids are unique, and write the train split's text for tokenizer
 * training: a tokenizer that saw the validation or test documents would have learned merges from
 * the text it is later scored on.
 */
async function scanCorpus(source: CorpusSource, split: DataConfig['split'], trainingFile: string, progress: (done: number) => void): Promise<CorpusScan> {
  const hash = createHash('sha256');
  const trainingHash = createHash('sha256');
  let trainingDocuments = 0;
  const seen = new Map<string, string>();
  const out = createWriteStream(trainingFile);
  // Errors of the stream (a full disk) surface here, naming the file; a source that throws
  // (binary or invalid UTF-8 input) closes the stream before the work folder is removed.
  let writeError: Error | undefined;
  out.on('error', (e) => (writeError ??= e));
  const failed = (): DataError => new DataError(`cannot write ${trainingFile}: ${writeError!.message}`, trainingFile);
  const closed = new Promise<void>((done) => out.once('close', () => done()));
  let documents = 0;
  let empty = 0;
  let lastFile = -1;
  let kept: SourceDocument[] | null = [];
  let keptChars = 0;
  try {
    for await (const doc of source.documents()) {
      if (writeError) throw failed();
      if (kept) {
        keptChars += doc.text.length;
        if (keptChars <= KEEP_CHARS) kept.push(doc);
        else kept = null;
      }
      const prev = seen.get(doc.id);
      if (prev !== undefined) throw new DataError(`${doc.origin}: duplicate document id "${doc.id}" (also at ${prev})`);
      seen.set(doc.id, doc.origin);
      hash.update(`${Buffer.byteLength(doc.id)}:${doc.id}${Buffer.byteLength(doc.text)}:`).update(doc.text);
      documents++;
      if (doc.text.trim().length === 0) empty++;
      else if (splitOf(doc.id, split) === 'train') {
        trainingHash.update(`${Buffer.byteLength(doc.id)}:${doc.id}${Buffer.byteLength(doc.text)}:`).update(doc.text);
        trainingDocuments++;
        if (!out.write(`${breakLongLines(doc.text)}\n`)) await Promise.race([new Promise<void>((done) => out.once('drain', () => done())), closed]);
      }
      if (doc.fileIndex !== lastFile) {
        lastFile = doc.fileIndex;
        progress(doc.fileIndex);
      }
    }
    out.end();
    await closed;
    if (writeError) throw failed();
  } catch (error) {
    out.destroy();
    await closed;
    throw error;
  }
  progress(source.files.length);
  if (documents === 0 || documents === empty) {
    const where = source.files.length <= 3 ? source.files.join(', ') : `${source.files.slice(0, 3).join(', ')} and ${source.files.length - 3} more`;
    throw new DataError(`empty corpus: ${source.description} has ${documents === 0 ? 'no documents' : 'only empty documents'} (${where})`);
  }
  return { hash: hash.digest('hex'), documents, trainingFile, trainingHash: trainingHash.digest('hex'), trainingDocuments, kept };
}

/** The tokenizer a config asks for: loaded from `tokenizer.path`, or trained once and cached. */
async function obtainTokenizer(
  config: DataConfig,
  scan: CorpusScan,
  baseDir: string,
  cacheDir: string,
  showProgress: boolean,
): Promise<{ tokenizer: BpeTokenizer; origin: string }> {
  const t = config.tokenizer;
  if (t.path !== null) {
    const file = resolve(baseDir, t.path);
    return { tokenizer: BpeTokenizer.load(file, t.specials), origin: file };
  }
  if (scan.trainingDocuments === 0) {
    throw new DataError(
      `split: no document of ${scan.documents} is in the train split, so there is nothing to train the tokenizer on (lower split.validation/split.test, change split.salt, or set tokenizer.path)`,
    );
  }
  const key = sha256('tokenizer', 'train split', String(DATASET_FORMAT), scan.trainingHash, JSON.stringify({ vocabSize: t.vocabSize, specials: t.specials }));
  const dir = join(cacheDir, 'tokenizers', key.slice(0, 24));
  const file = join(dir, 'tokenizer.json');
  const on = `on the ${scan.trainingDocuments} train-split documents`;
  if (existsSync(file)) return { tokenizer: BpeTokenizer.load(file, t.specials), origin: `trained ${on} (cached: ${file})` };
  const json = await trainTokenizer([scan.trainingFile], { vocabSize: t.vocabSize, specials: t.specials, showProgress });
  const tokenizer = BpeTokenizer.fromJson(json, t.specials, 'trained tokenizer');
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(file, json);
  return { tokenizer, origin: `trained ${on} (${file})` };
}

/**
 * One document as sentences (over-long ones split by segment) and their token ids. The ids of
 * all its sentences share one buffer (each sentence a view): an array of its own per sentence
 * cost several times the text's size on a document that is one huge line.
 */
function prepareDocument(doc: SourceDocument, config: DataConfig, tokenizer: BpeTokenizer, stats: StatsBuilder): DatasetDocument {
  const lengths: number[] = [];
  const texts: string[] = [];
  const paragraphStarts: boolean[] = [];
  let ids = new Int32Array(1024);
  let used = 0;
  let pendingParagraph = true;
  for (const s of eachUnit(doc.text, config.segment, tokenizer)) {
    if (s.split) stats.splitForLength++;
    pendingParagraph ||= s.paragraphStart;
    // A chunk of whitespace tokens is kept: dropping it would drop tokens of the paragraph.
    if (s.text.trim().length === 0 && config.segment.mode !== 'chunk') {
      stats.filter(BLANK_SENTENCE, `${doc.origin}@${s.start}`);
      continue;
    }
    const tokens = s.tokens;
    if (tokens.length > config.segment.maxTokens) stats.overMax++;
    if (used + tokens.length > ids.length) {
      const grown = new Int32Array(Math.max(ids.length * 2, used + tokens.length));
      grown.set(ids.subarray(0, used));
      ids = grown;
    }
    ids.set(tokens, used);
    used += tokens.length;
    lengths.push(tokens.length);
    texts.push(s.text);
    paragraphStarts.push(pendingParagraph);
    pendingParagraph = false;
  }
  if (ids.length > 2 * used + 1024) ids = ids.slice(0, used);
  const sentences: Int32Array[] = [];
  let at = 0;
  for (const n of lengths) {
    sentences.push(ids.subarray(at, at + n));
    at += n;
  }
  return { id: doc.id, sentences, texts, paragraphStarts };
}

/**
 * Prepares the dataset a config describes: reads the corpus, trains the tokenizer on the train
 * split's documents only (or loads one),
 * segments every document into sentences (over-long ones split with a token-aware length), tokenizes
 * each sentence, and writes train/validation/test Arrow files by document-id hash. The folder is
 * content-addressed (`<cacheDir>/<hash of corpus + tokenizer + settings>`), built in a temp folder
 * and renamed into place, so a re-run with the same inputs returns the cached folder.
 */
export async function prepareDataset(config: DataConfig, options: PrepareOptions = {}): Promise<PrepareResult> {
  const baseDir = resolve(options.baseDir ?? process.cwd());
  const root = options.workspaceRoot ?? findWorkspaceRoot(baseDir);
  const cacheDir = resolve(root, config.output.cacheDir);
  const report = options.onProgress ?? (() => {});
  mkdirSync(cacheDir, { recursive: true });
  removeStaleWork(cacheDir);

  const source = await openSource(config.source, baseDir);
  const work = join(cacheDir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  mkdirSync(work, { recursive: true });
  try {
    report({ stage: 'read', done: 0, total: source.files.length, unit: 'files' });
    const scan = await scanCorpus(source, config.split, join(work, 'train-text.txt'), (done) =>
      report({ stage: 'read', done, total: source.files.length, unit: 'files' }),
    );

    const needsTraining = config.tokenizer.path === null;
    if (needsTraining) report({ stage: 'tokenizer', done: 0, total: 1, unit: 'tokenizer' });
    const { tokenizer, origin } = await obtainTokenizer(config, scan, baseDir, cacheDir, options.showTrainerProgress ?? false);
    if (needsTraining) report({ stage: 'tokenizer', done: 1, total: 1, unit: 'tokenizer' });
    rmSync(scan.trainingFile, { force: true });

    const key = sha256(
      'dataset',
      String(DATASET_FORMAT),
      scan.hash,
      tokenizer.hash,
      segmenterFingerprint(config.segment),
      JSON.stringify({ specials: config.tokenizer.specials, segment: config.segment, split: config.split, output: config.output.batchDocuments }),
    );
    const dir = join(cacheDir, key.slice(0, 24));
    if (!options.force && existsSync(join(dir, 'manifest.json'))) {
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as DatasetManifest;
      const stats = JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8')) as DatasetStats;
      return { dir, cached: true, stats, manifest };
    }

    const stats = new StatsBuilder();
    const writers = Object.fromEntries(SPLITS.map((s) => [s, new DocumentFileWriter(join(work, `${s}.arrow`))])) as Record<SplitName, DocumentFileWriter>;
    const pending: Record<SplitName, DatasetDocument[]> = { train: [], validation: [], test: [] };
    const batchSize = config.output.batchDocuments;
    const check = createHash('sha256');
    let done = 0;
    const total = scan.documents;
    report({ stage: 'prepare', done: 0, total, unit: 'documents' });
    for await (const doc of scan.kept ?? source.documents()) {
      check.update(`${Buffer.byteLength(doc.id)}:${doc.id}${Buffer.byteLength(doc.text)}:`).update(doc.text);
      done++;
      if (doc.text.trim().length === 0) {
        stats.filter(EMPTY_DOC, doc.origin);
        continue;
      }
      const d = prepareDocument(doc, config, tokenizer, stats);
      const split = splitOf(d.id, config.split);
      stats.addDocument(split, d.sentences.map((s) => s.length), d.texts.reduce((a, t) => a + t.length, 0));
      pending[split].push(d);
      if (pending[split].length >= batchSize) {
        await writers[split].write(pending[split]);
        pending[split] = [];
      }
      report({ stage: 'prepare', done, total, unit: 'documents' });
    }
    report({ stage: 'prepare', done, total, unit: 'documents' });
    if (check.digest('hex') !== scan.hash) {
      throw new DataError(`${source.description}: the corpus changed while it was being prepared; run again`);
    }
    for (const s of SPLITS) {
      await writers[s].write(pending[s]);
      await writers[s].close();
    }
    const finished = stats.finish(source.description, { vocabSize: tokenizer.vocabSize, origin });

    const manifest: DatasetManifest = {
      format: DATASET_FORMAT,
      key,
      createdAt: new Date().toISOString(),
      source: source.description,
      corpusHash: scan.hash,
      tokenizerHash: tokenizer.hash,
      config,
      splits: Object.fromEntries(SPLITS.map((s) => [s, { file: `${s}.arrow`, documents: writers[s].rows }])) as DatasetManifest['splits'],
    };
    writeFileAtomic(join(work, 'tokenizer.json'), tokenizer.json);
    writeJsonAtomic(join(work, 'stats.json'), finished);
    writeJsonAtomic(join(work, 'manifest.json'), manifest);
    if (options.force && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(work, dir);
    } catch (e) {
      // Another process finished the same dataset first: theirs is identical, use it.
      if (!existsSync(join(dir, 'manifest.json'))) throw e;
    }
    return { dir, cached: false, stats: finished, manifest };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
