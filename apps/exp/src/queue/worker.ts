/**
 * A queue worker: takes sweep points (and shared stages) from Redis and runs their pipelines,
 * reporting progress through the job. Runs and the stage cache live on a filesystem every
 * worker sees.
 *
 * Each concurrency slot runs pipelines in its own child process (job-child.ts), so training
 * never blocks this process's event loop and the job locks are always renewed on time.
 *
 * Faults: a worker that dies stops renewing its locks (its children exit with it); BullMQ's
 * stalled check hands the job to another worker, which resumes the run folder the first one
 * recorded in the job data from its latest checkpoint (metrics after it dropped). A worker
 * that loses a lock kills the child at once: the job may already be another worker's.
 * Deterministic errors (bad config or data, a NaN loss) fail the point at once; anything else
 * retries with backoff.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { cancelKey, checkQueue, closeWhenConnected, openQueue, openRedis, QUEUE_NAME, redisOptions, scrub, type PointProgress } from '@sentencelab/runs/queue';
import { pointJobOptions } from './enqueue.js';
import type { AnyJob, PointJob, SharedJob } from './jobs.js';
import type { ChildReply, ChildRequest } from './protocol.js';

export interface WorkerOptions {
  concurrency: number;
  /**
   * Job lock in ms, renewed every half of it: a job whose worker died is handed to another
   * worker after about this long.
   */
  lockMs: number;
  /** Replaces the cache folder the enqueuer gave (when this machine mounts it elsewhere). */
  cacheDir?: string;
  log?: (line: string) => void;
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

const here = fileURLToPath(import.meta.url);
/** job-child.ts under tsx (source), job-child.js once built. */
const childScript = join(dirname(here), `job-child${extname(here)}`);

/** A child process with a pipeline running in it, or idle. */
interface Slot {
  child: ChildProcess;
  ready: Promise<void>;
  /** Called with each reply of the job now running. */
  onReply?: (m: ChildReply) => void;
}

export interface RunningWorker {
  worker: Worker<AnyJob>;
  /** Stops taking jobs; running ones checkpoint and go back to the queue for another worker. */
  stop(): Promise<void>;
}

