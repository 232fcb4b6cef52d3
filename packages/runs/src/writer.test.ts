import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cpuSecondsOf, ownCpuSecondsOf } from './format.js';
import { createRun, forkRun, openRunForResume } from './writer.js';
import { readMeta, readMetrics, readRun, readSamples, readSummary } from './reader.js';
import { validateRun } from './validate.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'runs-writer-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const base = {
  experiment: 'tiny',
  config: { model: { dModel: 64, layers: 2 }, train: { lr: 0.001 } },
  overrides: ['train.lr=0.001'],
  seed: 7,
  backend: 'cpu',
  git: { sha: 'abc123', dirty: true },
  machine: { cpu: 'test cpu', cores: 2, memoryGb: 4, os: 'linux', node: 'v20' },
  packages: { '@sentencelab/runs': '0.1.0' },
};

/** All files (recursively) of a folder, relative. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('createRun', () => {
  it('writes config, overrides and meta that read back identically', async () => {
    const run = createRun({ ...base, root, runId: 'r1', backendInfo: { adapter: 'H200' } });
    expect(run.dir).toBe(join(root, 'tiny', 'r1'));
    expect(parse(readFileSync(join(run.dir, 'config.yaml'), 'utf8'))).toEqual(base.config);
    expect(readFileSync(join(run.dir, 'overrides.txt'), 'utf8')).toBe('train.lr=0.001\n');
    const data = await readRun(run.dir);
    expect(data.config).toEqual(base.config);
    expect(data.overrides).toEqual(['train.lr=0.001']);
    expect(data.meta).toMatchObject({
      status: 'running',
      experiment: 'tiny',
      runId: 'r1',
      seed: 7,
      backend: 'cpu',
      backendInfo: { adapter: 'H200' },
      git: { sha: 'abc123', dirty: true },
      formatVersion: 1,
    });
    expect(data.summary).toBeUndefined();
    expect(await validateRun(run.dir)).toEqual([]);
  });

  it('refuses an existing run folder and unsafe names', () => {
    createRun({ ...base, root, runId: 'r1' });
    expect(() => createRun({ ...base, root, runId: 'r1' })).toThrow(/already exists/);
    expect(() => createRun({ ...base, root, runId: '../escape' })).toThrow(/run id "..\/escape" is not a valid folder name/);
    expect(() => createRun({ ...base, root, experiment: '.hidden' })).toThrow(/experiment ".hidden"/);
  });

  it('generates a sortable run id when none is given', () => {
    const run = createRun({ ...base, root });
    expect(run.meta.runId).toMatch(/^\d{8}-\d{6}-[0-9a-f]{4}$/);
  });
});

describe('RunWriter', () => {
  it('round-trips metrics, summary with eval, samples and the log; leaves no temp files', async () => {
    const run = createRun({ ...base, root, runId: 'r1', flushEveryRows: 3 });
    const losses = [4, 3, 3.5, 2, 2.5];
    losses.forEach((loss, step) => run.logMetrics(step, { loss, val_acc: step / 10 }, step * 0.5));
    run.appendSample({ step: 4, prompt: 'Once', output: 'upon a <time>', model: 'sllm' });
    run.log('step 4 done');
    const summary = run.writeSummary({ ppl: 41.2, ppl_tokens: 120345, nested: { a: 'x' } });
    run.setStatus('done');

    const metrics = await readMetrics(run.dir);
    expect(metrics.names).toEqual(['loss', 'val_acc']);
    expect(Array.from(metrics.series.loss!.value)).toEqual(losses);
    expect(Array.from(metrics.series.loss!.step)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(metrics.series.val_acc!.wallTime)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(metrics.truncatedBytes).toBe(0);
    const only = await readMetrics(run.dir, { names: ['val_acc'] });
    expect(Object.keys(only.series)).toEqual(['val_acc']);
    expect(only.columns.name).toEqual(Array(5).fill('val_acc'));

    expect(summary.metrics.loss).toEqual({
      count: 5, last: 2.5, lastStep: 4, min: 2, max: 4, best: 2, bestStep: 3, direction: 'min',
    });
    expect(summary.metrics.val_acc).toMatchObject({ best: 0.4, bestStep: 4, direction: 'max' });
    expect((await readSummary(run.dir))?.eval).toEqual({ ppl: 41.2, ppl_tokens: 120345, nested: { a: 'x' } });
    expect(await readSamples(run.dir)).toEqual([{ step: 4, prompt: 'Once', output: 'upon a <time>', model: 'sllm' }]);
    expect(readFileSync(join(run.dir, 'log.txt'), 'utf8')).toBe('step 4 done\n');
    const meta = await readMeta(run.dir);
    expect(meta.status).toBe('done');
    expect(Date.parse(meta.endedAt!)).toBeGreaterThanOrEqual(Date.parse(meta.startedAt));
    expect(files(run.dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(await validateRun(run.dir)).toEqual([]);
  });

  it('appends one record batch per flush so readers see flushed rows while the run goes on', async () => {
    const run = createRun({ ...base, root, runId: 'r1', flushEveryRows: 1000, flushIntervalMs: 60_000 });
    run.logMetrics(1, { loss: 1 });
    expect((await readMetrics(run.dir)).columns.name).toEqual([]);
    run.flush();
    run.logMetrics(2, { loss: 0.5 });
    run.flush();
    expect(Array.from((await readMetrics(run.dir)).series.loss!.value)).toEqual([1, 0.5]);
  });

  it('records a failure with message and stack', async () => {
    const run = createRun({ ...base, root, runId: 'r1' });
    run.setStatus('failed', new Error('loss is NaN at step 12'));
    const meta = await readMeta(run.dir);
    expect(meta.status).toBe('failed');
    expect(meta.error?.message).toBe('loss is NaN at step 12');
    expect(meta.error?.stack).toContain('writer.test.ts');
  });

  it('rejects bad steps and samples with a clear message', () => {
    const run = createRun({ ...base, root, runId: 'r1' });
    expect(() => run.logMetrics(1.5, { loss: 1 })).toThrow(/step must be an integer/);
    expect(() => run.appendSample({ step: 1, prompt: 'a' } as never)).toThrow(/output/);
  });
});

/** Keeps this thread busy for `ms` of CPU time. */
function burnCpu(ms: number): void {
  const start = process.cpuUsage();
  let x = 0;
  while ((process.cpuUsage(start).user + process.cpuUsage(start).system) / 1000 < ms) x += Math.sqrt(x + 1);
}

