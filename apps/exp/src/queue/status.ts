/**
 * Following a sweep until every point finished, and cancelling one (point states are read by
 * `@sentencelab/runs/queue`, which the report shares).
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { cancelKey, describeProgress, finished, sweepRecord, sweepStatus, type PointState, type SweepRecord, type SweepStatus } from '@sentencelab/runs/queue';
import type { AnyJob } from './jobs.js';

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
