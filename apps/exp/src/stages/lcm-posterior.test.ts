import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetrics, readSummary } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { executePipeline } from '../pipeline/execute.js';
import { TINY_TWO_TOWER, tinyHeadStage, tinyHeadsPipeline } from '../testing/tiny-pipeline.js';
import { STAGES, stageRegistry } from './registry.js';
import { spreadHint } from './spread-hint.js';

let dir = '';
let file = '';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
  dir = mkdtempSync(join(tmpdir(), 'exp-posterior-'));
  // Two energy heads over one SentenceVAE: the second scores against 4 draws of each target's posterior.
  const heads = (draws: number) => `, layers: 2, generator: {blocks: 1, samples: 2, targetDraws: ${draws}}`;
  file = tinyHeadsPipeline(
    dir,
    tinyHeadStage('energy', 'lcm-energy', { model: heads(0), steps: 3, train: ', evalEvery: 2' }) +
      tinyHeadStage('draws', 'lcm-energy', { model: heads(4), steps: 3, train: ', evalEvery: 2' }) +
      // A diffusion head denoising a draw of each target's posterior.
      tinyHeadStage('diff', 'lcm-diffusion', { model: `${TINY_TWO_TOWER}, posteriorTargets: true`, steps: 3 }) +
      // The diffusion head paired with the draws-trained energy head, not the baseline (headBaselines).
      '  eval: {kind: eval, inputs: {tokenizer: tok, models: [energy, draws, diff]}, baseline: energy, headBaselines: {diff: draws}, documents: 2, resamples: 50, brierSentences: 0}\n',
  );
});

const run = (overrides: string[], log: string[] = []) =>
  executePipeline(loadPipeline(file, STAGES, overrides).config, stageRegistry(), { overrides, cacheDir: join(dir, 'cache'), log: (l) => log.push(l) });