describe('resources', () => {
  it('records the CPU seconds the process used while the run was open, summed over resumes, and the load average at start and end', async () => {
    const run = createRun({ ...base, root, runId: 'r1' });
    expect(run.meta.resources).toMatchObject({ cpuUserS: 0, cpuSystemS: 0 });
    expect(run.meta.resources?.loadAvgStart).toHaveLength(3);
    burnCpu(60);
    run.setStatus('interrupted');
    const first = (await readMeta(run.dir)).resources!;
    expect(first.cpuUserS + first.cpuSystemS).toBeGreaterThanOrEqual(0.06);
    expect(first.loadAvgEnd).toHaveLength(3);

    const resumed = openRunForResume(run.dir);
    burnCpu(60);
    // cpuSeconds() while open: the earlier segment plus this one's.
    expect(resumed.cpuSeconds()).toBeGreaterThanOrEqual(first.cpuUserS + first.cpuSystemS + 0.06);
    resumed.writeSummary();
    resumed.setStatus('done');
    const total = (await readMeta(run.dir)).resources!;
    expect(total.cpuUserS + total.cpuSystemS).toBeGreaterThanOrEqual(first.cpuUserS + first.cpuSystemS + 0.06);
    expect(total.loadAvgStart).toEqual(first.loadAvgStart);
    expect(await validateRun(run.dir)).toEqual([]);
  });

  it('records the training FLOPs the loop reports with the final status, and rejects a figure that is not a count', async () => {
    const run = createRun({ ...base, root, runId: 'r-flops' });
    expect(run.trainingFlops()).toBeUndefined();
    expect(() => run.setTrainingFlops(-1)).toThrow(/-1 is not a count of FLOPs/);
    expect(() => run.setTrainingFlops(NaN)).toThrow(/not a count/);
    run.setTrainingFlops(2.5e12);
    expect(run.trainingFlops()).toBe(2.5e12);
    run.writeSummary();
    run.setStatus('done');
    expect((await readMeta(run.dir)).resources?.trainingFlops).toBe(2.5e12);
    expect(await validateRun(run.dir)).toEqual([]);
  });
});

