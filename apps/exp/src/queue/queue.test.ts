/**
 * Sweeps on a real Redis (a redis-server started per test file) with `pnpm exp worker`s as
 * child processes: enqueueing, shared stages, progress, listing, cancelling, connection errors.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { queueAction } from '../commands/queue.js';
import { repoRoot, tinyPipeline } from '../testing/tiny-pipeline.js';
import { checkQueue, openQueue, openRedis, parseQueueUrl, SWEEPS_KEY, sweepRecords, type PointProgress } from '@sentencelab/runs/queue';
import { freePort, redisMissing, startRedis, type TestRedis } from '@sentencelab/runs/queue/testing';
import type { AnyJob, PointJob } from './jobs.js';
import { cancelSweep } from './status.js';
import { runQueued } from './testing/sweeps.js';
import { cliArgs, spawnWorker, type TestWorker } from './testing/workers.js';

const exec = promisify(execFile);
const missing = redisMissing();
if (missing) console.warn(`skipping the queue tests: ${missing}`);

const SECRET = 'sekrit-Pa55';
const datasets = mkdtempSync(join(tmpdir(), 'exp-queue-data-'));

/** Every file under `dir`, read as text (run folders, caches). */
function allText(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'latin1'))
    .join('\n');
}

describe.skipIf(missing !== undefined)('exp run --queue / exp worker / exp queue', () => {
  let redis: TestRedis;
  const workers: TestWorker[] = [];

  beforeAll(async () => {
    redis = await startRedis({ password: SECRET });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await redis?.stop();
  });

  test('a bad point, an unreachable Redis, a wrong password or a malformed URL fail within seconds, naming the host, password masked, enqueueing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-queue-bad-'));
    const file = tinyPipeline(dir, datasets);
    const cacheDir = join(dir, 'cache');
    await expect(runQueued(file, ['stages.svae.train.steps=3,-1'], redis.url, { cacheDir })).rejects.toThrow(/stages\.svae\.train\.steps: Too small/);
    const client = openRedis(parseQueueUrl(redis.url));
    try {
      expect(await client.hlen(SWEEPS_KEY)).toBe(0);
      expect(await client.keys('bull:*')).toEqual([]);
    } finally {
      client.disconnect();
    }

    const port = await freePort();
    const cases: [string, RegExp][] = [
      [`redis://:${SECRET}@127.0.0.1:${port}`, new RegExp(`queue at 127\\.0\\.0\\.1:${port} \\(redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}\\): connect ECONNREFUSED`)],
      [`redis://:wrong-${SECRET}@127.0.0.1:${redis.port}`, new RegExp(`queue at 127\\.0\\.0\\.1:${redis.port} .*authentication failed \\(WRONGPASS`)],
      [`redis://127.0.0.1:${redis.port}`, /authentication failed \(NOAUTH/],
      [`redis//:${SECRET}@gpu-box:6379`, /malformed queue URL "redis\/\/:\*\*\*@gpu-box:6379": expected redis:\/\/\[user:password@\]host/],
      [`http://:${SECRET}@gpu-box:6379`, /malformed queue URL "http:\/\/:\*\*\*@gpu-box:6379": scheme "http:"/],
    ];
    for (const [url, expected] of cases) {
      const t0 = performance.now();
      const e = await runQueued(file, ['stages.svae.train.lr=0.001,0.002'], url, { cacheDir }).then(
        () => undefined,
        (x: unknown) => x as Error,
      );
      expect(e?.message).toMatch(expected);
      expect(e?.message).not.toContain(SECRET);
      expect(performance.now() - t0).toBeLessThan(5000);
    }
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  }, 60_000);

  test('$EXP_QUEUE supplies the URL without its password reaching --help', async () => {
    const env = { ...process.env, EXP_QUEUE: redis.url };
    for (const args of [['worker', '--help'], ['queue', '--help']]) {
      const { stdout } = await exec(process.execPath, cliArgs(...args), { cwd: repoRoot, env });
      expect(stdout).toMatch(/\(default:\s+\$EXP_QUEUE\)/);
      expect(stdout).not.toContain(SECRET);
    }
    const { stdout } = await exec(process.execPath, cliArgs('queue'), { cwd: repoRoot, env });
    expect(stdout).toMatch(/^(sweep\s+experiment|no sweeps in the queue)/);
  }, 60_000);

  test('two workers run a sweep: the shared tokenizer once, each point once, progress with host and backend, the password in no run folder or log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-queue-sweep-'));
    const file = tinyPipeline(dir, datasets, 4);
    const cacheDir = join(dir, 'cache');
    workers.push(await spawnWorker(redis.url), await spawnWorker(redis.url));
    const { code, lines } = await runQueued(file, ['stages.svae.train.lr=0.001,0.002,0.003'], redis.url, { cacheDir });
    expect(code, `${lines.join('\n')}\n${workers.map((w) => w.output()).join('\n')}`).toBe(0);
    const sweep = /^sweep (sw-\S+): 3 point\(s\) on redis:\/\/:\*\*\*@127\.0\.0\.1:\d+, shared stages first: tok$/m.exec(lines.join('\n'))?.[1];
    expect(sweep).toBeDefined();
    expect(lines).toContain('[shared] done');
    for (const l of ['0.001', '0.002', '0.003']) expect(lines).toContain(`[lr=${l}] done`);
    expect(lines.at(-1)).toBe(`sweep ${sweep}: 3 done, 0 failed or cancelled`);

    const logs = workers.map((w) => w.output()).join('\n');
    expect(logs.match(/\[tok\] done in/g)).toHaveLength(1);
    expect(logs.match(/\[tok\] reused tokenizer artifact/g)).toHaveLength(3);
    const queue = openQueue<AnyJob>(parseQueueUrl(redis.url));
    try {
      for (let i = 0; i < 3; i++) {
        const job = (await queue.getJob(`${sweep}.p${i}`))!;
        expect(await job.getState()).toBe('completed');
        expect(job.attemptsStarted).toBe(1);
        expect(logs.match(new RegExp(`started on \\S+ \\(job ${sweep!.replace(/\./g, '\\.')}\\.p${i}, try`, 'g'))).toHaveLength(1);
        const progress = job.progress as PointProgress;
        expect(workers.map((w) => `${progress.host}:${w.pid}`)).toContain(progress.worker);
        expect(progress).toMatchObject({ stage: 'svae', step: 4, total: 4, backend: 'cpu' });
        expect(progress.host.length).toBeGreaterThan(0);
        expect(Number.isFinite(progress.loss)).toBe(true);
        expect(progress.tokensPerS).toBeGreaterThan(0);
        const runDir = (job.data as PointJob).runs!['svae']!;
        expect(runDir.startsWith(join(dir, 'runs', 'tiny'))).toBe(true);
      }
    } finally {
      await queue.close();
    }

    const printed: string[] = [];
    await queueAction(redis.url, undefined, (l) => printed.push(l));
    expect(printed.join('\n')).toMatch(new RegExp(`${sweep}\\s+tiny\\s+3\\s+0\\s+0\\s+3\\s+0\\s+0`));
    printed.length = 0;
    await queueAction(redis.url, sweep, (l) => printed.push(l));
    expect(printed.join('\n')).toMatch(/lr=0\.002\s+done\s+1\s+svae 4\/4 loss \d\.\d{4} [\d,]+ tok\/s on \S+:\d+ \(cpu\)/);

    expect(allText(join(dir, 'runs'))).not.toContain(SECRET);
    expect(allText(cacheDir)).not.toContain(SECRET);
    expect(logs).not.toContain(SECRET);
    expect(lines.join('\n')).not.toContain(SECRET);
  }, 180_000);

  test('cancel removes the points that have not started; exp queue shows them cancelled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-queue-cancel-'));
    const file = tinyPipeline(dir, datasets);
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const { code, lines } = await runQueued(file, ['seed=1,2'], redis.url, { cacheDir: join(dir, 'cache'), detach: true });
    expect(code).toBe(0);
    const sweep = /^sweep (sw-\S+): 2 point/m.exec(lines.join('\n'))![1]!;
    const q = await checkQueue(redis.url);
    const queue = openQueue<AnyJob>(q);
    const client = openRedis(q);
    try {
      expect(await cancelSweep(queue, client, sweep)).toEqual({ removed: 2, running: 0 });
      expect((await sweepRecords(client)).map((r) => r.id)).toContain(sweep);
    } finally {
      await queue.close();
      client.disconnect();
    }
    const printed: string[] = [];
    await queueAction(redis.url, sweep, (l) => printed.push(l));
    expect(printed.join('\n').match(/cancelled/g)).toHaveLength(2);
  }, 60_000);
});
