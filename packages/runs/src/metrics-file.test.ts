import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import {
  appendMetrics,
  createMetricsFile,
  decodeMetrics,
  encodeBatch,
  readMetricsFileSync,
  repairMetricsFile,
  validPrefixLength,
  type MetricRow,
} from './metrics-file.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runs-metrics-'));
  file = join(dir, 'metrics.arrow');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const rows = (from: number, n: number): MetricRow[] =>
  Array.from({ length: n }, (_, i) => ({ step: from + i, wallTime: (from + i) * 0.25, name: i % 2 ? 'lr' : 'loss', value: 1 / (from + i + 1) }));

describe('metrics.arrow', () => {
  it('is a standard Arrow IPC stream that apache-arrow reads as a table', () => {
    createMetricsFile(file);
    appendMetrics(file, rows(0, 4));
    appendMetrics(file, rows(4, 4));
    const table = tableFromIPC(readFileSync(file));
    expect(table.numRows).toBe(8);
    expect(table.schema.fields.map((f) => String(f.type))).toEqual(['Int32', 'Float64', 'Utf8', 'Float64']);
    expect(Array.from(table.getChild('step')!.toArray() as Int32Array)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('reads every complete batch of a file cut at any byte of its last batch', () => {
    createMetricsFile(file);
    appendMetrics(file, rows(0, 3));
    appendMetrics(file, rows(3, 3));
    const full = readFileSync(file);
    const lastBatch = encodeBatch(rows(3, 3)).length;
    const cleanLength = full.length - lastBatch;
    for (let cut = 1; cut < lastBatch; cut += 7) {
      const content = decodeMetrics(full.subarray(0, full.length - cut), file);
      expect(Array.from(content.columns.step)).toEqual([0, 1, 2]);
      expect(content.truncatedBytes).toBe(lastBatch - cut);
    }
    expect(validPrefixLength(full)).toBe(full.length);
    expect(validPrefixLength(full.subarray(0, cleanLength + 5))).toBe(cleanLength);
  });

  it('treats a zero-filled tail (a crash on some filesystems) as truncated', () => {
    createMetricsFile(file);
    appendMetrics(file, rows(0, 2));
    appendFileSync(file, new Uint8Array(64));
    const content = readMetricsFileSync(file);
    expect(content.columns.name).toEqual(['loss', 'lr']);
    expect(content.truncatedBytes).toBe(64);
  });

  it('repair cuts the broken tail so later appends stay readable', () => {
    createMetricsFile(file);
    appendMetrics(file, rows(0, 2));
    const good = statSync(file).size;
    appendMetrics(file, rows(2, 2));
    truncateSync(file, statSync(file).size - 10);
    expect(repairMetricsFile(file)).toBeGreaterThan(0);
    expect(statSync(file).size).toBe(good);
    appendMetrics(file, rows(10, 1));
    expect(Array.from(readMetricsFileSync(file).columns.step)).toEqual([0, 1, 10]);
  });

  it('names the file when it is not Arrow at all', () => {
    writeFileSync(file, 'step,value\n1,2\n');
    expect(() => readMetricsFileSync(file)).toThrow(`${file}: not an Arrow IPC stream`);
  });
});
