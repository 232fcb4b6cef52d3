import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readMeta, readMetrics, readSamples, validateRun } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { executePipeline, readStageRecord } from '../pipeline/execute.js';
import { STAGES, stageRegistry } from '../stages/registry.js';
import { repoRoot, tinyPipeline as writeTinyPipeline, type TinySvaeOptions } from '../testing/tiny-pipeline.js';
import { TrainingInterrupted } from '../train/errors.js';
import { generateAction } from './generate.js';
import { resumeAction } from './resume.js';
import { runCommandAction } from './run.js';

const exec = promisify(execFile);
const cli = join(__dirname, '..', 'cli.ts');

/** Prepared datasets are shared by the tests of this file (the data package caches them by content). */
const datasets = mkdtempSync(join(tmpdir(), 'exp-run-data-'));

/** The tiny tokenizer + SentenceVAE pipeline, sharing this file's prepared data. */
function tinyPipeline(dir: string, steps = 4, svae: Pick<TinySvaeOptions, 'model' | 'encoder'> = {}): string {
  return writeTinyPipeline(dir, datasets, steps, '', svae);
}

/** A SentenceVAE whose training draws from every generator it has: dropout, token dropout, the reparameterisation, latent noise and latent dropout. */
const EVERY_DRAW = { model: ', variational: true, latentNoise: 0.3, latentDropout: 0.2', encoder: ', tokenDropout: 0.2' };