describe('forkRun', () => {
  /** A finished donor: 4 steps of metrics, a sample, checkpoints at steps 2 and 4 (two files each), 1.5e12 FLOPs. */
  function donor(): string {
    const run = createRun({ ...base, root, runId: 'donor', flushEveryRows: 1 });
    for (let step = 1; step <= 4; step++) run.logMetrics(step, { 'train/loss': 10 - step }, step);
    run.appendSample({ step: 4, prompt: 'p', output: 'four' });
    for (const step of [2, 4]) {
      writeFileSync(`${run.checkpointPath(step)}.safetensors`, `weights ${step}`);
      writeFileSync(`${run.checkpointPath(step)}.json`, `{"step": ${step}}`);
      run.setLatestCheckpoint(`step-0000000${step}`);
    }
    burnCpu(30);
    run.setTrainingFlops(1.5e12);
    run.writeSummary({ l2: 1 });
    run.setStatus('done');
    return run.dir;
  }

  it("starts from a finished run's latest checkpoint with its metrics, samples and resources, and leaves the donor as it was", async () => {
    const from = donor();
    const before = files(from).map((f) => [f, statSync(join(from, f)).mtimeMs]);
    const donorMeta = await readMeta(from);
    const fork = forkRun(from, { ...base, root, runId: 'fork', flushEveryRows: 1 });
    expect(fork.meta.status).toBe('running');
    expect(fork.meta.resumedAt).toEqual([]);
    const d = donorMeta.resources!;
    expect(fork.meta.forkedFrom).toEqual({ run: from, step: 4, inherited: { cpuUserS: d.cpuUserS, cpuSystemS: d.cpuSystemS, trainingFlops: 1.5e12 } });
    expect(fork.latestCheckpoint()?.step).toBe(4);
    expect(files(join(fork.dir, 'checkpoints'))).toEqual(['latest', 'step-00000004.json', 'step-00000004.safetensors']);
    expect(readFileSync(join(fork.dir, 'checkpoints', 'step-00000004.safetensors'), 'utf8')).toBe('weights 4');
    // Its wall time and CPU seconds go on from the donor's.
    expect(fork.wallTime()).toBeGreaterThanOrEqual(4);
    expect(fork.cpuSeconds()).toBeGreaterThanOrEqual(donorMeta.resources!.cpuUserS + donorMeta.resources!.cpuSystemS);
    expect(fork.metricsAt(4)).toEqual({ 'train/loss': 6 });
    fork.logMetrics(4, { 'val/loss': 3 });
    expect(fork.metricsAt(4)).toEqual({ 'train/loss': 6, 'val/loss': 3 });
    fork.writeSummary({ l2: 2 });
    fork.setStatus('done');
    const metrics = await readMetrics(fork.dir);
    expect(Array.from(metrics.series['train/loss']!.value)).toEqual([9, 8, 7, 6]);
    expect((await readSamples(fork.dir)).map((s) => s.output)).toEqual(['four']);
    const meta = await readMeta(fork.dir);
    expect(meta.forkedFrom).toMatchObject({ run: from, step: 4 });
    expect(meta.resources?.trainingFlops).toBe(1.5e12);
    // Its own CPU time: the total less what it carried from the donor.
    expect(ownCpuSecondsOf(meta)).toBeCloseTo(cpuSecondsOf(meta.resources)! - cpuSecondsOf(d)!, 9);
    expect(ownCpuSecondsOf(donorMeta)).toBe(cpuSecondsOf(d));
    expect((await readSummary(fork.dir))?.eval).toEqual({ l2: 2 });
    expect(await validateRun(fork.dir)).toEqual([]);
    expect(files(from).map((f) => [f, statSync(join(from, f)).mtimeMs])).toEqual(before);
    expect((await readSummary(from))?.eval).toEqual({ l2: 1 });
  });

  it('refuses a donor that is not done or has no checkpoint, and leaves no folder behind', () => {
    const unfinished = createRun({ ...base, root, runId: 'unfinished' });
    unfinished.setStatus('interrupted');
    expect(() => forkRun(unfinished.dir, { ...base, root, runId: 'f1' })).toThrow(/is interrupted, not done/);
    const bare = createRun({ ...base, root, runId: 'bare' });
    bare.setStatus('done');
    expect(() => forkRun(bare.dir, { ...base, root, runId: 'f2' })).toThrow(/has no checkpoint to start from/);
    expect(readdirSync(join(root, 'tiny')).sort()).toEqual(['bare', 'unfinished']);
  });
});

