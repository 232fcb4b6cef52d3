/**
 * `pnpm bench sweep [--points 8] [--steps 4] [--workers 1,2]`: a sweep of tiny SentenceVAE
 * points on a real Redis queue (a redis-server started here on a free loopback port), run by
 * 1 worker, then by 2 (each `pnpm exp worker --concurrency 1`, a separate process), on this
 * machine. Reports points per minute (enqueue to last finish, the shared tokenizer job
 * included) and the scheduling overhead per point: the time a point waited for a worker that
 * was free, i.e. from its enqueueing (or its worker's previous finish, whichever is later) to
 * its start on that worker.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tinySvaeStage, writeTinyPipelineFile } from '@sentencelab/exp/testing';
import { redisMissing, startRedis } from '@sentencelab/runs/queue/testing';
import { machineInfo, printTable, type BenchFigure, type BenchResult } from '../result.js';

const root = resolve(import.meta.dirname, '..', '..', '..', '..');
const expCli = join(root, 'apps', 'exp', 'src', 'cli.ts');
const exp = (...args: string[]): string[] => ['--conditions=source', '--import', 'tsx', expCli, ...args];

export const usage = `pnpm bench sweep [options]
  A sweep of tiny SentenceVAE points on a real Redis queue (needs redis-server), run by 1 worker,
  then by 2: points per minute and scheduling overhead per point.
  --points N       sweep points (default 8)
  --steps N        training steps per point (default 4)
  --workers LIST   worker counts to run in turn, comma-separated (default 1,2)`;

/** What `pnpm exp queue <sweep> --json` prints, as far as this bench reads it. */
export interface PointTimes {
  id: string;
  label: string;
  state: string;
  enqueuedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  worker?: string;
}

/** Starts a child and resolves once its output matches `ready`. */
function startProcess(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const p = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((done, fail) => {
    const on = (c: Buffer): void => {
      out += c.toString();
      if (ready.test(out)) {
        p.stdout!.off('data', on);
        p.stderr!.off('data', on);
        p.stdout!.resume();
        p.stderr!.resume();
        done(p);
      }
    };
    p.stdout!.on('data', on);
    p.stderr!.on('data', on);
    p.once('exit', (code) => fail(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${out}`)));
  });
}

function tinyConfig(dir: string, steps: number): string {
  const stages = `  tok: {kind: tokenizer}\n${tinySvaeStage({ steps, evalEvery: steps, checkpointEvery: steps })}`;
  return writeTinyPipelineFile(dir, { name: 'bench-sweep', runsDir: join(dir, 'runs'), cacheDir: join(dir, 'data'), stages }, 'sweep.yaml');
}

/** Mean and max wait per point for a free worker (see the module comment). */
export function schedulingOverhead(points: readonly PointTimes[]): { meanMs: number; maxMs: number } {
  const byWorker = new Map<string, PointTimes[]>();
  for (const p of points) {
    if (p.startedAt === undefined || p.worker === undefined) throw new Error(`point ${p.label} never started`);
    byWorker.set(p.worker, [...(byWorker.get(p.worker) ?? []), p]);
  }
  const waits: number[] = [];
  for (const list of byWorker.values()) {
    list.sort((a, b) => a.startedAt! - b.startedAt!);
    list.forEach((p, i) => {
      const free = i === 0 ? p.enqueuedAt! : Math.max(p.enqueuedAt!, list[i - 1]!.finishedAt!);
      waits.push(p.startedAt! - free);
    });
  }
  return { meanMs: waits.reduce((a, b) => a + b, 0) / waits.length, maxMs: Math.max(...waits) };
}

export async function run(argv: string[]): Promise<BenchResult> {
  const { values } = parseArgs({ args: argv, options: { points: { type: 'string', default: '8' }, steps: { type: 'string', default: '4' }, workers: { type: 'string', default: '1,2' } } });
  const nPoints = Number(values.points);
  const steps = Number(values.steps);
  const workerCounts = values.workers.split(',').map(Number);
  const missing = redisMissing();
  if (missing !== undefined) throw new Error(`pnpm bench sweep needs ${missing}`);

  const dir = mkdtempSync(join(tmpdir(), 'bench-sweep-'));
  const redis = await startRedis();
  const url = redis.url;
  const file = tinyConfig(dir, steps);
  const lrs = Array.from({ length: nPoints }, (_, i) => (0.001 * (i + 1)).toPrecision(2)).join(',');
  const rows: (string | number)[][] = [];
  const results: BenchFigure[] = [];
  try {
    for (const n of workerCounts) {
      const cacheDir = join(dir, `cache-${n}`);
      mkdirSync(cacheDir, { recursive: true });
      const workers = await Promise.all(Array.from({ length: n }, () => startProcess(process.execPath, exp('worker', '--queue', url, '--concurrency', '1'), /^worker \S+ on /m)));
      try {
        const t0 = Date.now();
        const enqueue = spawnSync(process.execPath, exp('run', file, `stages.svae.train.lr=${lrs}`, '--queue', url, '--cache-dir', cacheDir), { cwd: root, encoding: 'utf8' });
        const wallS = (Date.now() - t0) / 1000;
        if (enqueue.status !== 0) throw new Error(`exp run --queue failed (${enqueue.status}):\n${enqueue.stdout}\n${enqueue.stderr}`);
        const sweep = /^sweep (sw-\S+): /m.exec(enqueue.stdout)![1]!;
        const status = spawnSync(process.execPath, exp('queue', sweep, '--queue', url, '--json'), { cwd: root, encoding: 'utf8' });
        const { points, shared } = JSON.parse(status.stdout) as { points: PointTimes[]; shared?: PointTimes };
        const first = shared?.enqueuedAt ?? Math.min(...points.map((p) => p.enqueuedAt!));
        const last = Math.max(...points.map((p) => p.finishedAt!));
        const perMinute = nPoints / ((last - first) / 60_000);
        const overhead = schedulingOverhead(points);
        const system = `${n}-worker${n > 1 ? 's' : ''}`;
        rows.push([system, String(nPoints), Math.round(wallS * 10) / 10, Math.round(perMinute * 100) / 100, Math.round(overhead.meanMs), Math.round(overhead.maxMs), Math.round(first - t0)]);
        results.push(
          { system, metric: 'points_per_minute', value: Math.round(perMinute * 100) / 100 },
          { system, metric: 'scheduling_overhead_ms_per_point', value: Math.round(overhead.meanMs) },
          { system, metric: 'scheduling_overhead_max_ms', value: Math.round(overhead.maxMs) },
        );
      } finally {
        for (const w of workers) w.kill('SIGKILL');
      }
    }
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`sweep of ${nPoints} tiny SentenceVAE points (${steps} steps each, cpu backend, shared tokenizer job first), redis-server on loopback`);
  printTable(['workers', 'points', 'wall s (exp run --queue)', 'points/min', 'sched. overhead ms/point (mean)', 'max ms', 'CLI start to enqueued ms'], rows);
  return { bench: 'sweep', machine: machineInfo(), config: { points: nPoints, steps, workers: workerCounts, backend: 'cpu', concurrency_per_worker: 1 }, results };
}
