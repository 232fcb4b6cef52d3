import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createRun, readSummary } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test } from 'vitest';
import type { StageContext } from '../stages/types.js';
import { loadModel, saveModel } from './fit.js';
import { trainSchema } from './schema.js';
import { TinyModel, TinyStream, type TinyBatch } from './testing/tiny.js';
import { trainStage } from './train-stage.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

function context(name: string): StageContext<unknown> {
  const root = mkdtempSync(join(tmpdir(), 'exp-train-stage-'));
  const run = createRun({ root, experiment: 'stage', runId: name, config: {}, seed: 3, backend: 'cpu', flushIntervalMs: 0 });
  const outDir = join(root, 'out');
  return {
    name,
    config: {},
    pipeline: { name: 'stage', seed: 3, backend: 'cpu', runsDir: root, data: {} },
    inputs: {},
    hash: 'h',
    outDir: mkdtempSync(outDir),
    seed: 3,
    run,
    resume: false,
    signal: new AbortController().signal,
    log: () => {},
    stages: new Map(),
  };
}

/** A tiny stage: TinyModel trained for 4 steps; `failAt` makes a step of the given phase throw. */
function tinyStage(ctx: StageContext<unknown>, failAt?: 'fit' | 'results') {
  let built: TinyModel | undefined;
  const promise = trainStage(ctx, {
    build: () => (built = new TinyModel(3)),
    fit: (model) => ({
      model: { parameterMap: () => model.parameterMap(), namedParameters: () => model.namedParameters(), train: (on) => model.train(on), loss: (b: TinyBatch) => model.loss(b) },
      train: trainSchema.parse({ steps: 4, batchSize: 8, warmupSteps: 1, logEvery: 1 }),
      batches: new TinyStream(3, failAt === 'fit' ? { poisonAt: 2 } : {}),
    }),
    results: (model, result) => {
      if (failAt === 'results') throw new Error('scoring failed');
      return { params: model.numParams(), steps: result.step };
    },
    save: (model, result) => saveModel(ctx.outDir, model.parameterMap(), { tiny: true }, result.step),
  });
  return { promise, model: () => built! };
}

describe('trainStage', () => {
  test('trains, writes the eval results to summary.json, saves the artifact and disposes the model', async () => {
    const ctx = context('ok');
    const before = tf.memory().numTensors;
    const { promise, model } = tinyStage(ctx);
    const { result, evalResults, files } = await promise;
    expect(result.step).toBe(4);
    expect(evalResults).toEqual({ params: 97, steps: 4 });
    expect((await readSummary(ctx.run!.dir))?.eval).toEqual(evalResults);
    expect(files).toEqual({ model: 'model.safetensors' });
    const saved = loadModel<{ tiny: boolean }>(ctx.outDir);
    expect(saved.config).toEqual({ tiny: true });
    expect([...saved.params.keys()].sort()).toEqual(['l1.bias', 'l1.weight', 'l2.bias', 'l2.weight']);
    tf.dispose([...saved.params.values()]);
    expect(model().parameters().every((v) => v.isDisposed)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  test.each(['fit', 'results'] as const)('a stage that fails in %s still disposes its model (no tensor leaks into the next stage)', async (failAt) => {
    const ctx = context(`fail-${failAt}`);
    const before = tf.memory().numTensors;
    const { promise, model } = tinyStage(ctx, failAt);
    await expect(promise).rejects.toThrow(failAt === 'fit' ? /NaN|diverged/i : /scoring failed/);
    expect(model().parameters().every((v) => v.isDisposed)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
