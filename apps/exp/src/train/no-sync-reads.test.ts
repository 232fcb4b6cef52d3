/**
 * Guard: training, evaluation, checkpoints, scoring and generation never read a tensor
 * synchronously (on webgpu in Node `dataSync()` throws). `tf.engine().readSync`, which
 * dataSync/arraySync/bufferSync go through, throws here; on the cpu backend `await t.data()`
 * does not use it, so exactly the synchronous reads fail. Every model trains one step through
 * the real loop (loss + metrics, gradient clipping, a checkpoint, validation with meanLoss),
 * is saved, scores or predicts, and generates a little: on cpu, and again on webgpu wherever
 * a WebGPU adapter exists (a GPU, or Mesa's lavapipe in CI), which runs the fused kernels too.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BagOfWordsCodec, BaseLcm, collateWindows, disposeBatch, conceptWindows, encodeDocuments, fitConceptSpace, saveConceptHead, TwoTowerLcm, type ConceptBatch, type ConceptModel } from '@sentencelab/concept-heads';
import type { DatasetDocument } from '@sentencelab/data';
import { SLLM, TokenLM, type SllmBatch, type TokenLmBatch } from '@sentencelab/latent-lm';
import { perplexityOverDocuments } from '@sentencelab/metrics';
import { createRun, readMetrics } from '@sentencelab/runs';
import { SentenceVAE, vectorUse } from '@sentencelab/sentence-vae';
import { AdamW, initBackend, type BackendChoice, type NamedParameters } from '@sentencelab/tensor';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { embedDocuments } from '../stages/embeddings.js';
import { readTrainCheckpoint } from './checkpoint.js';
import { meanLoss, saveModel } from './fit.js';
import { trainLoop, type BatchStream, type Trainable, type TrainResult } from './loop.js';
import { webgpuAvailability, withoutSyncReads } from '@sentencelab/tensor/testing';

const root = mkdtempSync(join(tmpdir(), 'exp-nosync-'));
/** Each model's first-step and validation loss on the first backend (cpu), by test name. */
const losses = new Map<string, { loss: number; val: number }>();

/** The same batch again and again (made fresh each time: the loop disposes what it is given). */
function repeat<B>(make: () => B, tokens: number, dispose?: (b: B) => void): BatchStream<B> {
  return { next: make, position: () => null, seek: () => {}, tokens: () => tokens, ...(dispose ? { dispose } : {}) };
}

/** One optimizer step through the real loop, a checkpoint, validation (meanLoss) and saveModel. */
async function trainOneStep<B>(name: string, model: Trainable<B> & { namedParameters(): NamedParameters }, batches: BatchStream<B>, val: B[]): Promise<TrainResult> {
  const backend = tf.getBackend();
  const run = createRun({ root, experiment: 'nosync', runId: `${name}-${backend}`, config: {}, seed: 0, backend, flushIntervalMs: 0 });
  const optimizer = new AdamW(model.namedParameters(), { lr: 1e-3 });
  try {
    const result = await trainLoop({
      model,
      optimizer,
      lrAt: () => 1e-3,
      clipNorm: 1e-3, // small: the clipping branch runs
      batches,
      run,
      steps: 1,
      evalEvery: 0,
      checkpointEvery: 1,
      keepCheckpoints: 1,
      logEvery: 1,
      evaluate: async () => ({ loss: await meanLoss(model, val) }),
    });
    expect(run.latestCheckpoint()?.step).toBe(1);
    // The one (logged) step is kernel-timed where the backend has GPU timestamp queries (webgpu, lavapipe included).
    const kernelMs = (await readMetrics(run.dir)).series['sys/gpu_kernel_ms'];
    if (backend === 'webgpu') expect(kernelMs?.value[0]).toBeGreaterThan(0);
    else expect(kernelMs).toBeUndefined();
    // GPU memory beside it on webgpu: what the backend holds (its pool included) >= what tensors use > 0.
    const series = (await readMetrics(run.dir)).series;
    const [gpu, used] = [series['sys/gpu_mb']?.value[0], series['sys/gpu_used_mb']?.value[0]];
    if (backend === 'webgpu') {
      expect(used).toBeGreaterThan(0);
      expect(gpu).toBeGreaterThanOrEqual(used!);
    } else expect([gpu, used]).toEqual([undefined, undefined]);
    const ck = readTrainCheckpoint(run.latestCheckpoint()!.path);
    tf.dispose([...ck.params.values(), ...ck.optimizer.m.values(), ...ck.optimizer.v.values()]);
    const dir = mkdtempSync(join(root, `${name}-model-`));
    expect(await saveModel(dir, model.parameterMap(), { name }, 1)).toEqual({ model: 'model.safetensors' });
    // The same seeds on every backend: webgpu (fused kernels and all) must train like cpu.
    const reference = losses.get(name);
    if (reference === undefined) losses.set(name, { loss: result.loss, val: result.val['loss']! });
    else {
      expect(result.loss).toBeCloseTo(reference.loss, 3);
      expect(result.val['loss']!).toBeCloseTo(reference.val, 3);
    }
    return result;
  } finally {
    optimizer.dispose();
  }
}