describe('lcm-energy with generator.targetDraws (CALM: targets drawn from the SentenceVAE posterior)', () => {
  test('over a variational SentenceVAE it trains and validates against the draws (another loss than against the means), every head is also scored against posterior draws and paired on them; over a plain one it is refused by name before anything runs', async () => {
    const log: string[] = [];
    const reports = await run(['stages.svae.model.variational=true'], log);
    expect(log.some((l) => l.includes("the energy score takes 4 draws of each target's posterior"))).toBe(true);
    const [plain, draws] = await Promise.all(['energy', 'draws'].map(async (name) => (await readMetrics(reports.find((r) => r.name === name)!.artifact.runDir!)).series));
    // The same initialisation and batches; the draws' targets differ from the means from step 1.
    expect(draws!['train/loss']!.value).toHaveLength(3);
    expect(draws!['train/loss']!.value[0]).not.toBe(plain!['train/loss']!.value[0]);
    expect(Array.from(draws!['val/loss']!.value).every(Number.isFinite)).toBe(true);
    // Both heads also scored against one posterior draw of each target, the same draws for both (paired on them).
    const eval_ = reports.find((r) => r.name === 'eval')!.artifact;
    const table = String(eval_.meta['table']);
    const results = async (name: string) => (await readSummary(reports.find((r) => r.name === name)!.artifact.runDir!))!.eval as Record<string, number>;
    const [e, d] = [await results('energy'), await results('draws')];
    for (const head of [e, d]) {
      expect(Number.isFinite(head['energy_score_posterior'])).toBe(true);
      expect(head['energy_score_posterior']).not.toBe(head['energy_score']);
      expect(Number.isFinite(head['energy_score_posterior_diff_train_dist'])).toBe(true);
      // Sampling the training posteriors, stored as the training-distribution row's figures: the paired difference is the difference of the means.
      expect(head['energy_score_posterior_diff_train_dist']).toBeCloseTo(head['energy_score_posterior']! - head['energy_score_posterior_train_dist']!, 9);
      expect(head['spread_ratio_posterior_train_dist']).toBeGreaterThan(0);
      // The same two draws against another target: the same spread, another skill.
      expect(head['spread_ratio_posterior']! > 0 && head['spread_ratio_posterior'] !== head['spread_ratio']).toBe(true);
    }
    expect(d['energy_score_posterior_diff']).toBeCloseTo(d['energy_score_posterior']! - e['energy_score_posterior']!, 9);
    expect(d['energy_score_diff']).toBeCloseTo(d['energy_score']! - e['energy_score']!, 9);
    // Its own baseline head for the diffusion head: the draws-trained energy head.
    const diff = await results('diff');
    expect((diff as Record<string, unknown>)['energy_score_diff_baseline']).toBe('draws');
    expect(diff['energy_score_posterior_diff']).toBeCloseTo(diff['energy_score_posterior']! - d['energy_score_posterior']!, 9);
    expect(table).toMatch(/^energy score diff - draws \(the same \d+ targets\), paired over the same documents: /m);
    // The diffusion head's sampler line says which way its validation figures would turn it, when they resolve one.
    const hint = spreadHint(diff);
    expect(table).toContain(`  diff: ${(diff as Record<string, unknown>)['sampler'] as string}${hint ? `; ${hint}` : ''}\n`);
    expect(table).toMatch(/^model\s+kind\s+.*energy score\s+ES - train-dist\s+spread \/ skill\s+val\. energy score\s+val\. spread \/ skill\s+ES posterior\s+ES post\. - train-dist\s+spread \/ skill post\.$/m);
    // The training-distribution row has the posterior figures too, under the heads' columns.
    const lines = table.split('\n');
    const header = lines.findIndex((l) => /^model\s+kind\s+.*ES posterior/.test(l));
    const referenceRow = lines.slice(header).find((l) => l.startsWith('training dist.'))!;
    const cellAt = (label: string) => Number(referenceRow.slice(lines[header]!.indexOf(label)).split(/\s{2,}/)[0]!.split(' ')[0]);
    expect(cellAt('ES posterior')).toBeCloseTo(e['energy_score_posterior_train_dist']!, 2);
    expect(cellAt('spread / skill post.')).toBeCloseTo(e['spread_ratio_posterior_train_dist']!, 2);
    expect(table).toMatch(new RegExp(`^ES posterior draws - energy \\(the same ${e['eval_targets']} targets\\), paired over the same documents: `, 'm'));
    // Two sentences ahead against the same posterior draws too, paired on the same rolled-out targets.
    for (const head of [e, d]) expect(Number.isFinite(head['energy_score_ahead_posterior_diff_train_dist'])).toBe(true);
    expect(d['energy_score_ahead_posterior']).not.toBe(d['energy_score_ahead']);
    expect(d['energy_score_ahead_posterior_diff']).toBeCloseTo(d['energy_score_ahead_posterior']! - e['energy_score_ahead_posterior']!, 9);
    expect(table).toMatch(/^model\s+kind\s+ES 2 ahead\s+ES 2 ahead - train-dist\s+ES 2 ahead - next\s+spread \/ skill 2 ahead\s+ES 2 ahead post\.\s+ES 2 ahead post\. - train-dist$/m);
    // Evaluated again (a fork: only an evaluation option differs), the same posterior draws: the same figures.
    const again = await run(['stages.svae.model.variational=true', 'stages.draws.resamples=60']);
    const forked = (await readSummary(again.find((r) => r.name === 'draws')!.artifact.runDir!))!.eval as Record<string, number>;
    expect(forked['energy_score_posterior']).toBe(d['energy_score_posterior']);
    expect(forked['energy_score_ahead_posterior']).toBe(d['energy_score_ahead_posterior']);

    // Over a plain SentenceVAE: refused when planned, before the SentenceVAE trains.
    const before = log.length;
    await expect(run(['stages.svae.train.steps=3'], log)).rejects.toThrow(
      "stages.draws.model.generator.targetDraws: 4 draws of each target's posterior need a variational SentenceVAE, but input svae is not one (its model.variational is not true); set it there, or targetDraws: 0",
    );
    expect(log.length).toBe(before);
  }, 120_000);
});

describe('lcm-diffusion with model.posteriorTargets', () => {
  test('over a variational SentenceVAE it denoises posterior draws (another loss than the means from the same seed); over a plain one it is refused by name before anything runs', async () => {
    const log: string[] = [];
    // Another seed than the test above: these stages train here, not from its cache.
    const variational = ['stages.svae.model.variational=true', 'seed=1'];
    const reports = await run(variational, log);
    expect(log.some((l) => l.includes("[diff] encoding") && l.includes("the head denoises a fresh draw of each target's posterior"))).toBe(true);
    const lossOf = async (r: typeof reports) => (await readMetrics(r.find((x) => x.name === 'diff')!.artifact.runDir!)).series['train/loss']!.value;
    const means = await lossOf(await run([...variational, 'stages.diff.model.posteriorTargets=false']));
    const drawn = await lossOf(reports);
    expect(drawn).toHaveLength(3);
    expect(drawn[0]).not.toBe(means[0]);
    // Over a plain SentenceVAE (the energy head asking for none): refused when planned.
    const before = log.length;
    await expect(run(['stages.svae.train.steps=3', 'stages.draws.model.generator.targetDraws=0'], log)).rejects.toThrow(
      "stages.diff.model.posteriorTargets: denoising draws of each target's posterior needs a variational SentenceVAE, but input svae is not one (its model.variational is not true); set it there, or posteriorTargets: false",
    );
    expect(log.length).toBe(before);
  }, 120_000);
});