export async function startWorker(url: string, o: WorkerOptions): Promise<RunningWorker> {
  const q = await checkQueue(url);
  const log = o.log ?? ((l: string) => console.log(l));
  const host = hostname();
  const name = `${host}:${process.pid}`;
  const queue = openQueue<AnyJob>(q);
  const client = openRedis(q);
  const idle: Slot[] = [];
  const busy = new Map<string, Slot>();
  let stopping = false;

  const spawnSlot = (): Slot => {
    const child = fork(childScript, [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const slot: Slot = {
      child,
      ready: new Promise<void>((resolve, reject) => {
        child.once('exit', (code, signal) => reject(new Error(`job process exited (${signal ?? code}) before it was ready`)));
        const first = (m: ChildReply): void => {
          if (m.type === 'ready') {
            child.off('message', first);
            resolve();
          }
        };
        child.on('message', first);
      }),
    };
    child.on('message', (m: ChildReply) => slot.onReply?.(m));
    // An idle child that dies is noticed when a job needs it (see takeSlot).
    slot.ready.catch(() => {});
    return slot;
  };

  const takeSlot = (): Slot => {
    for (let s = idle.pop(); s; s = idle.pop()) if (s.child.exitCode === null && s.child.signalCode === null) return s;
    return spawnSlot();
  };

  /** Runs one point or shared job in a child; resolves when it finished, rejects as the job should fail. */
  const runInChild = async (job: Job<AnyJob>, data: PointJob | SharedJob, token: string | undefined): Promise<void> => {
    const slot = takeSlot();
    busy.set(job.id!, slot);
    const tag = data.type === 'point' ? `${data.sweep}/${data.label || job.id}` : `${data.sweep}/shared`;
    const progress: PointProgress = { host, pid: slot.child.pid!, worker: name, at: Date.now() };
    const poll = setInterval(() => {
      client.exists(cancelKey(data.sweep)).then((n) => n > 0 && slot.child.send({ type: 'abort' } satisfies ChildRequest), () => {});
    }, 1000);
    log(`[${tag}] started on ${name} (job ${job.id}, try ${job.attemptsStarted})`);
    try {
      await slot.ready;
      const outcome = await new Promise<Extract<ChildReply, { type: 'done' | 'failed' }>>((resolve, reject) => {
        slot.child.once('exit', (code, signal) => reject(new Error(`the job process exited (${signal ?? code}) mid-job`)));
        slot.onReply = (m) => {
          if (m.type === 'log') log(m.line);
          else if (m.type === 'progress') {
            Object.assign(progress, m.progress, { at: Date.now() });
            job.updateProgress({ ...progress }).catch(() => {});
          } else if (m.type === 'runFolder') {
            const current = job.data as PointJob | SharedJob;
            const key = current.type === 'point' ? m.stage : `${m.item}/${m.stage}`;
            job.updateData({ ...current, runs: { ...current.runs, [key]: m.runDir } }).catch(() => {});
          } else if (m.type === 'done' || m.type === 'failed') resolve(m);
        };
        const resume =
          data.type === 'point'
            ? [unfinishedRun(data.runs)]
            : data.items.map((_, i) => unfinishedRun(Object.fromEntries(Object.entries(data.runs ?? {}).filter(([k]) => k.startsWith(`${i}/`)))));
        const req: ChildRequest = { type: 'run', jobId: job.id!, data, cacheDir: o.cacheDir ?? data.cacheDir, resume };
        slot.child.send(req);
      });
      slot.child.removeAllListeners('exit');
      slot.onReply = undefined;
      idle.push(slot);
      if (outcome.type === 'done') {
        log(`[${tag}] done`);
        return;
      }
      if (outcome.interrupted) {
        if (stopping && token !== undefined) {
          // Back to the queue without using up a try: another worker resumes the checkpoint.
          await job.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        }
        throw new UnrecoverableError('cancelled (exp queue cancel)');
      }
      const message = scrub(outcome.message, q);
      if (outcome.locked && token !== undefined) {
        // A previous holder's lease has not run out yet: look again after one lock period.
        log(`[${tag}] ${message}: retrying in ${o.lockMs / 1000} s`);
        await job.moveToDelayed(Date.now() + o.lockMs, token);
        throw new DelayedError();
      }
      log(`[${tag}] failed: ${message}`);
      throw outcome.deterministic ? new UnrecoverableError(message) : new Error(message);
    } finally {
      clearInterval(poll);
      busy.delete(job.id!);
    }
  };

  const processor = async (job: Job<AnyJob>, token?: string): Promise<unknown> => {
    const data = job.data;
    if (data.type === 'release') {
      if ((await client.exists(cancelKey(data.sweep))) > 0) throw new UnrecoverableError('cancelled (exp queue cancel)');
      await queue.addBulk(data.points.map((p, i) => ({ name: 'point', data: p, opts: pointJobOptions(`${data.sweep}.p${i}`, data.options) })));
      return { released: data.points.length };
    }
    await runInChild(job, data, token);
    return { worker: name, runs: data.type === 'point' ? ((job.data as PointJob).runs ?? {}) : {} };
  };

  const worker = new Worker<AnyJob>(QUEUE_NAME, processor, {
    connection: redisOptions(q),
    concurrency: o.concurrency,
    lockDuration: o.lockMs,
    stalledInterval: Math.max(500, Math.round(o.lockMs / 2)),
    maxStalledCount: 2,
    name,
  });
  worker.on('error', (e) => log(`queue: ${scrub(e.message, q)}`));
  worker.on('lockRenewalFailed', (ids) => {
    for (const id of ids) {
      const slot = busy.get(id);
      if (!slot) continue;
      log(`lost the lock of job ${id}: stopping its process (another worker may hold the job now)`);
      slot.child.kill('SIGKILL');
    }
  });
  // One child warms up while the worker waits for its first job (imports, backend).
  idle.push(spawnSlot());
  await worker.waitUntilReady();
  log(`worker ${name} on ${q.masked}, queue "${QUEUE_NAME}", concurrency ${o.concurrency}`);
  return {
    worker,
    async stop() {
      stopping = true;
      for (const s of busy.values()) s.child.send({ type: 'abort' } satisfies ChildRequest);
      await worker.close();
      // Idle job processes ignore SIGTERM (the worker decides when they stop): end them outright.
      for (const s of idle) s.child.kill('SIGKILL');
      await closeWhenConnected(queue);
      client.disconnect();
    },
  };
}