function trainable<B>(m: { parameterMap(): Map<string, tf.Variable>; namedParameters(): NamedParameters; train(on?: boolean): unknown }, loss: Trainable<B>['loss']) {
  return { parameterMap: () => m.parameterMap(), namedParameters: () => m.namedParameters(), train: (on?: boolean) => m.train(on), loss };
}

const docs = [
  [[5, 6, 7], [8, 9], [10, 5, 11]],
  [[9, 8], [7, 6, 5, 4], [11, 3]],
];

/** The documents as a [B, S, L] sentence batch (what the data package's sentenceBatches yield). */
function sentenceBatch(): SllmBatch {
  const S = 4;
  const L = 6;
  const tokens = new Int32Array(docs.length * S * L);
  const lengths = new Int32Array(docs.length * S);
  docs.forEach((d, b) =>
    d.forEach((s, i) => {
      tokens.set(s, (b * S + i) * L);
      lengths[b * S + i] = s.length;
    }),
  );
  return { tokens, lengths, shape: [docs.length, S, L], windowStart: [0, 0], docSentences: [3, 3] };
}

const svaeConfig = { vocabSize: 12, dModel: 16, maxTokens: 6, encoder: { layers: 1, heads: 2, dropout: 0.1 }, decoder: { layers: 1, heads: 2, dropout: 0.1 } };

const webgpu = await webgpuAvailability();
const backends: Array<{ backend: BackendChoice; skip: string | false }> = [
  { backend: 'cpu', skip: false },
  { backend: 'webgpu', skip: webgpu.ok ? false : webgpu.reason },
];

