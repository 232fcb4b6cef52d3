import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetrics } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { computeOf, flopsWithUpstream } from '../pipeline/compute.js';
import { executePipeline } from '../pipeline/execute.js';
import { tinySvaeStage, writeSamplesJsonl, writeTinyPipelineFile } from '../testing/tiny-pipeline.js';
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

describe('token-lm stage with flopsOf', () => {
  // Windows of one row: every step has the same shape, so the same FLOPs. Dropout draws from the model's generator.
  const lm = (name: string, inputs: string, steps: number) => `  ${name}:
    kind: token-lm
    inputs: {tokenizer: tok${inputs}}
    model: {decoder: {dModel: 16, layers: 1, heads: 2, maxLen: 64, dropout: 0.1}}
    train: {steps: ${steps}, batchSize: 1, warmupSteps: 1, evalEvery: 0, checkpointEvery: 0, evalBatches: 1}
`;
  const sllm = `  sllm:
    kind: sllm
    inputs: {tokenizer: tok, svae: svae}
    model: {decoder: {dModel: 16, layers: 1, heads: 2, maxLen: 4}}
    train: {steps: 3, batchSize: 2, warmupSteps: 1, evalEvery: 0, checkpointEvery: 0, evalBatches: 1}
`;

  test('trains the steps that spend the matched stage\'s FLOPs with its upstream, and the same steps as a run told that step count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-flops-of-'));
    const evalStage = `  eval:\n    kind: eval\n    inputs: {tokenizer: tok, models: [matched, sllm, sllm-noisy]}\n    documents: 2\n    resamples: 50\n    brierSentences: 0\n`;
    // A variant whose SentenceVAE trains under latent noise: no other matrix product, so the same FLOPs as sllm's.
    const variant = tinySvaeStage({ name: 'svae-noisy', steps: 3, dropout: 0, model: ', latentNoise: 0.5' }) + sllm.replace('  sllm:', '  sllm-noisy:').replace('svae: svae}', 'svae: svae-noisy}');
    const stages = `  tok: {kind: tokenizer}\n${tinySvaeStage({ steps: 3, dropout: 0 })}${sllm}${variant}${lm('matched', ', flopsOf: sllm', 1000)}${evalStage}`;
    // Documents of several sentences, so the eval's test split has some to score.
    const data = { runsDir: join(dir, 'runs'), cacheDir: join(dir, 'data'), source: writeSamplesJsonl(dir), segment: '{mode: sentence, maxTokens: 24}', split: '{validation: 0.2, test: 0.2, salt: a}' };
    const file = writeTinyPipelineFile(dir, { ...data, stages }, 'matched.yaml');
    const logged: string[] = [];
    const cacheDir = join(dir, 'cache');
    const reports = await executePipeline(loadPipeline(file, STAGES).config, stageRegistry(), { overrides: [], cacheDir, log: (l) => logged.push(l) });
    const byName = new Map(reports.map((r) => [r.name, r.artifact]));
    const matched = byName.get('matched')!;
    const budget = flopsWithUpstream(byName.get('sllm')!);
    // The SentenceVAE's steps are part of the budget, not only the SLLM's.
    expect(budget).toBeGreaterThan(computeOf(byName.get('sllm')!)!.flops!);
    expect(matched.meta['flopsOf']).toEqual({ stage: 'sllm', flops: budget });
    // The matched stage runs first but is not built on: its FLOPs are not part of the baseline's cost.
    expect(Object.values(computeOf(matched)!.upstream).map((u) => u.stage)).toEqual(['tok']);
    const losses = async (a: typeof matched) => Array.from((await readMetrics(a.runDir!, { names: ['train/loss'] })).series['train/loss']!.value);
    const steps = (await losses(matched)).length;
    const spent = computeOf(matched)!.flops!;
    const perStep = spent / steps;
    expect(steps).toBe(Math.round(budget / perStep));
    expect(Math.abs(spent - budget)).toBeLessThanOrEqual(perStep / 2);
    expect(steps).toBeGreaterThan(1);
    expect(logged.some((l) => l.includes(`[matched] training ${steps} steps, in place of train.steps:`))).toBe(true);
    expect(readFileSync(join(matched.runDir!, 'log.txt'), 'utf8')).toContain(`training ${steps} steps, in place of train.steps`);

    // The eval pairs the SLLM with the token LM trained with its FLOPs: its PPL over that one's, with a paired interval.
    const ev = byName.get('eval')!;
    const json = JSON.parse(readFileSync(join(ev.dir, 'comparison.json'), 'utf8')) as { results: Record<string, Record<string, number | string>> };
    const s = json.results['sllm']!;
    expect(s['ppl_ratio_matched'] as number).toBeCloseTo((s['ppl'] as number) / (json.results['matched']!['ppl'] as number), 12);
    expect(s['ppl_ratio_matched_ci_low'] as number).toBeLessThanOrEqual(s['ppl_ratio_matched'] as number);
    expect(s['ppl_ratio_matched_ci_high'] as number).toBeGreaterThanOrEqual(s['ppl_ratio_matched'] as number);
    expect(s['ppl_ratio_matched_baseline']).toBe('matched');
    expect(json.results['matched']!['ppl_ratio_matched']).toBeUndefined();
    const text = readFileSync(join(ev.dir, 'comparison.txt'), 'utf8');
    const verdict = String.raw`paired over the same documents: [\d.]+ \[[\d.]+, [\d.]+\]: (excludes 1: the difference is resolved|includes 1: the difference is not resolved by these \d+ documents)$`;
    expect(text).toMatch(new RegExp(String.raw`^PPL sllm / matched \(the token LM trained with its FLOPs\), ${verdict}`, 'm'));
    // The variant spent sllm's FLOPs exactly, so the same token LM is its compute-matched one.
    expect(flopsWithUpstream(byName.get('sllm-noisy')!)).toBe(budget);
    const v = json.results['sllm-noisy']!;
    expect(v['ppl']).not.toBe(s['ppl']);
    expect(v['ppl_ratio_matched'] as number).toBeCloseTo((v['ppl'] as number) / (json.results['matched']!['ppl'] as number), 12);
    expect(v['ppl_ratio_matched_baseline']).toBe('matched');
    expect(text).toMatch(new RegExp(String.raw`^PPL sllm-noisy / matched \(the token LM trained with sllm's FLOPs, sllm-noisy's x1\.0000 of them\), ${verdict}`, 'm'));

    // Counting the first step's FLOPs left no trace: the same losses as a run told the step count.
    const plainFile = writeTinyPipelineFile(dir, { ...data, stages: `  tok: {kind: tokenizer}\n${lm('plain', '', steps)}` }, 'plain.yaml');
    const plain = (await executePipeline(loadPipeline(plainFile, STAGES).config, stageRegistry(), { overrides: [], cacheDir, log: () => {} })).find((r) => r.name === 'plain')!.artifact;
    expect(await losses(matched)).toEqual(await losses(plain));
    expect(computeOf(plain)!.flops).toBe(spent);
  }, 180_000);

  test('refuses a budget whose steps leave no room for the warmup, naming the stage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-flops-of-'));
    const small = `  small:
    kind: token-lm
    inputs: {tokenizer: tok}
    model: {decoder: {dModel: 8, layers: 1, heads: 2, maxLen: 16}}
    train: {steps: 2, batchSize: 1, warmupSteps: 1, evalEvery: 0, checkpointEvery: 0, evalBatches: 1}
`;
    const big = lm('big', ', flopsOf: small', 1000).replace('warmupSteps: 1', 'warmupSteps: 5');
    const file = writeTinyPipelineFile(dir, { runsDir: join(dir, 'runs'), cacheDir: join(dir, 'data'), stages: `  tok: {kind: tokenizer}\n${small}${big}` });
    await expect(executePipeline(loadPipeline(file, STAGES).config, stageRegistry(), { overrides: [], cacheDir: join(dir, 'cache'), log: () => {} })).rejects.toThrow(
      /stage big: .* \(stage small with the stages it builds on\) are \d steps of .*, not more than train\.warmupSteps 5/,
    );
  });
});
