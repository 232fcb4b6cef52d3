import { describe, expect, test } from 'vitest';
import { documentTokenStream, documentWindows, sentenceBatches, streamTokenWindows, tokenWindows } from './batching.js';
import type { DatasetDocument } from './document.js';

const ids = { pad: 0, bos: 1, eos: 2 };

/** Document i has i % 9 + 1 sentences; sentence k of doc i is [100*i + k + 10, ...] of length k % 5 + 1. */
function docs(n: number): DatasetDocument[] {
  return Array.from({ length: n }, (_, i) => {
    const sentences = Array.from({ length: (i % 9) + 1 }, (_, k) => Int32Array.from({ length: (k % 5) + 1 }, (_, j) => 100 * i + 10 * k + j + 10));
    return { id: `doc${i}`, sentences, texts: sentences.map((s) => s.join(',')), paragraphStarts: sentences.map((_, k) => k % 4 === 0) };
  });
}

describe('token windows', () => {
  test('a document stream is BOS, then each sentence followed by EOS', () => {
    const d = docs(3)[2]!;
    expect([...documentTokenStream(d, ids)]).toEqual([1, 210, 2, 220, 221, 2, 230, 231, 232, 2]);
  });

  test('shapes, shifted targets, masks: every token after the first is a target exactly once', () => {
    const data = docs(13);
    const seqLen = 8;
    const stream = data.flatMap((d) => [...documentTokenStream(d, ids)]);
    const batches = [...tokenWindows(data, ids, { seqLen, batchSize: 4, shuffle: false })];
    const windows = Math.ceil((stream.length - 1) / seqLen);
    expect(batches.map((b) => b.shape)).toEqual(
      Array.from({ length: Math.ceil(windows / 4) }, (_, i) => [Math.min(4, windows - 4 * i), seqLen]),
    );
    const inputs: number[] = [];
    const targets: number[] = [];
    let masked = 0;
    for (const b of batches) {
      expect(b.input.length).toBe(b.shape[0] * seqLen);
      for (let i = 0; i < b.input.length; i++) {
        if (b.input[i] === ids.pad && b.target[i] === ids.pad) continue; // tail padding
        inputs.push(b.input[i]!);
        targets.push(b.target[i]!);
        if (b.mask[i] === 1) expect(b.target[i]).not.toBe(ids.bos);
        else masked++;
      }
    }
    expect(inputs).toEqual(stream.slice(0, -1));
    expect(targets).toEqual(stream.slice(1));
    expect(masked).toBe(data.length - 1); // the BOS of every document but the first
    const maskSum = batches.reduce((a, b) => a + b.mask.reduce((x, y) => x + y, 0), 0);
    expect(maskSum).toBe(stream.length - data.length);
  });

  test('shuffling is fixed by seed and epoch, and changes with them', () => {
    const data = docs(30);
    const run = (seed: number, epoch: number) => [...tokenWindows(data, ids, { seqLen: 16, batchSize: 3, seed, epoch })].map((b) => [...b.input]);
    expect(run(1, 0)).toEqual(run(1, 0));
    expect(run(1, 1)).not.toEqual(run(1, 0));
    expect(run(2, 0)).not.toEqual(run(1, 0));
    expect(run(1, 1).flat().sort()).toEqual(run(1, 0).flat().sort());
  });

  test('streamed windows (bounded memory) equal the in-memory ones, for any seqLen and batch size', async () => {
    for (const [n, seqLen, batchSize] of [
      [13, 8, 4],
      [7, 1, 3],
      [20, 50, 2],
      [3, 200, 5],
      [9, 9, 1],
    ] as const) {
      const data = docs(n);
      async function* stream() {
        for (const d of data) yield d;
      }
      const want = [...tokenWindows(data, ids, { seqLen, batchSize, shuffle: false })];
      const got: typeof want = [];
      for await (const b of streamTokenWindows(stream(), ids, { seqLen, batchSize })) got.push(b);
      expect(got).toEqual(want);
    }
  });

  test('dropLast drops a short last batch', () => {
    const n = [...tokenWindows(docs(5), ids, { seqLen: 4, batchSize: 4, shuffle: false })];
    const dropped = [...tokenWindows(docs(5), ids, { seqLen: 4, batchSize: 4, shuffle: false, dropLast: true })];
    expect(n.at(-1)!.shape[0]).toBeLessThan(4);
    expect(dropped).toHaveLength(n.length - 1);
  });
});