for (const { backend, skip } of backends) describe.skipIf(skip !== false)(`no synchronous reads on the training, evaluation and generation paths: ${backend}${skip === false ? '' : ` (skipped: ${skip})`}`, () => {
  beforeAll(async () => {
    await initBackend(backend, { log: false });
  });
  afterAll(async () => {
    await initBackend('cpu', { log: false });
  });

  test('the guard turns dataSync into an error', async () => {
    const t = tf.scalar(1);
    await withoutSyncReads(async () => expect(() => t.dataSync()).toThrow(/synchronous tensor read/));
    t.dispose();
  });

  test('token LM: train step, checkpoint, validation, scoring, perplexity, generation', async () => {
    const model = new TokenLM({ vocabSize: 12, decoder: { dModel: 16, layers: 1, heads: 2, maxLen: 8, dropout: 0.1 } });
    const [B, T] = [2, 6];
    const window = (): TokenLmBatch => ({
      input: Int32Array.from({ length: B * T }, (_, i) => 3 + (i % 9)),
      target: Int32Array.from({ length: B * T }, (_, i) => 3 + ((i + 1) % 9)),
      mask: new Uint8Array(B * T).fill(1),
      shape: [B, T],
    });
    await withoutSyncReads(async () => {
      const result = await trainOneStep('token-lm', trainable(model, (b: TokenLmBatch) => model.loss(b)), repeat(window, B * T), [window()]);
      expect(Number.isFinite(result.loss) && Number.isFinite(result.val['loss']!)).toBe(true);
      const ppl = await perplexityOverDocuments([{ name: 'token-lm', scorer: model }], docs);
      expect(ppl.models[0]!.tokens).toBe(15);
      const out: number[][] = [];
      // maxTokens past maxLen: the sliding-window rebuild runs too
      for await (const s of model.generate(docs[0]!, { maxSentences: 2, maxTokens: 10, strategy: 'sample', seed: 1 })) out.push(s);
      expect(out.length).toBeGreaterThan(0);
    });
    model.dispose();
  });

  test('SLLM: train step with metrics, checkpoint, validation, scoring, generation with the stop head', async () => {
    const model = new SLLM({ svae: svaeConfig, decoder: { dModel: 16, layers: 1, heads: 2, maxLen: 4 } });
    await withoutSyncReads(async () => {
      const loss = (b: SllmBatch) => {
        const r = model.loss(b);
        return { loss: r.loss, metrics: { token_loss: r.metrics.tokenLoss, stop_loss: r.metrics.stopLoss } };
      };
      const result = await trainOneStep('sllm', trainable(model, loss), repeat(sentenceBatch, 24), [sentenceBatch()]);
      expect(Number.isFinite(result.val['loss']!)).toBe(true);
      const score = await model.scoreDocument(docs[1]!);
      expect(score.sentenceTokens).toEqual([5, 3]);
      const out: number[][] = [];
      for await (const s of model.generate(docs[0]!, { maxSentences: 2, stopThreshold: 1.01, decode: { maxTokens: 3 } })) out.push(s);
      expect(out.length).toBeGreaterThan(0);
    });
    model.dispose();
  });

  test('SentenceVAE (variational): train step with KL metrics, checkpoint, validation, reconstruction, embeddings for the LCM stages', async () => {
    const model = new SentenceVAE({ ...svaeConfig, variational: true });
    const sentences = docs.flat();
    await withoutSyncReads(async () => {
      const loss = (b: number[][], step: number) => {
        const r = model.loss(b, { step });
        return { loss: r.loss, metrics: { recon: r.metrics.recon, kl: r.metrics.kl } };
      };
      const result = await trainOneStep('svae', trainable(model, loss), repeat(() => sentences, 20), [sentences]);
      expect(Number.isFinite(result.val['loss']!)).toBe(true);
      expect(Number.isFinite((await vectorUse(model, [sentences])).gap)).toBe(true);
      const m = await model.reconstructionMetrics(sentences, { decode: { maxTokens: 4 } });
      expect(m.sentences).toBe(sentences.length);
      const dataset: DatasetDocument[] = docs.map((d, i) => ({ id: `d${i}`, sentences: d.map((s) => Int32Array.from(s)), texts: d.map(String), paragraphStarts: d.map((_, j) => j === 0) }));
      const vectors = await embedDocuments(model, dataset);
      expect(vectors.map((v) => v.length)).toEqual([3, 3]);
      expect(vectors[0]![0]!.length).toBe(16);
    });
    model.dispose();
  });

  test.each<[string, (space: Awaited<ReturnType<typeof fitConceptSpace>>) => ConceptModel]>([
    ['Base-LCM', (space) => new BaseLcm({ kind: 'base-lcm', dEmb: 16, dModel: 16, heads: 2, layers: 1, mlpHidden: 32, maxSentences: 4, dropout: 0.1 }, space)],
    ['two-tower diffusion', (space) => new TwoTowerLcm({ kind: 'two-tower', dEmb: 16, dModel: 16, heads: 2, contextLayers: 1, denoiserLayers: 1, mlpHidden: 32, maxSentences: 4, dropout: 0.1, timestepDim: 16, sampling: { steps: 2 } }, space)],
  ])('%s: train step with metrics, checkpoint, validation, batch predictions, generation', async (name, make) => {
    const texts = [['The cat sat.', 'It purred.', 'Then it slept.'], ['Rain fell.', 'People ran.', 'Streets shone.']];
    const codec = new BagOfWordsCodec({ dim: 16, bank: [...texts.flat(), 'The end.'], seed: 3 });
    const vectors = await encodeDocuments(codec, texts);
    const space = await fitConceptSpace(codec, vectors, { normalizer: 'robust', endSentence: 'The end.' });
    const model = make(space);
    const batch = (): ConceptBatch => collateWindows(conceptWindows(vectors, { maxSentences: 4, endVector: space.endVector }), 16);
    await withoutSyncReads(async () => {
      const val = [batch()];
      const result = await trainOneStep(name.replace(/\W/g, ''), trainable(model, (b: ConceptBatch) => model.loss(b)), repeat(batch, 8, disposeBatch), val);
      expect(Number.isFinite(result.val['loss']!)).toBe(true);
      const p = await model.predictBatch(val[0]!);
      expect(p.predictions.length).toBe(6);
      val.forEach(disposeBatch);
      await saveConceptHead(join(mkdtempSync(join(root, 'head-')), 'head.safetensors'), model, { step: 1 });
      const out: string[] = [];
      for await (const s of model.generate(codec, ['Rain fell.'], { maxSentences: 2, stopThreshold: 1.01 })) out.push(s.text);
      expect(out).toHaveLength(2);
    });
    model.dispose();
  });
});
