/**
 * The faults a queued sweep must survive, on a real redis-server with `pnpm exp worker`s as
 * child processes: a worker SIGKILLed mid-training, Redis restarted under running workers,
 * deterministic and transient failures.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive as alive, readMeta, readMetrics } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { afterEach, describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { executePipeline } from '../pipeline/execute.js';
import { STAGES, stageRegistry } from '../stages/registry.js';
import { tinyPipeline } from '../testing/tiny-pipeline.js';
import { silentProgress } from '../train/progress.js';
import { checkQueue, openQueue, type PointProgress } from '@sentencelab/runs/queue';
import type { AnyJob, PointJob } from './jobs.js';
import { redisMissing, startRedis, type TestRedis } from '@sentencelab/runs/queue/testing';
import { runQueued, settled } from './testing/sweeps.js';
import { spawnWorker, type TestWorker } from './testing/workers.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the queue fault tests: ${missing}`);

const datasets = mkdtempSync(join(tmpdir(), 'exp-faults-data-'));

async function trainLoss(runDir: string): Promise<{ steps: number[]; values: number[] }> {
  const s = (await readMetrics(runDir, { names: ['train/loss'] })).series['train/loss']!;
  return { steps: Array.from(s.step), values: Array.from(s.value) };
}

describe.skipIf(missing !== undefined)('queued sweeps under faults', () => {
  const started: { redis?: TestRedis; workers: TestWorker[] } = { workers: [] };
  afterEach(async () => {
    await Promise.all(started.workers.splice(0).map((w) => w.kill()));
    await started.redis?.stop();
  });

  test('a worker stopped (SIGTERM) hands its point back, the next one SIGKILLed: a third resumes from the last checkpoint, no step lost or repeated, the losses of an uninterrupted run', async () => {
    const redis = (started.redis = await startRedis());
    const dir = mkdtempSync(join(tmpdir(), 'exp-faults-kill-'));
    const file = tinyPipeline(dir, datasets, 10);
    const { sweep } = await runQueued(file, [], redis.url, { cacheDir: join(dir, 'cache'), detach: true, attempts: 2 });
    const jobId = `${sweep}.p0`;

    await initBackend('cpu', { log: false });
    const reference = executePipeline(loadPipeline(file, STAGES).config, stageRegistry(), { overrides: [], cacheDir: join(dir, 'cache-ref'), log: () => {}, progress: () => silentProgress });

    const queue = openQueue<AnyJob>(await checkQueue(redis.url));
    /** Waits until the point's progress passes `step` with a checkpoint on disk. */
    const reach = async (step: number, worker: TestWorker): Promise<PointProgress> => {
      for (let t0 = Date.now(); Date.now() - t0 < 90_000; await new Promise((r) => setTimeout(r, 50))) {
        const job = (await queue.getJob(jobId))!;
        const p = job.progress as PointProgress;
        const runDir = (job.data as PointJob).runs?.['svae'];
        if (p?.worker?.endsWith(`:${worker.pid}`) && (p.step ?? 0) >= step && runDir && existsSync(join(runDir, 'checkpoints', 'latest'))) return p;
      }
      throw new Error(`the point did not reach step ${step} on worker ${worker.pid}:\n${worker.output()}`);
    };
    try {
      const first = await spawnWorker(redis.url);
      started.workers.push(first);
      await reach(3, first);
      await first.stop();
      expect(first.proc.exitCode).toBe(0);
      expect(first.output()).toMatch(/SIGTERM: checkpointing running points and handing them back/);
      const handedBack = (await queue.getJob(jobId))!;
      expect(['waiting', 'delayed']).toContain(await handedBack.getState());
      expect(handedBack.attemptsMade).toBe(0);

      const second = await spawnWorker(redis.url);
      started.workers.push(second);
      const progress = await reach(6, second);
      expect(second.output()).toContain('from its latest checkpoint');
      await second.kill();
      // Its job process goes with it, mid-step (its watchdog thread, orphan-watchdog.test.ts
      // times that alone): nothing keeps training the point in the background.
      for (let t0 = Date.now(); alive(progress.pid) && Date.now() - t0 < 10_000; ) await new Promise((r) => setTimeout(r, 50));
      expect(alive(progress.pid)).toBe(false);

      const third = await spawnWorker(redis.url);
      started.workers.push(third);
      const s = await settled(redis.url, sweep);
      expect(s.points[0]!.state).toBe('done');
      const runDir = ((await queue.getJob(jobId))!.data as PointJob).runs!['svae']!;
      // One run folder from start to finish, continued twice (not a fresh start that happens to match).
      expect(progress.runDir).toBe(runDir);
      expect(third.output()).toContain(`resuming ${runDir} from its latest checkpoint`);
      const meta = await readMeta(runDir);
      expect(meta.status).toBe('done');
      expect(meta.resumedAt).toHaveLength(2);
      const resumed = await trainLoss(runDir);
      expect(resumed.steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const ref = await reference;
      expect(resumed.values).toEqual((await trainLoss(ref.find((r) => r.name === 'svae')!.artifact.runDir!)).values);
    } finally {
      await queue.close();
    }
  }, 240_000);

  test('Redis restarted while a worker runs: the worker reconnects and every point finishes', async () => {
    const redis = (started.redis = await startRedis({ appendOnly: true }));
    const dir = mkdtempSync(join(tmpdir(), 'exp-faults-restart-'));
    const file = tinyPipeline(dir, datasets, 4);
    const worker = await spawnWorker(redis.url);
    started.workers.push(worker);
    const { sweep } = await runQueued(file, ['stages.svae.train.lr=0.001,0.002'], redis.url, { cacheDir: join(dir, 'cache'), detach: true });
    await worker.waitFor(/\[svae\] run folder/, 90_000);
    await redis.kill();
    await new Promise((r) => setTimeout(r, 1000));
    await redis.start();
    const s = await settled(redis.url, sweep);
    expect(s.points.map((p) => p.state)).toEqual(['done', 'done']);
    const queue = openQueue<AnyJob>(await checkQueue(redis.url));
    try {
      for (const p of s.record.points) {
        const runDir = ((await queue.getJob(p.id))!.data as PointJob).runs!['svae']!;
        expect((await readMeta(runDir)).status).toBe('done');
        expect((await trainLoss(runDir)).steps).toEqual([1, 2, 3, 4]);
      }
    } finally {
      await queue.close();
    }
  }, 180_000);

  test('a NaN loss fails its point once; a transient error retries with backoff, up to the configured attempts', async () => {
    const redis = (started.redis = await startRedis());
    const dir = mkdtempSync(join(tmpdir(), 'exp-faults-fail-'));
    const file = tinyPipeline(dir, datasets, 4);
    started.workers.push(await spawnWorker(redis.url));
    const nan = await runQueued(file, ['stages.svae.train.lr=1e30'], redis.url, { cacheDir: join(dir, 'cache'), detach: true, attempts: 3, backoffMs: 200 });
    // A file where the cache folder should be: every try fails until it is removed (a shared filesystem not yet mounted).
    const blocked = join(dir, 'blocked-cache');
    writeFileSync(blocked, '');
    const never = await runQueued(file, ['seed=5'], redis.url, { cacheDir: blocked, detach: true, attempts: 2, backoffMs: 200 });
    const blocked2 = join(dir, 'blocked-cache-2');
    writeFileSync(blocked2, '');
    const later = await runQueued(file, ['seed=6'], redis.url, { cacheDir: blocked2, detach: true, attempts: 3, backoffMs: 1500 });

    const queue = openQueue<AnyJob>(await checkQueue(redis.url));
    try {
      for (let t0 = Date.now(); Date.now() - t0 < 60_000; await new Promise((r) => setTimeout(r, 100))) {
        if (((await queue.getJob(`${later.sweep}.p0`))?.attemptsMade ?? 0) >= 1) break;
      }
      rmSync(blocked2);
      const [a, b, c] = await Promise.all([nan, never, later].map((x) => settled(redis.url, x.sweep)));
      const [ja, jb, jc] = await Promise.all([a, b, c].map((s) => queue.getJob(s!.record.points[0]!.id)));
      expect(a!.points[0]!.state).toBe('failed');
      expect(ja!.attemptsStarted).toBe(1);
      expect(ja!.failedReason).toMatch(/the loss is NaN at step \d+/);
      expect(b!.points[0]!.state).toBe('failed');
      expect(jb!.attemptsStarted).toBe(2);
      expect(jb!.failedReason).toMatch(/ENOTDIR|EEXIST/);
      expect(c!.points[0]!.state).toBe('done');
      expect(jc!.attemptsStarted).toBe(2);
    } finally {
      await queue.close();
    }
  }, 180_000);
});
