import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetrics } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { executePipeline } from '../pipeline/execute.js';
import { tinyHeadStage, tinyHeadsPipeline } from '../testing/tiny-pipeline.js';
import { STAGES, stageRegistry } from './registry.js';

let dir = '';
let file = '';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
  dir = mkdtempSync(join(tmpdir(), 'exp-posterior-'));
  // Two energy heads over one SentenceVAE: the second scores against 4 draws of each target's posterior.
  const heads = (draws: number) => `, layers: 2, generator: {blocks: 1, samples: 2, targetDraws: ${draws}}`;
  file = tinyHeadsPipeline(
    dir,
    tinyHeadStage('energy', 'lcm-energy', { model: heads(0), steps: 3, train: ', evalEvery: 2' }) + tinyHeadStage('draws', 'lcm-energy', { model: heads(4), steps: 3, train: ', evalEvery: 2' }),
  );
});

const run = (overrides: string[], log: string[] = []) =>
  executePipeline(loadPipeline(file, STAGES, overrides).config, stageRegistry(), { overrides, cacheDir: join(dir, 'cache'), log: (l) => log.push(l) });

describe('lcm-energy with generator.targetDraws (CALM: targets drawn from the SentenceVAE posterior)', () => {
  test('over a variational SentenceVAE it trains and validates against the draws (another loss than against the means); over a plain one it is refused by name before anything runs', async () => {
    const log: string[] = [];
    const reports = await run(['stages.svae.model.variational=true'], log);
    expect(log.some((l) => l.includes("the energy score takes 4 draws of each target's posterior"))).toBe(true);
    const [plain, draws] = await Promise.all(['energy', 'draws'].map(async (name) => (await readMetrics(reports.find((r) => r.name === name)!.artifact.runDir!)).series));
    // The same initialisation and batches; the draws' targets differ from the means from step 1.
    expect(draws!['train/loss']!.value).toHaveLength(3);
    expect(draws!['train/loss']!.value[0]).not.toBe(plain!['train/loss']!.value[0]);
    expect(Array.from(draws!['val/loss']!.value).every(Number.isFinite)).toBe(true);
    // Over a plain SentenceVAE: refused when planned, before the SentenceVAE trains.
    const before = log.length;
    await expect(run(['stages.svae.train.steps=3'], log)).rejects.toThrow(
      "stages.draws.model.generator.targetDraws: 4 draws of each target's posterior need a variational SentenceVAE, but input svae is not one (its model.variational is not true); set it there, or targetDraws: 0",
    );
    expect(log.length).toBe(before);
  }, 120_000);
});
