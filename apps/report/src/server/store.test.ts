import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRun, forkRun } from '@sentencelab/runs';
import { afterAll, describe, expect, it } from 'vitest';
import { RunsStore } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'report-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('RunsStore statuses', () => {
  it('shows a run that says running but whose lock holder is gone as crashed, also after it was listed as running', async () => {
    const opts = { root, experiment: 'x', config: {}, seed: 1, backend: 'cpu', git: { sha: null, dirty: false } };
    const live = createRun({ ...opts, runId: 'live' });
    const dead = createRun({ ...opts, runId: 'dead' });
    const store = new RunsStore(root);
    const statuses = async () => Object.fromEntries((await store.runs()).runs.map((r) => [r.id, r.status]));
    expect(await statuses()).toEqual({ 'x/dead': 'running', 'x/live': 'running' });
    // The process "dies": its lock goes away while meta.json still says running.
    dead.close();
    expect(await statuses()).toEqual({ 'x/dead': 'crashed', 'x/live': 'running' });
    live.setStatus('done');
    expect(await statuses()).toEqual({ 'x/dead': 'crashed', 'x/live': 'done' });
  });
});

describe('RunsStore metric figures', () => {
  it('gives no "best" to a metric with no better side (learning rate, gradient norm, sys/...)', async () => {
    const run = createRun({ root, experiment: 'm', runId: 'r', config: {}, seed: 1, backend: 'cpu', git: { sha: null, dirty: false } });
    run.logMetrics(1, { 'train/loss': 3, 'train/lr': 0.01, 'sys/rss_mb': 300 });
    run.logMetrics(2, { 'train/loss': 2, 'train/lr': 0.005, 'sys/rss_mb': 310 });
    run.writeSummary({});
    run.setStatus('done');
    const row = (await new RunsStore(root).runs()).runs.find((r) => r.id === 'm/r')!;
    expect(row.metrics?.['train/loss']).toEqual({ count: 2, last: 2, lastStep: 2, min: 2, max: 3, best: 2, bestStep: 2, direction: 'min' });
    expect(row.metrics?.['train/lr']).toEqual({ count: 2, last: 0.005, lastStep: 2, min: 0.005, max: 0.01, direction: 'none' });
    expect(row.metrics?.['sys/rss_mb']).toEqual({ count: 2, last: 310, lastStep: 2, min: 300, max: 310, direction: 'none' });
  });
});

describe('RunsStore forks', () => {
  it("names the run a fork took its trained model from, by id inside the runs folder and by folder name outside it", async () => {
    const opts = { experiment: 'f', config: {}, seed: 1, backend: 'cpu', git: { sha: null, dirty: false } };
    const finished = (dir: string, runId: string) => {
      const run = createRun({ ...opts, root: dir, runId });
      writeFileSync(`${run.checkpointPath(3)}.safetensors`, 'weights');
      run.setLatestCheckpoint('step-00000003');
      run.writeSummary({});
      run.setStatus('done');
      return run.dir;
    };
    const inside = finished(root, 'donor');
    const elsewhere = mkdtempSync(join(tmpdir(), 'report-store-donor-'));
    const outside = finished(elsewhere, 'far');
    for (const [from, runId] of [[inside, 'fork'], [outside, 'fork-far']] as const) {
      const fork = forkRun(from, { ...opts, root, runId });
      fork.setStatus('done');
    }
    const rows = (await new RunsStore(root).runs()).runs;
    expect(rows.find((r) => r.id === 'f/fork')!.trainedBy).toEqual({ run: 'f/donor', step: 3 });
    expect(rows.find((r) => r.id === 'f/fork-far')!.trainedBy).toEqual({ run: 'far', step: 3 });
    expect(rows.find((r) => r.id === 'f/donor')!.trainedBy).toBeUndefined();
    rmSync(elsewhere, { recursive: true, force: true });
  });
});
