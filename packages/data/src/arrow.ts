import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import {
  Bool,
  Field,
  Int32,
  List,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchReader,
  Schema,
  Struct,
  Utf8,
  type Data,
} from 'apache-arrow';
import type { DatasetDocument } from './document.js';
import { DataError } from './errors.js';

/**
 * The Arrow schema of a split file: one row per document.
 *   docId: utf8, sentences: list<list<int32>> (token ids per sentence), texts: list<utf8>,
 *   paragraphStarts: list<bool>
 */
export const documentSchema = new Schema([
  new Field('docId', new Utf8(), false),
  new Field('sentences', new List(new Field('sentence', new List(new Field('token', new Int32(), false)), false)), false),
  new Field('texts', new List(new Field('text', new Utf8(), false)), false),
  new Field('paragraphStarts', new List(new Field('start', new Bool(), false)), false),
]);

const encoder = new TextEncoder();

function utf8Data(strings: readonly string[]): Data<Utf8> {
  // Encoded straight into one buffer: a Uint8Array per string cost more than the text itself.
  const offsets = new Int32Array(strings.length + 1);
  let total = 0;
  strings.forEach((s, i) => {
    total += Buffer.byteLength(s, 'utf8');
    offsets[i + 1] = total;
  });
  const data = new Uint8Array(total);
  strings.forEach((s, i) => encoder.encodeInto(s, data.subarray(offsets[i]!, offsets[i + 1]!)));
  return makeData({ type: new Utf8(), length: strings.length, valueOffsets: offsets, data });
}

function listData<T extends Data>(type: List, child: T, counts: readonly number[]): Data<List> {
  const offsets = new Int32Array(counts.length + 1);
  counts.forEach((c, i) => (offsets[i + 1] = offsets[i]! + c));
  return makeData({ type, length: counts.length, valueOffsets: offsets, child });
}

/** One record batch holding `docs`. */
export function documentsToBatch(docs: readonly DatasetDocument[]): RecordBatch {
  const fields = documentSchema.fields;
  const sentencesType = fields[1]!.type as List;
  const sentenceType = sentencesType.children[0]!.type as List;
  const textsType = fields[2]!.type as List;
  const startsType = fields[3]!.type as List;

  const allSentences = docs.flatMap((d) => d.sentences);
  let tokenCount = 0;
  for (const s of allSentences) tokenCount += s.length;
  const tokens = new Int32Array(tokenCount);
  let at = 0;
  for (const s of allSentences) {
    tokens.set(s, at);
    at += s.length;
  }
  const tokenData = makeData({ type: new Int32(), length: tokenCount, data: tokens });
  const sentenceData = listData(sentenceType, tokenData, allSentences.map((s) => s.length));
  const starts = docs.flatMap((d) => d.paragraphStarts);
  const bits = new Uint8Array(Math.ceil(starts.length / 8));
  starts.forEach((b, i) => {
    if (b) bits[i >> 3]! |= 1 << (i & 7);
  });
  const startData = makeData({ type: new Bool(), length: starts.length, data: bits });
  const counts = docs.map((d) => d.sentences.length);
  for (const d of docs) {
    if (d.texts.length !== d.sentences.length || d.paragraphStarts.length !== d.sentences.length) {
      throw new Error(`document ${d.id}: sentences, texts and paragraphStarts differ in length`);
    }
  }
  const children = [
    utf8Data(docs.map((d) => d.id)),
    listData(sentencesType, sentenceData, counts),
    listData(textsType, utf8Data(docs.flatMap((d) => d.texts)), counts),
    listData(startsType, startData, counts),
  ];
  const struct = makeData({ type: new Struct(documentSchema.fields), length: docs.length, children, nullCount: 0 });
  return new RecordBatch(documentSchema, struct);
}

/** The documents of one record batch (token arrays are copies, not views into Arrow memory). */
export function batchToDocuments(batch: RecordBatch): DatasetDocument[] {
  if (batch.numRows === 0) return [];
  const col = (name: string): Data => {
    const v = batch.getChild(name);
    if (!v || v.data.length !== 1) throw new DataError(`not a sentencelab dataset file (column ${name} is missing)`);
    return v.data[0]!;
  };
  const ids = col('docId');
  const sentences = col('sentences');
  const texts = col('texts');
  const starts = col('paragraphStarts');
  const decoder = new TextDecoder();
  const str = (d: Data, i: number): string => {
    const o = d.valueOffsets as Int32Array;
    const k = d.offset + i;
    return decoder.decode((d.values as Uint8Array).subarray(o[k]!, o[k + 1]!));
  };
  // Offsets: doc -> sentence range, sentence -> token range.
  const docOff = sentences.valueOffsets as Int32Array;
  const sentData = sentences.children[0]!;
  const sentOff = sentData.valueOffsets as Int32Array;
  const tokData = sentData.children[0]!;
  const tokens = tokData.values as Int32Array;
  const textOff = texts.valueOffsets as Int32Array;
  const textData = texts.children[0]!;
  const startOff = starts.valueOffsets as Int32Array;
  const startData = starts.children[0]!;
  const bits = startData.values as Uint8Array;
  const out: DatasetDocument[] = [];
  for (let i = 0; i < batch.numRows; i++) {
    const d = sentences.offset + i;
    const sents: Int32Array[] = [];
    const txt: string[] = [];
    const ps: boolean[] = [];
    const n = docOff[d + 1]! - docOff[d]!;
    const t0 = textOff[texts.offset + i]!;
    const p0 = startOff[starts.offset + i]!;
    for (let k = 0; k < n; k++) {
      const s = sentData.offset + docOff[d]! + k;
      sents.push(tokens.slice(tokData.offset + sentOff[s]!, tokData.offset + sentOff[s + 1]!));
      txt.push(str(textData, t0 + k));
      const bit = startData.offset + p0 + k;
      ps.push(((bits[bit >> 3]! >> (bit & 7)) & 1) === 1);
    }
    out.push({ id: str(ids, i), sentences: sents, texts: txt, paragraphStarts: ps });
  }
  return out;
}

/** Writes record batches to an Arrow IPC file as they come (bounded memory). */
export class DocumentFileWriter {
  private readonly writer = new RecordBatchFileWriter();
  private readonly out: WriteStream;
  private readonly done: Promise<unknown>;
  rows = 0;

  constructor(readonly file: string) {
    this.out = createWriteStream(file);
    const stream = this.writer.toNodeStream();
    stream.pipe(this.out);
    this.done = once(this.out, 'finish');
    this.writer.reset(undefined, documentSchema);
  }

  async write(docs: readonly DatasetDocument[]): Promise<void> {
    if (docs.length === 0) return;
    this.writer.write(documentsToBatch(docs));
    this.rows += docs.length;
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    this.writer.finish();
    await this.done;
  }
}

/** Streams the record batches of an Arrow IPC file as documents. */
export async function* readDocumentFile(file: string): AsyncGenerator<DatasetDocument[]> {
  const fail = (e: unknown): DataError =>
    new DataError(`${file}: not a readable sentencelab Arrow file (${e instanceof DataError ? e.message : (e as Error).message})`, file);
  let reader;
  try {
    reader = await RecordBatchReader.from(createReadStream(file));
  } catch (e) {
    throw fail(e);
  }
  const batches = reader[Symbol.asyncIterator]();
  for (;;) {
    let docs: DatasetDocument[];
    try {
      const next = await batches.next();
      if (next.done) return;
      docs = batchToDocuments(next.value);
    } catch (e) {
      throw fail(e);
    }
    if (docs.length > 0) yield docs;
  }
}