describe('resume', () => {
  it('drops metrics and samples after the checkpoint and continues wall time', async () => {
    const run = createRun({ ...base, root, runId: 'r1', flushEveryRows: 1 });
    for (let step = 1; step <= 6; step++) run.logMetrics(step, { loss: 10 - step }, step);
    run.appendSample({ step: 2, prompt: 'p', output: 'two' });
    run.appendSample({ step: 5, prompt: 'p', output: 'five' });
    run.setStatus('interrupted');

    const resumed = openRunForResume(run.dir, { flushEveryRows: 1 });
    expect(resumed.meta.status).toBe('running');
    expect(resumed.meta.resumedAt).toHaveLength(1);
    expect(resumed.meta.endedAt).toBeUndefined();
    resumed.truncateMetricsAfter(3);
    resumed.truncateSamplesAfter(3);
    expect(resumed.wallTime()).toBeGreaterThanOrEqual(3);
    expect(resumed.wallTime()).toBeLessThan(4);
    for (let step = 4; step <= 6; step++) resumed.logMetrics(step, { loss: 20 - step });
    resumed.setStatus('done');

    const metrics = await readMetrics(run.dir);
    expect(Array.from(metrics.series.loss!.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(metrics.series.loss!.value)).toEqual([9, 8, 7, 16, 15, 14]);
    expect((await readSamples(run.dir)).map((s) => s.output)).toEqual(['two']);
    expect((await readMeta(run.dir)).status).toBe('done');
  });

  it('warns when it cuts a crash-truncated metrics tail (those steps are re-logged from the checkpoint)', () => {
    const run = createRun({ ...base, root, runId: 'r1', flushEveryRows: 1 });
    for (let step = 1; step <= 3; step++) run.logMetrics(step, { loss: step }, step);
    run.setStatus('interrupted');
    const file = join(run.dir, 'metrics.arrow');
    truncateSync(file, statSync(file).size - 5);
    const warnings: string[] = [];
    openRunForResume(run.dir, { onWarning: (l) => warnings.push(l) }).setStatus('interrupted');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cut off a truncated last batch \\(\\d+ bytes;`));
  });

  it('records failed with the cause, and releases the lock, even when meta.json cannot be written', async () => {
    const run = createRun({ ...base, root, runId: 'r1' });
    rmSync(run.dir, { recursive: true });
    const warnings: string[] = [];
    run.fail(new Error('disk full'), (l) => warnings.push(l));
    expect(warnings).toEqual([expect.stringMatching(/^could not record the failure in .*meta\.json: cannot write .*meta\.json/)]);
    expect(run.lock.released).toBe(true);
  });

  it('fails clearly on a folder that is not a run', () => {
    expect(() => openRunForResume(root)).toThrow(/meta.json: missing: not a run folder/);
  });
});
