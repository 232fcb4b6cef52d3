/**
 * The read side of the sweep queue, shared by `pnpm exp` (which enqueues and works the jobs)
 * and the report (which shows them): the queue's names in Redis, the sweep record, what a
 * worker reports as progress, and each point's state read from BullMQ.
 */
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { redisOptions, type QueueUrl } from './connection.js';

export const QUEUE_NAME = 'sentencelab';
/** Redis hash: sweep id -> SweepRecord (JSON). */
export const SWEEPS_KEY = 'sentencelab:sweeps';
/** Redis key set when a sweep is cancelled; workers poll it and stop that sweep's running points. */
export const cancelKey = (sweep: string): string => `sentencelab:cancel:${sweep}`;

export interface SweepRecord {
  id: string;
  experiment: string;
  file: string;
  createdAt: string;
  /** Job ids of the points, in sweep order, with their labels. */
  points: { id: string; label: string }[];
  /** Job ids of the shared-stage job and its release parent, when the sweep has shared stages. */
  shared?: { id: string; releaseId: string; stages: string[] };
}

/** What a worker reports through `job.updateProgress`: read by `exp queue`, `run --queue` and the report. */
export interface PointProgress {
  stage?: string;
  step?: number;
  total?: number;
  loss?: number;
  tokensPerS?: number;
  host: string;
  /** The process running the pipeline. */
  pid: number;
  /** The worker (`host:pid`) holding the job. */
  worker?: string;
  backend?: string;
  device?: string;
  /** The run folder of the training stage being reported. */
  runDir?: string;
  /** ms since the epoch of this report. */
  at: number;
}

export type PointState = 'pending' | 'waiting' | 'active' | 'done' | 'failed' | 'cancelled';

export interface PointStatus {
  id: string;
  label: string;
  state: PointState;
  /** Tries started so far. */
  tries: number;
  progress?: PointProgress;
  error?: string;
  /** ms since the epoch: added to the queue, taken by a worker (last try), finished. */
  enqueuedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** The worker (`host:pid`) that took it last. */
  worker?: string;
  /** Training stage -> run folder, as the worker recorded them in the job (a retry resumes them). */
  runs?: Record<string, string>;
}

export interface SweepStatus {
  record: SweepRecord;
  /** The shared-stage job's state, when the sweep has one. */
  shared?: PointStatus;
  points: PointStatus[];
}

/** The one BullMQ queue every sweep goes through (`T`: the job data `exp` puts in it). */
export function openQueue<T = unknown>(q: QueueUrl): Queue<T> {
  const queue = new Queue<T>(QUEUE_NAME, { connection: redisOptions(q) });
  queue.on('error', () => {});
  return queue;
}

/** What reading states needs of a queue (any job data). */
export interface JobSource {
  getJob(id: string): Promise<Job | undefined>;
}

function isProgress(p: unknown): p is PointProgress {
  return typeof p === 'object' && p !== null && 'host' in p;
}

function runsOf(data: unknown): Record<string, string> | undefined {
  const runs = typeof data === 'object' && data !== null ? (data as { runs?: unknown }).runs : undefined;
  return typeof runs === 'object' && runs !== null ? (runs as Record<string, string>) : undefined;
}

async function statusOf(queue: JobSource, id: string, label: string, cancelled: boolean): Promise<PointStatus> {
  const job = await queue.getJob(id);
  // A point not enqueued yet waits for the sweep's shared stages; in a cancelled sweep it was removed.
  if (!job) return { id, label, state: cancelled ? 'cancelled' : 'pending', tries: 0 };
  const raw = await job.getState();
  const state: PointState =
    raw === 'active' ? 'active' : raw === 'completed' ? 'done' : raw === 'failed' ? (job.failedReason?.startsWith('cancelled') ? 'cancelled' : 'failed') : 'waiting';
  const runs = runsOf(job.data);
  return {
    id,
    label,
    state,
    tries: job.attemptsStarted,
    ...(isProgress(job.progress) ? { progress: job.progress } : {}),
    ...(state === 'failed' || state === 'cancelled' ? { error: job.failedReason } : {}),
    enqueuedAt: job.timestamp,
    ...(job.processedOn !== undefined ? { startedAt: job.processedOn } : {}),
    ...(job.finishedOn !== undefined ? { finishedAt: job.finishedOn } : {}),
    ...(job.processedBy !== undefined ? { worker: job.processedBy } : {}),
    ...(runs ? { runs } : {}),
  };
}

export async function sweepRecords(client: Redis): Promise<SweepRecord[]> {
  const all = await client.hgetall(SWEEPS_KEY);
  return Object.values(all)
    .map((v) => JSON.parse(v) as SweepRecord)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export async function sweepRecord(client: Redis, id: string): Promise<SweepRecord> {
  const raw = await client.hget(SWEEPS_KEY, id);
  if (raw === null) {
    const known = (await sweepRecords(client)).map((r) => r.id);
    throw new Error(`no sweep "${id}" in the queue (sweeps: ${known.slice(-10).join(', ') || 'none'})`);
  }
  return JSON.parse(raw) as SweepRecord;
}

export async function sweepStatus(queue: JobSource, client: Redis, record: SweepRecord): Promise<SweepStatus> {
  const cancelled = (await client.exists(cancelKey(record.id))) > 0;
  const shared = record.shared ? await statusOf(queue, record.shared.id, 'shared', cancelled) : undefined;
  const points = await Promise.all(record.points.map((p) => statusOf(queue, p.id, p.label, cancelled)));
  // Points of a sweep whose shared stages failed are never enqueued: they fail with it.
  if (shared && (shared.state === 'failed' || shared.state === 'cancelled')) {
    for (const p of points) if (p.state === 'pending') Object.assign(p, { state: shared.state, error: `shared stages ${shared.state}: ${shared.error ?? ''}` });
  }
  return { record, ...(shared ? { shared } : {}), points };
}

export function finished(s: PointStatus): boolean {
  return s.state === 'done' || s.state === 'failed' || s.state === 'cancelled';
}

/** One line about a point's progress: `svae 12/40 loss 3.2100 1,234 tok/s on <worker host:pid> (cpu)`. */
export function describeProgress(p: PointProgress | undefined): string {
  if (!p) return '';
  const parts: string[] = [];
  if (p.stage) parts.push(p.stage);
  if (p.step !== undefined && p.total) parts.push(`${p.step}/${p.total}`);
  if (p.loss !== undefined) parts.push(`loss ${p.loss.toFixed(4)}`);
  if (p.tokensPerS !== undefined) parts.push(`${Math.round(p.tokensPerS).toLocaleString('en-US')} tok/s`);
  parts.push(`on ${p.worker ?? `${p.host}:${p.pid}`}${p.backend ? ` (${p.backend}${p.device ? `, ${p.device}` : ''})` : ''}`);
  return parts.join(' ');
}
