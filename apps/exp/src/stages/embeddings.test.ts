import type { DatasetDocument } from '@sentencelab/data';
import { embeddingsSchema, MAX_EMBEDDING_SENTENCES } from '@sentencelab/runs';
import { SentenceVAE, vectorRows } from '@sentencelab/sentence-vae';
import { initBackend, Rng, type BackendChoice } from '@sentencelab/tensor';
import { webgpuAvailability } from '@sentencelab/tensor/testing';
import { describe, expect, test } from 'vitest';
import { embedDocuments, embedPosteriors, GPU_LENGTH_MULTIPLE, headEmbeddings } from './embeddings.js';

/** A document of `n` sentences whose vector i is [doc, i]. */
function doc(d: number, n: number): { doc: DatasetDocument; vectors: Float32Array[] } {
  return {
    doc: { id: `doc${d}`, sentences: Array.from({ length: n }, () => Int32Array.from([1])), texts: Array.from({ length: n }, (_, i) => `doc ${d} sentence ${i}.`), paragraphStarts: Array.from({ length: n }, (_, i) => i === 0) },
    vectors: Array.from({ length: n }, (_, i) => Float32Array.from([d, i])),
  };
}

/** Teacher-forced predictions as evaluateHead collects them: each document's sentences 1..n-1, in order. */
function predictionsOf(docs: Float32Array[][]) {
  const predictions: Float32Array[] = [];
  const targets: Float32Array[] = [];
  const docOf: number[] = [];
  docs.forEach((vs, d) =>
    vs.slice(1).forEach((t) => {
      predictions.push(Float32Array.from([t[0]! + 0.5, t[1]! + 0.5]));
      targets.push(t);
      docOf.push(d);
    }),
  );
  return { predictions, targets, docOf };
}

describe('headEmbeddings', () => {
  test('pairs each prediction with its true next sentence and keeps the first sentences of every document up to the bound', () => {
    const docs = [doc(0, 200), doc(1, 100)];
    const vectors = docs.map((d) => d.vectors);
    const e = embeddingsSchema.parse(headEmbeddings(docs.map((d) => d.doc), vectors, predictionsOf(vectors), 7));
    // An equal share (128) each; the second document's unused 28 go to the first.
    expect(e.documents.map((d) => d.sentences.length)).toEqual([MAX_EMBEDDING_SENTENCES - 100, 100]);
    expect(e.documents[1]!.sentences[3]).toEqual({ text: 'doc 1 sentence 3.', vector: [1, 3] });
    // Predictions of kept sentences only: 155 of the first document, 99 of the second.
    expect(e.predictions).toHaveLength(155 + 99);
    for (const p of e.predictions) {
      const truth = e.documents[p.document]!.sentences[p.sentence]!.vector;
      expect(p.vector).toEqual([truth[0]! + 0.5, truth[1]! + 0.5]);
    }
    expect(e.step).toBe(7);
  });

  test('a prediction whose target is not the next sentence in order is an error', () => {
    const docs = [doc(0, 3)];
    const vectors = docs.map((d) => d.vectors);
    const p = predictionsOf(vectors);
    p.targets.reverse();
    expect(() => headEmbeddings(docs.map((d) => d.doc), vectors, p, 1)).toThrow('prediction 0: its target is not sentence 1 of test document 0');
  });
});

