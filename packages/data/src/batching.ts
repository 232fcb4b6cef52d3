import type { DatasetDocument } from './document.js';
import { DataError } from './errors.js';
import { shuffled } from './shuffle.js';

/** Special ids the batchers need (a `BpeTokenizer` has them). */
export interface SpecialIds {
  pad: number;
  bos: number;
  eos: number;
}

interface ShuffleOptions {
  /** Shuffle (default true); false keeps document order, for evaluation. */
  shuffle?: boolean;
  seed?: number;
  /** Mixed with the seed: each epoch gets a different, reproducible order. */
  epoch?: number;
}

/**
 * A document as one token stream: `[BOS, s1..., EOS, s2..., EOS, ...]`. EOS ends every sentence;
 * this is the stream the token LM and the sentence-level models are both scored on.
 */
export function documentTokenStream(doc: DatasetDocument, ids: Pick<SpecialIds, 'bos' | 'eos'>): Int32Array {
  let n = 1;
  for (const s of doc.sentences) n += s.length + 1;
  const out = new Int32Array(n);
  out[0] = ids.bos;
  let at = 1;
  for (const s of doc.sentences) {
    out.set(s, at);
    at += s.length;
    out[at++] = ids.eos;
  }
  return out;
}

export interface TokenWindowOptions extends ShuffleOptions {
  seqLen: number;
  batchSize: number;
  /** Drop a last batch smaller than batchSize (default false: it is returned smaller). */
  dropLast?: boolean;
}

/** A batch of token windows; `mask` is 1 where a target counts (0: padding or a document's BOS). */
export interface TokenWindowBatch {
  /** input: [batch, seqLen] */
  input: Int32Array;
  /** target: [batch, seqLen], input shifted left by one */
  target: Int32Array;
  /** mask: [batch, seqLen] */
  mask: Uint8Array;
  shape: [number, number];
}

/**
 * Token windows for a token LM. The (shuffled) documents' streams are concatenated and cut into
 * windows of seqLen + 1 tokens that overlap by one (window k starts at token k * seqLen), so
 * every token but the first is a target exactly once. Targets that are a document's BOS are
 * masked (nothing predicts the next document's start), and the tail window is PAD-filled with
 * mask 0. The window order is shuffled too.
 */
export function* tokenWindows(docs: readonly DatasetDocument[], ids: SpecialIds, options: TokenWindowOptions): Generator<TokenWindowBatch> {
  const { seqLen, batchSize, shuffle = true, seed = 0, epoch = 0, dropLast = false } = options;
  if (!(seqLen >= 1 && batchSize >= 1)) throw new DataError(`tokenWindows: seqLen and batchSize must be >= 1 (got ${seqLen}, ${batchSize})`);
  const order = shuffle ? shuffled(docs, seed, epoch) : docs.slice();
  const streams = order.map((d) => documentTokenStream(d, ids));
  const total = streams.reduce((a, s) => a + s.length, 0);
  const stream = new Int32Array(total);
  const isDocStart = new Uint8Array(total);
  let at = 0;
  for (const s of streams) {
    stream.set(s, at);
    isDocStart[at] = 1;
    at += s.length;
  }
  const windows = Math.max(0, Math.ceil((total - 1) / seqLen));
  const starts = Array.from({ length: windows }, (_, k) => k * seqLen);
  const ordered = shuffle ? shuffled(starts, seed ^ 0x5bd1e995, epoch) : starts;
  for (let b = 0; b < ordered.length; b += batchSize) {
    const rows = Math.min(batchSize, ordered.length - b);
    if (dropLast && rows < batchSize) return;
    const input = new Int32Array(rows * seqLen).fill(ids.pad);
    const target = new Int32Array(rows * seqLen).fill(ids.pad);
    const mask = new Uint8Array(rows * seqLen);
    for (let r = 0; r < rows; r++) {
      const start = ordered[b + r]!;
      for (let t = 0; t < seqLen; t++) {
        const i = start + t;
        if (i + 1 >= total) break;
        input[r * seqLen + t] = stream[i]!;
        target[r * seqLen + t] = stream[i + 1]!;
        mask[r * seqLen + t] = isDocStart[i + 1] ? 0 : 1;
      }
    }
    yield { input, target, mask, shape: [rows, seqLen] };
  }
}

