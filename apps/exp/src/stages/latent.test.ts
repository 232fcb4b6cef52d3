import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@sentencelab/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { executePipeline } from '../pipeline/execute.js';
import { tinySvaeStage, writeTinyPipelineFile } from '../testing/tiny-pipeline.js';
import { STAGES, stageRegistry } from './registry.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('sllm stage', () => {
  test('initialised from a trained SentenceVAE, it leaves no tensor behind (the SentenceVAE weights were read twice and the first copy kept)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-sllm-stage-'));
    const svae = `  tok: {kind: tokenizer}\n${tinySvaeStage({ steps: 2, dropout: 0 })}`;
    const sllm = `  sllm:
    kind: sllm
    inputs: {tokenizer: tok, svae: svae}
    model: {decoder: {dModel: 16, layers: 1, heads: 2, maxLen: 4}}
    train: {steps: 2, batchSize: 2, warmupSteps: 1, evalEvery: 2, checkpointEvery: 2, evalBatches: 1}
`;
    const run = (stages: string, name: string) => {
      const file = writeTinyPipelineFile(dir, { runsDir: join(dir, 'runs'), cacheDir: join(dir, 'data'), stages }, name);
      return executePipeline(loadPipeline(file, STAGES).config, stageRegistry(), { overrides: [], cacheDir: join(dir, 'cache'), log: () => {} });
    };
    await run(svae, 'svae.yaml');
    const before = tf.memory().numTensors;
    const reports = await run(svae + sllm, 'sllm.yaml');
    expect(reports.map((r) => [r.name, r.reused])).toEqual([['tok', true], ['svae', true], ['sllm', false]]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