async function losses(runDir: string): Promise<number[]> {
  const m = await readMetrics(runDir, { names: ['train/loss'] });
  return Array.from(m.series['train/loss']!.value);
}

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('exp run', () => {
  test('--dry-run expands a sweep and validates every point before any work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-run-'));
    const file = tinyPipeline(dir);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await runCommandAction(file, ['stages.svae.train.lr=0.001,0.002', 'seed=1,2'], { dryRun: true, parallel: 1, cacheDir: join(dir, 'cache') })).toBe(0);
      const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(printed.match(/^# point /gm)).toHaveLength(4);
      expect(printed).toContain('# point lr=0.002,seed=1: stages.svae.train.lr=0.002 seed=1');
      expect(printed).toContain('# stages in order: tok -> svae');
      // A compute-matched token LM: its train.steps in the config is replaced at run time, and the dry run says so.
      log.mockClear();
      expect(await runCommandAction(join(repoRoot, 'configs/paper/sllm-vs-token.yaml'), [], { dryRun: true, parallel: 1, cacheDir: join(dir, 'cache') })).toBe(0);
      expect(log.mock.calls.map((c) => String(c[0])).join('\n')).toContain(
        "# lm-compute.inputs.flopsOf = sllm-h1: a compute-matched baseline: train as many steps as spend this stage's training FLOPs and those of the stages it builds on, in place of train.steps",
      );
    } finally {
      log.mockRestore();
    }
    await expect(runCommandAction(file, ['stages.svae.train.steps=3,-1'], { dryRun: false, parallel: 1, cacheDir: join(dir, 'cache') })).rejects.toThrow(
      /stages\.svae\.train\.steps: Too small/,
    );
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  test('an interrupted pipeline resumes from its run folder and ends with the losses of an uninterrupted run (every random draw of the SentenceVAE on)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-resume-'));
    const file = tinyPipeline(dir, 4, EVERY_DRAW);
    const cacheDir = join(dir, 'cache');
    const quiet = { overrides: [], cacheDir, log: () => {} };
    const reference = await executePipeline(loadPipeline(file, STAGES).config, stageRegistry(), quiet);
    const referenceRun = reference[1]!.artifact.runDir!;
    // Every evaluation logs how much the sentence vector carries (own vs shuffled vectors).
    const names = ['val/recon_loss_own', 'val/recon_loss_shuffled', 'val/recon_loss_gap'];
    const use = (await readMetrics(referenceRun, { names })).series;
    for (const n of names) expect(Array.from(use[n]!.step)).toEqual([2, 4]);
    use['val/recon_loss_gap']!.value.forEach((g, i) => expect(g).toBeCloseTo(use['val/recon_loss_shuffled']!.value[i]! - use['val/recon_loss_own']!.value[i]!, 5));

    const second = tinyPipeline(mkdtempSync(join(tmpdir(), 'exp-resume-b-')), 4, EVERY_DRAW);
    const controller = new AbortController();
    const { config } = loadPipeline(second, STAGES);
    const stop = setInterval(() => {
      const runs = join(config.runsDir, 'tiny');
      if (!existsSync(runs)) return;
      for (const r of readdirSync(runs)) {
        if (existsSync(join(runs, r, 'checkpoints', 'latest'))) controller.abort();
      }
    }, 5);
    const err = await executePipeline(config, stageRegistry(), { ...quiet, cacheDir: join(dir, 'cache2'), signal: controller.signal }).catch((e: unknown) => e);
    clearInterval(stop);
    expect(err).toBeInstanceOf(TrainingInterrupted);
    const runDir = (err as TrainingInterrupted).runDir;
    expect((await readMeta(runDir)).status).toBe('interrupted');
    expect(readStageRecord(runDir).stage).toBe('svae');
    // The same pipeline with another runsDir starts its own run there; the interrupted one is
    // left for its own runsDir (it used to be resumed in place, outside the folder asked for).
    const elsewhere = join(dir, 'runs-elsewhere');
    const moved = await executePipeline({ ...config, runsDir: elsewhere }, stageRegistry(), { ...quiet, cacheDir: join(dir, 'cache2') });
    expect(moved[1]!.artifact.runDir!.startsWith(elsewhere)).toBe(true);
    expect((await readMeta(runDir)).status).toBe('interrupted');
    expect(await losses(moved[1]!.artifact.runDir!)).toEqual(await losses(referenceRun));
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await resumeAction(runDir, join(dir, 'cache2'))).toBe(0);
    } finally {
      out.mockRestore();
    }
    expect((await readMeta(runDir)).status).toBe('done');
    expect(await losses(runDir)).toEqual(await losses(referenceRun));

    // samples.jsonl: the SentenceVAE's reconstructions of the same held-out sentences at every
    // evaluation (steps 2 and 4), read back as the report reads them; none lost or repeated on resume.
    const samples = await readSamples(referenceRun);
    const prompts = samples.filter((s) => s.step === 2).map((s) => s.prompt);
    expect(prompts.length).toBeGreaterThan(0);
    expect(prompts.every((p) => p.length > 0)).toBe(true);
    expect(samples.map((s) => [s.step, s.prompt, s.model])).toEqual([...prompts.map((p) => [2, p, 'svae']), ...prompts.map((p) => [4, p, 'svae'])]);
    expect(await readSamples(runDir)).toEqual(samples);
    expect(await validateRun(referenceRun)).toEqual([]);
    // Resuming the done run again is a no-op that says so (it used to append another final val/loss row).
    const metricsBefore = readFileSync(join(runDir, 'metrics.arrow'));
    const said = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await resumeAction(runDir, join(dir, 'cache2'))).toBe(0);
      expect(said.mock.calls.map((c) => String(c[0]))).toContain(`${runDir}: the run is already done; nothing to resume`);
    } finally {
      said.mockRestore();
    }
    expect(readFileSync(join(runDir, 'metrics.arrow'))).toEqual(metricsBefore);
    expect((await readMeta(runDir)).resumedAt).toHaveLength(1);
  }, 120_000);

  test('an empty validation split is an error naming the split and the fix (it used to train with val loss NaN)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-empty-split-'));
    const file = tinyPipeline(dir, 2);
    const { config } = loadPipeline(file, STAGES, ['data.split.validation=0']);
    await expect(executePipeline(config, stageRegistry(), { overrides: [], cacheDir: join(dir, 'cache'), log: () => {} })).rejects.toThrow(
      'stage svae: the validation split has no batch to evaluate on (0 documents); raise data.split.validation or use more data (data.source.limit)',
    );
  }, 120_000);

  test('--parallel 2 runs each sweep point as its own process, one run folder per point named after its override', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-sweep-'));
    const file = tinyPipeline(dir, 2);
    const { stdout } = await exec(process.execPath, ['--conditions=source', '--import', 'tsx', cli, 'run', file, 'stages.svae.train.lr=0.001,0.003', '--parallel', '2', '--cache-dir', join(dir, 'cache')], {
      cwd: repoRoot,
    });
    expect(stdout).toMatch(/\[lr=0\.001\] svae\s+svae\s+ran/);
    expect(stdout).toMatch(/\[lr=0\.003\] svae\s+svae\s+ran/);
    const runs = readdirSync(join(dir, 'runs', 'tiny')).sort();
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatch(/^svae@lr=0\.001-\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect(runs[1]).toMatch(/^svae@lr=0\.003-/);
    for (const r of runs) expect((await readMeta(join(dir, 'runs', 'tiny', r))).status).toBe('done');
  }, 120_000);

  test('generate streams a continuation from the run folder of a trained token LM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-generate-'));
    const file = tinyPipeline(dir, 2);
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8')}  lm:\n    kind: token-lm\n    inputs: {tokenizer: tok}\n    model: {decoder: {dModel: 16, layers: 1, heads: 2, maxLen: 32}}\n    seqLen: 32\n    train: {steps: 2, batchSize: 2, warmupSteps: 1, evalBatches: 1}\n` +
        // An SLLM over the trained SentenceVAE, frozen.
        `  sllm:\n    kind: sllm\n    inputs: {tokenizer: tok, svae: svae}\n    model: {decoder: {dModel: 16, layers: 1, heads: 2, maxLen: 4}, freezeSvae: true}\n    train: {steps: 2, batchSize: 2, warmupSteps: 1, evalBatches: 1}\n`,
    );
    const cacheDir = join(dir, 'cache');
    const reports = await executePipeline(loadPipeline(file, STAGES).config, stageRegistry(), { overrides: [], cacheDir, log: () => {} });
    const lmRun = reports.find((r) => r.name === 'lm')!.artifact.runDir!;
    const chunks: string[] = [];
    const text = await generateAction(lmRun, { prompt: 'The cat sat. It was warm.', maxSentences: 2, maxTokens: 5, temperature: 0, topP: 1, seed: 0, runsDir: join(dir, 'runs'), cacheDir }, (c) => chunks.push(c));
    expect(chunks[0]).toBe('The cat sat. It was warm.');
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.slice(1).join('')).toBe(text);
    expect(text.length).toBeGreaterThan(0);
    const lmSamples = await readSamples(lmRun);
    expect(lmSamples.length).toBeGreaterThan(0);
    expect(lmSamples.every((s) => s.step === 2 && s.model === 'token-lm' && s.prompt.length > 0)).toBe(true);
    const sllmSamples = await readSamples(reports.find((r) => r.name === 'sllm')!.artifact.runDir!);
    expect(sllmSamples.map((s) => [s.step, s.prompt, s.model])).toEqual(lmSamples.map((s) => [2, s.prompt, 'sllm']));
    await expect(generateAction(reports.find((r) => r.name === 'svae')!.artifact.runDir!, { prompt: 'x', maxSentences: 1, maxTokens: 1, temperature: 0, topP: 1, seed: 0, runsDir: '', cacheDir }, () => {})).rejects.toThrow(
      /a svae stage does not generate text/,
    );
  }, 120_000);
});