describe('embedDocuments', () => {
  // Documents whose sentences run from 1 to 12 tokens in no order, 600 in all: the length-sorted
  // batches of 256 mix documents and cut across them.
  const rng = new Rng(3);
  const docs: DatasetDocument[] = [170, 1, 300, 129].map((n, d) => ({
    id: `d${d}`,
    sentences: Array.from({ length: n }, () => Int32Array.from({ length: 1 + rng.int(12) }, () => 4 + rng.int(20))),
    texts: Array.from({ length: n }, () => ''),
    paragraphStarts: Array.from({ length: n }, (_, i) => i === 0),
  }));

  for (const backend of ['cpu', 'native'] as BackendChoice[]) {
    test(`each sentence's vector, in document order, equal to encoding it alone (${backend})`, async (t) => {
      const failed = await initBackend(backend, { log: false }).then(() => undefined, (e: Error) => e.message.split('\n')[0]);
      if (failed) t.skip(failed);
      const svae = new SentenceVAE({ vocabSize: 24, dModel: 16, maxTokens: 12, encoder: { layers: 1, heads: 2, dropout: 0 }, decoder: { layers: 1, heads: 2, dropout: 0 }, seed: 5 });
      try {
        const vectors = await embedDocuments(svae, docs);
        expect(vectors.map((v) => v.length)).toEqual([170, 1, 300, 129]);
        for (const [d, doc] of docs.entries()) {
          // A sample of each document (all of the short ones), each sentence in a batch of its own: no padding at all.
          for (const i of [0, 1, 2, doc.sentences.length - 1].filter((i, k, a) => i >= 0 && i < doc.sentences.length && a.indexOf(i) === k)) {
            const [alone] = await vectorRows(svae.encode([Array.from(doc.sentences[i]!)]));
            // Equal to float rounding: the native kernels may sum padded rows in another order.
            const diff = Math.max(...Array.from(alone!, (x, k) => Math.abs(x - vectors[d]![i]![k]!)));
            expect(diff, `document ${d} sentence ${i}`).toBeLessThan(1e-5);
          }
        }
      } finally {
        svae.dispose();
      }
    });
  }

  test('padded to a multiple of 8 tokens (what webgpu does) the vectors are the same, and the batches have 2 widths instead of 3', async () => {
    await initBackend('cpu', { log: false });
    const svae = new SentenceVAE({ vocabSize: 24, dModel: 16, maxTokens: 16, encoder: { layers: 1, heads: 2, dropout: 0 }, decoder: { layers: 1, heads: 2, dropout: 0 }, seed: 5 });
    const widths = new Set<number>();
    const encode = svae.encode.bind(svae);
    svae.encode = (input) => {
      widths.add((input as { maxLen: number }).maxLen);
      return encode(input);
    };
    try {
      // 50 sentences of each length 1..12: batches of 256 up to 6, 11 and 12 tokens wide, padded 8, 16 and 16.
      const small = [{ ...docs[0]!, sentences: Array.from({ length: 600 }, (_, i) => Int32Array.from({ length: 1 + Math.floor(i / 50) }, () => 5)) }];
      small[0]!.texts = small[0]!.sentences.map(() => '');
      const plain = await embedDocuments(svae, small, { lengthMultiple: 1 });
      expect([...widths].sort((a, b) => a - b)).toEqual([6, 11, 12]);
      widths.clear();
      const padded = await embedDocuments(svae, small, { lengthMultiple: 8 });
      expect([...widths].sort((a, b) => a - b)).toEqual([8, 16]);
      const diff = Math.max(...plain[0]!.flatMap((v, i) => Array.from(v, (x, k) => Math.abs(x - padded[0]![i]![k]!))));
      expect(diff).toBeLessThan(1e-6);
      // By default only webgpu pads (where an adapter exists; lavapipe in CI).
      widths.clear();
      await embedDocuments(svae, small);
      expect([...widths].sort((a, b) => a - b)).toEqual([6, 11, 12]);
      if ((await webgpuAvailability()).ok) {
        await initBackend('webgpu', { log: false });
        widths.clear();
        const onGpu = await embedDocuments(svae, small);
        expect([...widths].every((w) => w % GPU_LENGTH_MULTIPLE === 0)).toBe(true);
        expect(Math.max(...plain[0]!.flatMap((v, i) => Array.from(v, (x, k) => Math.abs(x - onGpu[0]![i]![k]!))))).toBeLessThan(1e-4);
      }
    } finally {
      svae.dispose();
      await initBackend('cpu', { log: false });
    }
  }, 60_000);

  test('embedPosteriors: means equal to embedDocuments\' vectors, stds exp(logVar / 2) of each sentence encoded alone', async () => {
    await initBackend('cpu', { log: false });
    const svae = new SentenceVAE({ vocabSize: 24, dModel: 16, maxTokens: 12, variational: true, encoder: { layers: 1, heads: 2, dropout: 0 }, decoder: { layers: 1, heads: 2, dropout: 0 }, seed: 5 });
    try {
      const { means, stds } = await embedPosteriors(svae, docs);
      expect(means).toEqual(await embedDocuments(svae, docs));
      expect(stds.map((v) => v.length)).toEqual([170, 1, 300, 129]);
      for (const [d, i] of [[0, 0], [2, 299], [1, 0]] as const) {
        const { mean, logVar } = svae.posterior([Array.from(docs[d]!.sentences[i]!)]);
        const [lv] = await vectorRows(logVar);
        mean.dispose();
        const diff = Math.max(...Array.from(lv!, (x, k) => Math.abs(Math.exp(x / 2) - stds[d]![i]![k]!)));
        expect(diff, `document ${d} sentence ${i}`).toBeLessThan(1e-5);
      }
      await expect(embedPosteriors(new SentenceVAE({ vocabSize: 24, dModel: 16, maxTokens: 12, encoder: { layers: 1, heads: 2 }, decoder: { layers: 1, heads: 2 } }), docs)).rejects.toThrow(/not variational/);
    } finally {
      svae.dispose();
    }
  });
});
