/**
 * Sweep status from Redis: per point its state (waiting / active / done / failed), the worker
 * running it and its last reported progress; following a sweep until every point finished;
 * cancelling one.
 */
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { cancelKey, SWEEPS_KEY, type AnyJob, type SweepRecord } from './jobs.js';
import type { PointProgress } from './protocol.js';

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
}

export interface SweepStatus {
  record: SweepRecord;
  /** The shared-stage job's state, when the sweep has one. */
  shared?: PointStatus;
  points: PointStatus[];
}

function isProgress(p: unknown): p is PointProgress {
  return typeof p === 'object' && p !== null && 'host' in p;
}

async function statusOf(queue: Queue<AnyJob>, id: string, label: string, cancelled: boolean): Promise<PointStatus> {
  const job: Job<AnyJob> | undefined = await queue.getJob(id);
  // A point not enqueued yet waits for the sweep's shared stages; in a cancelled sweep it was removed.
  if (!job) return { id, label, state: cancelled ? 'cancelled' : 'pending', tries: 0 };
  const raw = await job.getState();
  const state: PointState =
    raw === 'active' ? 'active' : raw === 'completed' ? 'done' : raw === 'failed' ? (job.failedReason?.startsWith('cancelled') ? 'cancelled' : 'failed') : 'waiting';
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

export async function sweepStatus(queue: Queue<AnyJob>, client: Redis, record: SweepRecord): Promise<SweepStatus> {
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

/**
 * Polls a sweep until every point finished, printing each state change and, for running
 * points, a progress line at most every `progressEveryMs`. Resolves with the final status.
 */
export async function followSweep(
  queue: Queue<AnyJob>,
  client: Redis,
  record: SweepRecord,
  print: (line: string) => void,
  { pollMs = 500, progressEveryMs = 5000 } = {},
): Promise<SweepStatus> {
  const seen = new Map<string, { state: PointState; at: number; step?: number }>();
  for (;;) {
    const s = await sweepStatus(queue, client, record);
    const now = Date.now();
    for (const p of s.shared ? [s.shared, ...s.points] : s.points) {
      const before = seen.get(p.id);
      const name = p.label || p.id;
      if (!before || before.state !== p.state) {
        if (p.state !== 'pending') print(`[${name}] ${[p.state, p.state === 'active' ? describeProgress(p.progress) : ''].filter(Boolean).join(' ')}${p.error ? `: ${p.error}` : ''}`);
        seen.set(p.id, { state: p.state, at: now, ...(p.progress?.step !== undefined ? { step: p.progress.step } : {}) });
      } else if (p.state === 'active' && p.progress?.step !== before.step && now - before.at >= progressEveryMs) {
        print(`[${name}] ${describeProgress(p.progress)}`);
        seen.set(p.id, { state: p.state, at: now, ...(p.progress?.step !== undefined ? { step: p.progress.step } : {}) });
      }
    }
    if (s.points.every(finished)) return s;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Cancels a sweep: removes its points that have not started, and flags it so workers stop the
 * running ones (they checkpoint; the run is marked interrupted and `exp resume` can continue it).
 */
export async function cancelSweep(queue: Queue<AnyJob>, client: Redis, id: string): Promise<{ removed: number; running: number }> {
  const record = await sweepRecord(client, id);
  await client.set(cancelKey(id), '1', 'EX', 7 * 24 * 3600);
  let removed = 0;
  let running = 0;
  const ids = [...(record.shared ? [record.shared.releaseId, record.shared.id] : []), ...record.points.map((p) => p.id)];
  for (const jobId of ids) {
    const job = await queue.getJob(jobId);
    if (!job) continue;
    const state = await job.getState();
    if (state === 'active') running++;
    else if (state !== 'completed' && state !== 'failed') {
      try {
        await job.remove();
        removed++;
      } catch {
        // locked by a worker that just took it: the cancel flag stops it
        running++;
      }
    }
  }
  return { removed, running };
}