/** A run of consecutive sentences of one document: sentences [start, end). */
export interface DocumentWindow {
  doc: DatasetDocument;
  start: number;
  end: number;
}

/**
 * Cuts documents into consecutive windows of at most maxSentences sentences (nothing dropped).
 * With `overlap` k, each window after a document's first repeats the last k sentences of the one
 * before: a next-sentence model (overlap 1) then has every sentence after the first as a target,
 * instead of losing the first sentence of every later window to context.
 */
export function documentWindows(docs: readonly DatasetDocument[], maxSentences: number, overlap = 0): DocumentWindow[] {
  if (!(maxSentences >= 1)) throw new DataError(`maxSentences must be >= 1 (got ${maxSentences})`);
  if (!(Number.isInteger(overlap) && overlap >= 0 && overlap < maxSentences)) {
    throw new DataError(`overlap must be an integer in 0..maxSentences - 1 = ${maxSentences - 1} (got ${overlap})`);
  }
  const out: DocumentWindow[] = [];
  for (const doc of docs) {
    const n = doc.sentences.length;
    for (let start = 0; start < n; start += maxSentences - overlap) {
      const end = Math.min(n, start + maxSentences);
      out.push({ doc, start, end });
      if (end === n) break;
    }
  }
  return out;
}

export interface SentenceBatchOptions extends ShuffleOptions {
  /** B: windows per batch. */
  batchSize: number;
  /** S: sentences per window; longer documents become several consecutive windows. */
  maxSentences: number;
  /** L: token slots per sentence (the dataset's segment.maxTokens); a longer sentence is an error. */
  maxTokens: number;
  /** Sentences each window after a document's first shares with the one before (default 0; 1 for next-sentence models). */
  overlap?: number;
  dropLast?: boolean;
}

/** Documents as [batch, sentences, tokens] for sentence-level models. */
export interface SentenceBatch {
  /** tokens: [B, S, L] sentence token ids (no BOS/EOS), PAD-filled */
  tokens: Int32Array;
  /** lengths: [B, S] tokens per sentence; 0 = an empty (padding) sentence slot */
  lengths: Int32Array;
  /** paragraphStarts: [B, S] 1 where a sentence begins a paragraph */
  paragraphStarts: Uint8Array;
  shape: [number, number, number];
  /** docIds[b]: the document of row b */
  docIds: string[];
  /** windowStart[b]: index in its document of row b's first sentence */
  windowStart: number[];
  /** docSentences[b]: sentences in row b's whole document (so a model knows where it ends) */
  docSentences: number[];
}

/**
 * Sentence batches: each document is cut into windows of up to S consecutive sentences (never
 * cut off; consecutive windows share `overlap` sentences), windows are shuffled (seed, epoch)
 * and packed B at a time into [B, S, L] arrays. The last batch has fewer rows unless dropLast.
 */
