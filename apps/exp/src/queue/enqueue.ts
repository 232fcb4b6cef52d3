/**
 * Enqueues a validated sweep: the stages several points share go into one `shared` job (a
 * BullMQ flow child); its parent `release` job enqueues the points once the shared stages are
 * in the cache, so no point computes them and none reads them half-written (the cache renames
 * a finished artifact into place).
 */
import { FlowProducer, type JobsOptions } from 'bullmq';
import { stageHashes } from '../pipeline/execute.js';
import { planPipeline, upstreamOf } from '../pipeline/plan.js';
import type { AnyStage, PipelineConfig } from '../stages/types.js';
import { closeWhenConnected, openQueue, openRedis, QUEUE_NAME, redisOptions, SWEEPS_KEY, type QueueUrl, type SweepRecord } from '@sentencelab/runs/queue';
import { newSweepId, pointJobId, type AnyJob, type PointJob, type PointJobOptions, type SharedJob } from './jobs.js';

export interface EnqueuePoint {
  label: string;
  overrides: string[];
  config: PipelineConfig;
}

export interface EnqueueOptions extends PointJobOptions {
  file: string;
  cacheDir: string;
}

/** The options every point job gets: retries with exponential backoff. */
export function pointJobOptions(id: string, o: PointJobOptions): JobsOptions {
  return { jobId: id, attempts: o.attempts, backoff: { type: 'exponential', delay: o.backoffMs } };
}

/**
 * The shared stages of a sweep: those whose content hash at least two points have, each as a
 * pipeline trimmed to that stage and its inputs, in dependency order.
 */
export function sharedStages(points: readonly EnqueuePoint[], registry: ReadonlyMap<string, AnyStage>, file?: string): SharedJob['items'] {
  if (points.length < 2) return [];
  const planned = points.map((p) => {
    const plan = planPipeline(p.config, registry, file);
    return { p, plan, hashes: stageHashes(plan, p.config) };
  });
  const count = new Map<string, number>();
  for (const { hashes } of planned) for (const h of new Set(hashes.values())) count.set(h, (count.get(h) ?? 0) + 1);
  const items: (SharedJob['items'][number] & { order: number })[] = [];
  const taken = new Set<string>();
  for (const { p, plan, hashes } of planned) {
    plan.forEach((stage, order) => {
      const h = hashes.get(stage.name)!;
      if (count.get(h)! < 2 || taken.has(h)) return;
      taken.add(h);
      const keep = upstreamOf(plan, stage.name).map((s) => s.name);
      const stages = Object.fromEntries(keep.map((n) => [n, p.config.stages[n]!]));
      items.push({ stage: stage.name, config: { ...p.config, stages }, order });
    });
  }
  return items.sort((a, b) => a.order - b.order).map(({ stage, config }) => ({ stage, config }));
}

/** Records the sweep and adds its jobs; returns the sweep record (its id is what the user types). */
export async function enqueueSweep(
  q: QueueUrl,
  points: readonly EnqueuePoint[],
  registry: ReadonlyMap<string, AnyStage>,
  o: EnqueueOptions,
): Promise<SweepRecord> {
  const sweep = newSweepId();
  const jobs: PointJob[] = points.map((p) => ({ type: 'point', sweep, label: p.label, overrides: p.overrides, file: o.file, config: p.config, cacheDir: o.cacheDir }));
  const items = sharedStages(points, registry, o.file);
  const record: SweepRecord = {
    id: sweep,
    experiment: points[0]!.config.name,
    file: o.file,
    createdAt: new Date().toISOString(),
    points: jobs.map((j, i) => ({ id: pointJobId(sweep, i), label: j.label })),
  };
  if (items.length > 0) record.shared = { id: `${sweep}.shared`, releaseId: `${sweep}.release`, stages: items.map((i) => i.stage) };
  const queue = openQueue<AnyJob>(q);
  const client = openRedis(q);
  try {
    await client.hset(SWEEPS_KEY, sweep, JSON.stringify(record));
    const retry = { attempts: o.attempts, backoff: { type: 'exponential', delay: o.backoffMs } };
    if (record.shared) {
      const flow = new FlowProducer({ connection: redisOptions(q) });
      flow.on('error', () => {});
      try {
        await flow.add({
          name: 'release',
          queueName: QUEUE_NAME,
          data: { type: 'release', sweep, points: jobs, options: { attempts: o.attempts, backoffMs: o.backoffMs } },
          opts: { jobId: record.shared.releaseId, ...retry },
          children: [
            {
              name: 'shared',
              queueName: QUEUE_NAME,
              data: { type: 'shared', sweep, file: o.file, cacheDir: o.cacheDir, items },
              opts: { jobId: record.shared.id, failParentOnFailure: true, ...retry },
            },
          ],
        });
      } finally {
        await closeWhenConnected(flow);
      }
    } else {
      await queue.addBulk(jobs.map((data, i) => ({ name: 'point', data, opts: pointJobOptions(pointJobId(sweep, i), o) })));
    }
  } finally {
    await closeWhenConnected(queue);
    client.disconnect();
  }
  return record;
}
