import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, describe, expect, test } from 'vitest';
import { DocumentFileWriter, readDocumentFile } from './arrow.js';
import type { DatasetDocument } from './document.js';
import { removeTempDirs, tempDir } from './test-support/fixtures.js';

afterAll(removeTempDirs);

function doc(id: string, sentences: number[][], texts?: string[]): DatasetDocument {
  return {
    id,
    sentences: sentences.map((s) => Int32Array.from(s)),
    texts: texts ?? sentences.map((s) => s.join(' ')),
    paragraphStarts: sentences.map((_, i) => i % 3 === 0),
  };
}

describe('Arrow IPC files', () => {
  test('documents round-trip through several record batches, exactly', async () => {
    const docs = [
      doc('a', [[1, 2, 3], [4], [5, 6, 7, 8, 9, 10]]),
      doc('bé 好', [[2_000_000_000, 0, -1]], ['Ünïcödé 文本 😀']),
      doc('empty', []),
      ...Array.from({ length: 20 }, (_, i) => doc(`d${i}`, Array.from({ length: i % 7 }, (_, k) => Array.from({ length: k + 1 }, (_, j) => i * 100 + k * 10 + j)))),
    ];
    const file = join(tempDir(), 'x.arrow');
    const w = new DocumentFileWriter(file);
    await w.write(docs.slice(0, 2));
    await w.write(docs.slice(2, 9));
    await w.write([]);
    await w.write(docs.slice(9));
    await w.close();
    expect(w.rows).toBe(docs.length);

    const batches: DatasetDocument[][] = [];
    for await (const b of readDocumentFile(file)) batches.push(b);
    expect(batches.map((b) => b.length)).toEqual([2, 7, docs.length - 9]);
    expect(batches.flat()).toEqual(docs);

    // A standard Arrow reader sees the documented schema.
    const table = tableFromIPC(readFileSync(file));
    expect(table.numRows).toBe(docs.length);
    expect(table.schema.fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual([
      'docId: Utf8',
      'sentences: List<List<Int32>>',
      'texts: List<Utf8>',
      'paragraphStarts: List<Bool>',
    ]);
  });

  test('a file without documents reads as no batches', async () => {
    const file = join(tempDir(), 'empty.arrow');
    const w = new DocumentFileWriter(file);
    await w.write([]);
    await w.close();
    const batches: DatasetDocument[][] = [];
    for await (const b of readDocumentFile(file)) batches.push(b);
    expect(batches).toEqual([]);
  });

  test('a file that is not Arrow fails naming it', async () => {
    const d = tempDir({ 'bad.arrow': 'not arrow at all' });
    await expect(
      (async () => {
        for await (const b of readDocumentFile(join(d, 'bad.arrow'))) void b;
      })(),
    ).rejects.toThrow(/bad\.arrow/);
  });
});
