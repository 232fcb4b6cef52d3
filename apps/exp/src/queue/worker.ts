/**
 * A queue worker: takes sweep points (and shared stages) from Redis and runs their pipelines
 * in this process, reporting progress through the job. Runs and the stage cache live on a
 * filesystem every worker sees.
 *
 * Faults: a worker that dies mid-training stops renewing its job lock; BullMQ's stalled check
 * hands the job to another worker, which resumes the run folder the first one recorded in the
 * job data (from its latest checkpoint, metrics after it dropped). Deterministic errors (bad
 * config or data, a NaN loss) fail the point at once; anything else retries with backoff.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DataError } from '@sentencelab/data';
import { RunFormatError } from '@sentencelab/runs';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { ConfigError } from '../config/errors.js';
import { executePipeline } from '../pipeline/execute.js';
import { TrainingDiverged, TrainingInterrupted } from '../train/errors.js';
import type { Progress, ProgressUpdate } from '../train/progress.js';
import { checkQueue, openRedis, redisOptions, scrub } from './connection.js';
import { pointJobOptions } from './enqueue.js';
import { cancelKey, QUEUE_NAME, type AnyJob, type PointJob, type SharedJob } from './jobs.js';

export interface WorkerOptions {
  concurrency: number;
  /**
   * Job lock in ms: renewed every half of it; a job whose lock lapses (its worker died) is
   * handed to another worker after at most about this long. Keep it above the longest pause
   * of the event loop (one training step, one tokenizer training).
   */
  lockMs: number;
  /** Replaces the cache folder the enqueuer gave (when this machine mounts it elsewhere). */
  cacheDir?: string;
  log?: (line: string) => void;
}

/** What a worker reports through `job.updateProgress`: read by `exp queue`, `run --queue` and the report. */
export interface PointProgress {
  stage?: string;
  step?: number;
  total?: number;
  loss?: number;
  tokensPerS?: number;
  host: string;
  pid: number;
  backend?: string;
  device?: string;
  runDir?: string;
  /** ms since the epoch of this report. */
  at: number;
}

/** Errors that fail the same way on every try: the point is marked failed at once. */
function deterministic(e: unknown): boolean {
  return e instanceof ConfigError || e instanceof DataError || e instanceof TrainingDiverged || e instanceof RunFormatError;
}

/** The run folder a previous try left unfinished (its worker died or was stopped), if any. */
function unfinishedRun(runs: Record<string, string> | undefined): string | undefined {
  for (const dir of Object.values(runs ?? {})) {
    try {
      const status = (JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { status?: string }).status;
      if (status !== 'done' && existsSync(join(dir, 'checkpoints', 'latest'))) return dir;
    } catch {
      // a folder that is gone or unreadable is started over
    }
  }
  return undefined;
}

export interface RunningWorker {
  worker: Worker<AnyJob>;
  /** Stops taking jobs; running ones checkpoint and go back to the queue for another worker. */
  stop(): Promise<void>;
}