describe('sentence batches', () => {
  test('overlap 1: each later window starts with the last sentence of the one before', () => {
    const data = docs(20);
    expect(documentWindows(data, 4, 1).filter((w) => w.doc.id === 'doc8').map((w) => [w.start, w.end])).toEqual([
      [0, 4],
      [3, 7],
      [6, 9],
    ]);
    // Every sentence after a document's first is a non-first slot of exactly one window.
    for (const d of data) {
      const targets = documentWindows([d], 4, 1).flatMap((w) => Array.from({ length: w.end - w.start - 1 }, (_, i) => w.start + 1 + i));
      expect(targets).toEqual(Array.from({ length: Math.max(0, d.sentences.length - 1) }, (_, i) => i + 1));
    }
    expect(() => documentWindows(data, 4, 4)).toThrow('overlap must be an integer in 0..maxSentences - 1 = 3 (got 4)');
  });

  test('documents longer than maxSentences become consecutive windows, nothing lost', () => {
    const data = docs(20);
    const windows = documentWindows(data, 4);
    expect(windows.filter((w) => w.doc.id === 'doc8').map((w) => [w.start, w.end])).toEqual([
      [0, 4],
      [4, 8],
      [8, 9],
    ]);
    const S = 4;
    const L = 5;
    const seen = new Map<string, string[]>();
    for (const b of sentenceBatches(data, ids.pad, { batchSize: 3, maxSentences: S, maxTokens: L, seed: 3 })) {
      const [B] = b.shape;
      expect(b.shape).toEqual([B, S, L]);
      expect(b.tokens.length).toBe(B * S * L);
      expect(b.lengths.length).toBe(B * S);
      for (let r = 0; r < B; r++) {
        const doc = data.find((d) => d.id === b.docIds[r])!;
        expect(b.docSentences[r]).toBe(doc.sentences.length);
        for (let s = 0; s < S; s++) {
          const len = b.lengths[r * S + s]!;
          const row = [...b.tokens.subarray((r * S + s) * L, (r * S + s + 1) * L)];
          expect(row.slice(len).every((t) => t === ids.pad)).toBe(true);
          const k = b.windowStart[r]! + s;
          if (len === 0) {
            expect(k).toBeGreaterThanOrEqual(Math.min(doc.sentences.length, b.windowStart[r]! + S));
            continue;
          }
          expect(row.slice(0, len)).toEqual([...doc.sentences[k]!]);
          expect(b.paragraphStarts[r * S + s]).toBe(doc.paragraphStarts[k] ? 1 : 0);
          const list = seen.get(doc.id) ?? [];
          list[k] = row.slice(0, len).join(',');
          seen.set(doc.id, list);
        }
      }
    }
    for (const d of data) expect(seen.get(d.id)).toEqual(d.sentences.map((s) => [...s].join(',')));
  });

  test('deterministic from seed and epoch', () => {
    const run = (seed: number, epoch: number) =>
      [...sentenceBatches(docs(25), 0, { batchSize: 4, maxSentences: 3, maxTokens: 5, seed, epoch })].map((b) => b.docIds.join(' '));
    expect(run(5, 2)).toEqual(run(5, 2));
    expect(run(5, 3)).not.toEqual(run(5, 2));
  });

  test('a sentence longer than maxTokens is an error, never truncated', () => {
    expect(() => [...sentenceBatches(docs(3), 0, { batchSize: 2, maxSentences: 8, maxTokens: 2, shuffle: false })]).toThrow(
      'document doc2, sentence 2: 3 tokens, more than maxTokens 2',
    );
  });
});
