import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MAX_EMBEDDING_SENTENCES, readEmbeddings, writeEmbeddings } from './embeddings.js';
import { validateRun } from './validate.js';

const doc = (id: string, n: number, dim = 3) => ({ id, sentences: Array.from({ length: n }, (_, i) => ({ text: `${id} sentence ${i}.`, vector: Array.from({ length: dim }, (_, k) => i + k / 3) })) });

describe('embeddings.json', () => {
  test('round-trips through the atomic writer, numbers at 4 significant digits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runs-emb-'));
    const written = writeEmbeddings(dir, {
      formatVersion: 1,
      source: 'concept-head',
      step: 40,
      dim: 3,
      documents: [doc('a', 2), doc('b', 3)],
      predictions: [{ document: 1, sentence: 2, vector: [0.123456, -7.654321, 12345.6] }],
    });
    expect(written.predictions[0]!.vector).toEqual([0.1235, -7.654, 12350]);
    expect(written.documents[0]!.sentences[1]!.vector).toEqual([1, 1.333, 1.667]);
    expect(await readEmbeddings(dir)).toEqual(written);
    // one line of compact JSON
    expect(readFileSync(join(dir, 'embeddings.json'), 'utf8').split('\n')).toHaveLength(2);
  });

  test('a run without the file has none; a malformed one is an error naming the file and key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runs-emb-'));
    expect(await readEmbeddings(dir)).toBeUndefined();
    writeFileSync(join(dir, 'embeddings.json'), JSON.stringify({ formatVersion: 1, source: 'svae', step: 1, dim: 2, documents: [{ id: 'a', sentences: [{ text: 'x', vector: [1] }] }] }));
    await expect(readEmbeddings(dir)).rejects.toThrow(/embeddings\.json: documents\.0\.sentences\.0\.vector: length 1, dim is 2/);
    expect((await validateRun(dir)).some((p) => p.includes('embeddings.json: documents.0.sentences.0.vector'))).toBe(true);
  });

  test('refuses more sentences than the bound and predictions of sentences it does not hold', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runs-emb-'));
    const base = { formatVersion: 1 as const, source: 'svae' as const, step: 0, dim: 3 };
    expect(() => writeEmbeddings(dir, { ...base, documents: [doc('a', MAX_EMBEDDING_SENTENCES + 1)] })).toThrow(`documents: ${MAX_EMBEDDING_SENTENCES + 1} sentences, at most ${MAX_EMBEDDING_SENTENCES}`);
    expect(() => writeEmbeddings(dir, { ...base, documents: [doc('a', 2)], predictions: [{ document: 0, sentence: 2, vector: [1, 2, 3] }] })).toThrow('predictions.0: document 0 sentence 2 is not in documents');
  });
});