export function* sentenceBatches(docs: readonly DatasetDocument[], pad: number, options: SentenceBatchOptions): Generator<SentenceBatch> {
  const { batchSize: B, maxSentences: S, maxTokens: L, overlap = 0, shuffle = true, seed = 0, epoch = 0, dropLast = false } = options;
  if (!(B >= 1 && L >= 1)) throw new DataError(`sentenceBatches: batchSize and maxTokens must be >= 1 (got ${B}, ${L})`);
  const all = documentWindows(docs, S, overlap);
  const windows = shuffle ? shuffled(all, seed, epoch) : all;
  for (let b = 0; b < windows.length; b += B) {
    const rows = Math.min(B, windows.length - b);
    if (dropLast && rows < B) return;
    const tokens = new Int32Array(rows * S * L).fill(pad);
    const lengths = new Int32Array(rows * S);
    const paragraphStarts = new Uint8Array(rows * S);
    const docIds: string[] = [];
    const windowStart: number[] = [];
    const docSentences: number[] = [];
    for (let r = 0; r < rows; r++) {
      const w = windows[b + r]!;
      docIds.push(w.doc.id);
      windowStart.push(w.start);
      docSentences.push(w.doc.sentences.length);
      for (let s = w.start; s < w.end; s++) {
        const sent = w.doc.sentences[s]!;
        if (sent.length > L) {
          throw new DataError(`document ${w.doc.id}, sentence ${s}: ${sent.length} tokens, more than maxTokens ${L} (prepare with a smaller segment.maxTokens or batch with a larger one)`);
        }
        const slot = r * S + (s - w.start);
        tokens.set(sent, slot * L);
        lengths[slot] = sent.length;
        paragraphStarts[slot] = w.doc.paragraphStarts[s] ? 1 : 0;
      }
    }
    yield { tokens, lengths, paragraphStarts, shape: [rows, S, L], docIds, windowStart, docSentences };
  }
}

/**
 * The same windows as `tokenWindows` with `shuffle: false`, from documents streamed in order
 * (e.g. a dataset split, record batch by record batch): memory holds one batch and the tail of
 * the current document, so splits larger than memory can be scored.
 */
export async function* streamTokenWindows(
  docs: AsyncIterable<DatasetDocument> | Iterable<DatasetDocument>,
  ids: SpecialIds,
  options: Pick<TokenWindowOptions, 'seqLen' | 'batchSize' | 'dropLast'>,
): AsyncGenerator<TokenWindowBatch> {
  const { seqLen, batchSize, dropLast = false } = options;
  if (!(seqLen >= 1 && batchSize >= 1)) throw new DataError(`streamTokenWindows: seqLen and batchSize must be >= 1 (got ${seqLen}, ${batchSize})`);
  let buf = new Int32Array(4 * (seqLen + 1));
  let starts = new Uint8Array(buf.length);
  let len = 0;
  let rows: Array<{ tokens: Int32Array; starts: Uint8Array }> = [];
  const pack = (): TokenWindowBatch => {
    const n = rows.length;
    const input = new Int32Array(n * seqLen).fill(ids.pad);
    const target = new Int32Array(n * seqLen).fill(ids.pad);
    const mask = new Uint8Array(n * seqLen);
    rows.forEach((row, r) => {
      for (let t = 0; t + 1 < row.tokens.length; t++) {
        input[r * seqLen + t] = row.tokens[t]!;
        target[r * seqLen + t] = row.tokens[t + 1]!;
        mask[r * seqLen + t] = row.starts[t + 1] ? 0 : 1;
      }
    });
    rows = [];
    return { input, target, mask, shape: [n, seqLen] };
  };
  for await (const doc of docs) {
    const stream = documentTokenStream(doc, ids);
    if (len + stream.length > buf.length) {
      const size = Math.max(2 * buf.length, len + stream.length);
      const nb = new Int32Array(size);
      nb.set(buf.subarray(0, len));
      const ns = new Uint8Array(size);
      ns.set(starts.subarray(0, len));
      buf = nb;
      starts = ns;
    }
    buf.set(stream, len);
    starts.fill(0, len, len + stream.length);
    starts[len] = 1;
    len += stream.length;
    let at = 0;
    while (len - at >= seqLen + 1) {
      rows.push({ tokens: buf.slice(at, at + seqLen + 1), starts: starts.slice(at, at + seqLen + 1) });
      at += seqLen;
      if (rows.length === batchSize) yield pack();
    }
    buf.copyWithin(0, at, len);
    starts.copyWithin(0, at, len);
    len -= at;
  }
  if (len > 1) rows.push({ tokens: buf.slice(0, len), starts: starts.slice(0, len) });
  if (rows.length > 0 && !(dropLast && rows.length < batchSize)) yield pack();
}
