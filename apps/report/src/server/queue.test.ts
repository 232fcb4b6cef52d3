/**
 * `pnpm report --queue`: a real redis-server, a sweep enqueued by the real `pnpm exp run --queue`
 * and worked by a real `pnpm exp worker` (child processes), read through the report server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQueueUrl } from '@sentencelab/runs/queue';
import { redisMissing, startRedis, type TestRedis } from '@sentencelab/runs/queue/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunRow, RunsPayload } from '../shared/types.js';
import { enqueueSweep, expCli, repoRoot } from '../testing/sweep.js';
import { mergeQueue, type QueuePoint } from './queue-rows.js';
import { startReportServer, type ReportServer } from './server.js';

const missing = redisMissing();
if (missing) console.warn(`skipping the report --queue tests: ${missing}`);

const SECRET = 'queue-Pa55-word';
const root = mkdtempSync(join(tmpdir(), 'report-queue-'));
const runsDir = join(root, 'runs');

async function runs(server: ReportServer): Promise<{ body: string; payload: RunsPayload }> {
  const res = await fetch(`${server.url}api/runs`);
  expect(res.status).toBe(200);
  const body = await res.text();
  return { body, payload: JSON.parse(body) as RunsPayload };
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms: number, context: () => string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what} not seen within ${ms} ms\n${context()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(missing !== undefined)('pnpm report --queue', () => {
  let redis: TestRedis;
  let server: ReportServer | undefined;
  let worker: ChildProcess | undefined;
  let workerOut = '';

  beforeAll(async () => {
    redis = await startRedis({ password: SECRET });
  });
  afterAll(async () => {
    worker?.kill('SIGKILL');
    await server?.close();
    await redis?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('lists queued points, then a running point once with its worker, step, loss and tok/s; never the password', async () => {
    const sweep = await enqueueSweep(root, runsDir, redis.url, 100_000);

    server = await startReportServer({ runsDir, port: 0, queue: redis.url });
    const page = await (await fetch(server.url)).text();
    expect(page).not.toContain(SECRET);
    const first = await runs(server);
    expect(first.body).not.toContain(SECRET);
    expect(first.payload.queue).toEqual({ url: `redis://:***@127.0.0.1:${redis.port}` });
    const queued = first.payload.runs.filter((r) => r.queue?.sweep === sweep);
    expect(queued.map((r) => [r.runId, r.status, r.queueOnly, r.queue?.state])).toEqual([
      [`${sweep} seed=1`, 'queued', true, 'waiting'],
      [`${sweep} seed=2`, 'queued', true, 'waiting'],
    ]);

    worker = spawn(process.execPath, [...expCli, 'worker', '--queue', redis.url, '--concurrency', '1'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.on('data', (c: Buffer) => (workerOut += c.toString()));
    worker.stderr!.on('data', (c: Buffer) => (workerOut += c.toString()));
    const pid = worker.pid!;
    const live = await until(
      'a running svae point with a step',
      async () => {
        const { body, payload } = await runs(server!);
        expect(body).not.toContain(SECRET);
        const rows = payload.runs.filter((r) => r.queue?.sweep === sweep);
        const running = rows.find((r) => r.status === 'running' && (r.queue?.step ?? 0) > 0 && r.queue?.tokensPerS !== undefined);
        return running ? { rows, running } : undefined;
      },
      90_000,
      () => workerOut,
    );
    const { rows, running } = live;
    // The point shows once: as its run folder, with the live state from the queue.
    expect(running.queueOnly).toBeUndefined();
    expect(running.id).toMatch(/^tiny\//);
    expect(running.queue).toMatchObject({ state: 'active', stage: 'svae', total: 100_000 });
    expect(running.queue!.worker).toMatch(new RegExp(`:${pid}$`));
    expect(Number.isFinite(running.queue!.loss)).toBe(true);
    expect(running.queue!.detail).toMatch(new RegExp(`^svae \\d+/100000 loss \\d+\\.\\d{4} [\\d,]+ tok/s on \\S+:${pid} \\(cpu`));
    const label = running.queue!.label;
    expect(rows.filter((r) => r.queue?.label === label)).toHaveLength(1);
    const other = rows.find((r) => r.queue?.label !== label)!;
    expect([other.status, other.queueOnly]).toEqual(['queued', true]);

    // Redis gone: the runs folder is still served, with a note naming the host (password masked).
    worker.kill('SIGKILL');
    await redis.kill();
    const down = await runs(server);
    expect(down.body).not.toContain(SECRET);
    expect(down.payload.queue?.error).toMatch(new RegExp(`^cannot read the queue at 127\\.0\\.0\\.1:${redis.port} \\(redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}\\)`));
    expect(down.payload.runs.some((r) => r.id === running.id && !r.queue)).toBe(true);
    await redis.start();
  }, 180_000);

  test('a wrong password or an unreachable queue fails the start within seconds, naming the host, password masked', async () => {
    const wrong = `redis://:not-${SECRET}@127.0.0.1:${redis.port}`;
    const t0 = Date.now();
    const error = await startReportServer({ runsDir, port: 0, queue: wrong }).then(
      () => new Error('started'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toMatch(new RegExp(`^cannot use the queue at 127\\.0\\.0\\.1:${redis.port} \\(redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}\\): authentication failed`));
    expect(error.message).not.toContain(SECRET);
    await expect(startReportServer({ runsDir, port: 0, queue: 'http://x' })).rejects.toThrow('malformed queue URL "http://x"');
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 30_000);
});

describe('mergeQueue', () => {
  const url = parseQueueUrl(`redis://:${SECRET}@q:6379`);
  const folder = (id: string, status: RunRow['status']): RunRow => ({ id, experiment: id.split('/')[0]!, runId: id.split('/')[1]!, ok: true, status });
  const point = (label: string, state: QueuePoint['status']['state'], extra: Partial<QueuePoint['status']> = {}): QueuePoint => ({
    record: { id: 'sw-1', experiment: 'tiny', file: 'tiny.yaml', createdAt: '2026-01-01T00:00:00.000Z', points: [] },
    status: { id: `sw-1.${label}`, label, state, tries: 1, enqueuedAt: 0, ...extra },
  });

  test('matches run folders only inside the listing; a failed point without one is its own row, its error masked', () => {
    const payload: RunsPayload = { version: 'v', runs: [folder('tiny/a', 'done'), folder('tiny/b', 'crashed')] };
    const merged = mergeQueue(payload, '/r', url, {
      points: [
        point('p0', 'done', { runs: { svae: '/r/tiny/a' } }),
        point('p1', 'waiting', { runs: { svae: '/r/tiny/b' } }),
        point('p2', 'failed', { runs: { svae: '/r/tiny/../../etc' }, error: `NaN loss (redis://:${SECRET}@q:6379)` }),
        point('p3', 'done'),
      ],
    });
    expect(merged.runs.map((r) => [r.id, r.status, r.queue?.label, r.queueOnly])).toEqual([
      ['tiny/a', 'done', 'p0', undefined],
      ['tiny/b', 'queued', 'p1', undefined],
      ['tiny/sw-1 p2', 'failed', 'p2', true],
    ]);
    expect(merged.runs[2]!.failure).toBe('NaN loss (redis://:***@q:6379)');
    expect(JSON.stringify(merged)).not.toContain(SECRET);
    expect(merged.version).not.toBe(mergeQueue(payload, '/r', url, { points: [point('p1', 'active', { runs: { svae: '/r/tiny/b' } })] }).version);
  });
});
