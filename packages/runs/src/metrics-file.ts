import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, ftruncateSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  Field,
  Float64,
  Int32,
  Message,
  MessageHeader,
  RecordBatch,
  RecordBatchReader,
  Schema,
  Struct,
  Table,
  Utf8,
  makeData,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { writeAll, writeFileAtomic } from '@sentencelab/fs-atomic';
import { RunFormatError } from './errors.js';

/**
 * metrics.arrow is an Arrow IPC *stream*: one schema message, then one record batch per
 * flush, appended and fsynced. No end-of-stream marker is written, so appending never rewrites
 * earlier bytes; a crash mid-append leaves a truncated last message, which readers skip.
 *
 * Columns: step int32, wallTime float64 (seconds since the run started), name utf8, value float64.
 */
export const metricsSchema = new Schema([
  new Field('step', new Int32(), false),
  new Field('wallTime', new Float64(), false),
  new Field('name', new Utf8(), false),
  new Field('value', new Float64(), false),
]);

/** Long-format metric rows, one per (step, name). */
export interface MetricColumns {
  step: Int32Array;
  wallTime: Float64Array;
  name: string[];
  value: Float64Array;
}

export interface MetricRow {
  step: number;
  wallTime: number;
  name: string;
  value: number;
}

const EOS_BYTES = 8;
const schemaBytes: Uint8Array = (() => {
  const empty = tableToIPC(new Table(metricsSchema), 'stream');
  return empty.slice(0, empty.length - EOS_BYTES);
})();

/** The bytes of one record batch message (no schema, no end-of-stream marker). */
export function encodeBatch(rows: readonly MetricRow[]): Uint8Array {
  const n = rows.length;
  const children = [
    makeData({ type: new Int32(), length: n, data: Int32Array.from(rows, (r) => r.step) }),
    makeData({ type: new Float64(), length: n, data: Float64Array.from(rows, (r) => r.wallTime) }),
    vectorFromArray(
      rows.map((r) => r.name),
      new Utf8(),
    ).data[0]!,
    makeData({ type: new Float64(), length: n, data: Float64Array.from(rows, (r) => r.value) }),
  ];
  const batch = new RecordBatch(
    metricsSchema,
    makeData({ type: new Struct(metricsSchema.fields), length: n, nullCount: 0, children }),
  );
  const stream = tableToIPC(new Table([batch]), 'stream');
  return stream.subarray(schemaBytes.length, stream.length - EOS_BYTES);
}

/** Creates an empty metrics file (schema only) atomically. */
export function createMetricsFile(file: string): void {
  writeFileAtomic(file, schemaBytes);
}

/**
 * Appends one record batch and fsyncs; does nothing for zero rows. A failed append (disk full)
 * is cut off again, so the file keeps only whole batches, and the error names the file.
 */
export function appendMetrics(file: string, rows: readonly MetricRow[]): void {
  if (rows.length === 0) return;
  const bytes = encodeBatch(rows);
  const fd = openSync(file, 'a');
  try {
    const before = fstatSync(fd).size;
    try {
      writeAll({ writeSync }, fd, bytes, file);
    } catch (error) {
      ftruncateSync(fd, before);
      throw error;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Walks the IPC messages and returns how many leading bytes form complete messages.
 * Stops at the first message whose header or body does not fit (a crash-truncated tail).
 */
export function validPrefixLength(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  let sawSchema = false;
  while (offset + 8 <= bytes.length) {
    if (view.getUint32(offset, true) !== 0xffffffff) break;
    const metaLength = view.getInt32(offset + 4, true);
    if (metaLength <= 0 || offset + 8 + metaLength > bytes.length) break;
    let message: Message;
    try {
      message = Message.decode(bytes.subarray(offset + 8, offset + 8 + metaLength));
    } catch {
      break;
    }
    const isSchema = message.headerType === MessageHeader.Schema;
    if (isSchema !== !sawSchema) break;
    sawSchema = true;
    const end = offset + 8 + metaLength + Number(message.bodyLength);
    if (end > bytes.length) break;
    offset = end;
  }
  return sawSchema ? offset : 0;
}

export interface MetricsFileContent {
  columns: MetricColumns;
  /** Bytes after the last complete message (a crash-truncated tail); 0 for a clean file. */
  truncatedBytes: number;
}

/** Decodes the complete part of a metrics file's bytes. */
export function decodeMetrics(bytes: Uint8Array, file: string): MetricsFileContent {
  const valid = validPrefixLength(bytes);
  if (valid === 0) {
    if (bytes.length === 0) return { columns: emptyColumns(), truncatedBytes: 0 };
    throw new RunFormatError(file, 'not an Arrow IPC stream (no readable schema message)');
  }
  const table = new Table(RecordBatchReader.from(bytes.subarray(0, valid)));
  const names = table.schema.fields.map((f) => `${f.name}:${f.type}`).join(',');
  const expected = metricsSchema.fields.map((f) => `${f.name}:${f.type}`).join(',');
  if (names !== expected) throw new RunFormatError(file, `unexpected columns ${names}, expected ${expected}`);
  const n = table.numRows;
  const nameColumn = table.getChild('name')!;
  const name: string[] = new Array<string>(n);
  let i = 0;
  for (const value of nameColumn) name[i++] = value as string;
  return {
    columns: {
      step: Int32Array.from(table.getChild('step')!.toArray() as Int32Array),
      wallTime: Float64Array.from(table.getChild('wallTime')!.toArray() as Float64Array),
      name,
      value: Float64Array.from(table.getChild('value')!.toArray() as Float64Array),
    },
    truncatedBytes: bytes.length - valid,
  };
}

export function emptyColumns(): MetricColumns {
  return { step: new Int32Array(0), wallTime: new Float64Array(0), name: [], value: new Float64Array(0) };
}

export function readMetricsFileSync(file: string): MetricsFileContent {
  if (!existsSync(file)) return { columns: emptyColumns(), truncatedBytes: 0 };
  return decodeMetrics(readFileSync(file), file);
}

export async function readMetricsFile(file: string): Promise<MetricsFileContent> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { columns: emptyColumns(), truncatedBytes: 0 };
    throw error;
  }
  return decodeMetrics(bytes, file);
}

/** Cuts a crash-truncated tail off so that later appends follow a complete message. */
export function repairMetricsFile(file: string): number {
  if (!existsSync(file)) {
    createMetricsFile(file);
    return 0;
  }
  const bytes = readFileSync(file);
  const valid = validPrefixLength(bytes);
  if (valid === 0) {
    throw new RunFormatError(file, 'not an Arrow IPC stream (no readable schema message); cannot resume');
  }
  if (valid === bytes.length) return 0;
  const fd = openSync(file, 'r+');
  try {
    ftruncateSync(fd, valid);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return bytes.length - valid;
}

/** Rewrites the file atomically with only the given rows. */
export function rewriteMetricsFile(file: string, rows: readonly MetricRow[]): void {
  const batch = rows.length > 0 ? encodeBatch(rows) : new Uint8Array(0);
  const out = new Uint8Array(schemaBytes.length + batch.length);
  out.set(schemaBytes, 0);
  out.set(batch, schemaBytes.length);
  writeFileAtomic(file, out);
}

export function columnsToRows(columns: MetricColumns): MetricRow[] {
  return columns.name.map((name, i) => ({
    step: columns.step[i]!,
    wallTime: columns.wallTime[i]!,
    name,
    value: columns.value[i]!,
  }));
}