export async function startWorker(url: string, o: WorkerOptions): Promise<RunningWorker> {
  const q = await checkQueue(url);
  const log = o.log ?? ((l: string) => console.log(l));
  const { stageRegistry } = await import('../stages/registry.js');
  const { startBackend } = await import('../backend.js');
  const registry = stageRegistry();
  const host = hostname();
  const name = `${host}:${process.pid}`;
  const queue = new Queue<AnyJob>(QUEUE_NAME, { connection: redisOptions(q) });
  queue.on('error', () => {});
  const client = openRedis(q);
  const running = new Map<string, AbortController>();
  let stopping = false;

  const processor = async (job: Job<AnyJob>, token?: string): Promise<unknown> => {
    const data = job.data;
    if (data.type === 'release') {
      if ((await client.exists(cancelKey(data.sweep))) > 0) throw new UnrecoverableError('cancelled (exp queue cancel)');
      await queue.addBulk(data.points.map((p, i) => ({ name: 'point', data: p, opts: pointJobOptions(`${data.sweep}.p${i}`, data.options) })));
      return { released: data.points.length };
    }
    const controller = new AbortController();
    running.set(job.id!, controller);
    const poll = setInterval(() => {
      client.exists(cancelKey(data.sweep)).then((n) => n > 0 && controller.abort(), () => {});
    }, 1000);
    const tag = data.type === 'point' ? `${data.sweep}/${data.label || job.id}` : `${data.sweep}/shared`;
    const base: PointProgress = { host, pid: process.pid, at: Date.now() };
    const report = (p: Partial<PointProgress>): void => {
      Object.assign(base, p, { at: Date.now() });
      job.updateProgress({ ...base }).catch(() => {});
    };
    log(`[${tag}] started on ${name} (job ${job.id}, try ${job.attemptsStarted})`);
    try {
      const cacheDir = o.cacheDir ?? data.cacheDir;
      const configs = data.type === 'point' ? [{ stage: '', config: data.config }] : (data as SharedJob).items;
      for (const item of configs) {
        const { backend, device } = await startBackend(item.config.backend, item.config.gpu);
        report({ backend, ...(device !== undefined ? { device: device.description || `${device.vendor} ${device.device}` } : {}) });
        const resumeRunDir = data.type === 'point' ? unfinishedRun(data.runs) : undefined;
        if (resumeRunDir) log(`[${tag}] resuming ${resumeRunDir} from its latest checkpoint`);
        await executePipeline(item.config, registry, {
          file: data.file,
          overrides: data.type === 'point' ? data.overrides : [],
          label: data.type === 'point' ? data.label : 'shared',
          cacheDir,
          ...(resumeRunDir ? { resumeRunDir } : {}),
          signal: controller.signal,
          backendInUse: backend,
          backendDevice: device,
          log: (line) => log(`[${tag}] ${line}`),
          onRunFolder: async (stage, runDir) => {
            report({ stage, runDir, step: 0 });
            if (data.type === 'point') {
              const runs = { ...(job.data as PointJob).runs, [stage]: runDir };
              await job.updateData({ ...(job.data as PointJob), runs });
            }
          },
          progress: (label) => progressToJob(label, report, (l) => log(`[${tag}] ${l}`)),
        });
      }
      if (controller.signal.aborted && !stopping) throw new UnrecoverableError('cancelled (exp queue cancel)');
      log(`[${tag}] done`);
      return { host, runs: data.type === 'point' ? (job.data as PointJob).runs ?? {} : {} };
    } catch (e) {
      if (e instanceof TrainingInterrupted || controller.signal.aborted) {
        if (stopping && token !== undefined) {
          // Back to the queue without using up a try: another worker resumes the checkpoint.
          await job.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        }
        throw new UnrecoverableError('cancelled (exp queue cancel)');
      }
      const message = scrub(e instanceof Error ? e.message : String(e), q);
      log(`[${tag}] failed: ${message}`);
      if (deterministic(e)) throw new UnrecoverableError(message);
      throw e;
    } finally {
      clearInterval(poll);
      running.delete(job.id!);
    }
  };

  const worker = new Worker<AnyJob>(QUEUE_NAME, processor, {
    connection: redisOptions(q),
    concurrency: o.concurrency,
    lockDuration: o.lockMs,
    stalledInterval: Math.max(500, Math.round(o.lockMs / 2)),
    maxStalledCount: 2,
    name,
  });
  worker.on('error', (e) => log(`queue: ${scrub(e.message, q)} (reconnecting)`));
  // Another worker may have taken a job whose lock this one failed to renew: stop training it.
  worker.on('lockRenewalFailed', (ids) => {
    for (const id of ids) running.get(id)?.abort();
  });
  await worker.waitUntilReady();
  log(`worker ${name} on ${q.masked}, queue "${QUEUE_NAME}", concurrency ${o.concurrency}`);
  return {
    worker,
    async stop() {
      stopping = true;
      for (const c of running.values()) c.abort();
      await worker.close();
      await queue.close();
      client.disconnect();
    },
  };
}

/** Training progress as job progress (at most every 500 ms, and always the last step) and a few log lines. */
function progressToJob(label: string, report: (p: Partial<PointProgress>) => void, line: (l: string) => void): Progress {
  let total = 0;
  let last = 0;
  let lastLine = 0;
  return {
    start(t, step) {
      total = t;
      report({ stage: label.replace(/^\[|\]$/g, ''), step, total });
    },
    update(u: ProgressUpdate) {
      const now = Date.now();
      if (now - last < 500 && u.step !== total) return;
      last = now;
      report({ step: u.step, total, loss: u.loss, tokensPerS: u.tokensPerS });
      if (now - lastLine > 10_000 || u.step === total) {
        lastLine = now;
        line(`${label} ${u.step}/${total} | loss ${u.loss.toFixed(4)} | ${Math.round(u.tokensPerS)} tok/s`);
      }
    },
    note: (l) => line(`${label} ${l}`),
    stop() {},
  };
}
