/** `pnpm exp run <config> [sweep] --queue URL`: validate every point, enqueue them, follow the sweep. */
import { checkQueue, closeWhenConnected, openQueue, openRedis } from '@sentencelab/runs/queue';
import { enqueueSweep } from '../queue/enqueue.js';
import type { AnyJob } from '../queue/jobs.js';
import { followSweep } from '../queue/status.js';
import type { AnyStage, PipelineConfig } from '../stages/types.js';

export interface EnqueueActionOptions {
  queue: string;
  cacheDir: string;
  attempts?: number;
  backoffMs?: number;
  detach?: boolean;
}

/**
 * Checks the queue is reachable (the caller validated every point: nothing is enqueued otherwise), enqueues
 * the sweep, prints its id, then follows it until every point finished (unless `detach`).
 * Exit code: 0 when every point is done, 1 when one failed or was cancelled.
 */
export async function enqueueAction(
  file: string,
  points: readonly { label: string; overrides: string[]; config: PipelineConfig }[],
  options: EnqueueActionOptions,
  registry: ReadonlyMap<string, AnyStage>,
  print: (line: string) => void = (l) => console.log(l),
): Promise<number> {
  const q = await checkQueue(options.queue);
  const record = await enqueueSweep(q, points, registry, {
    file,
    cacheDir: options.cacheDir,
    attempts: options.attempts ?? 3,
    backoffMs: options.backoffMs ?? 5000,
  });
  print(`sweep ${record.id}: ${points.length} point(s) on ${q.masked}${record.shared ? `, shared stages first: ${record.shared.stages.join(', ')}` : ''}`);
  if (options.detach) return 0;
  const queue = openQueue<AnyJob>(q);
  const client = openRedis(q);
  try {
    const s = await followSweep(queue, client, record, print);
    const bad = s.points.filter((p) => p.state !== 'done');
    print(`sweep ${record.id}: ${s.points.length - bad.length} done, ${bad.length} failed or cancelled`);
    return bad.length > 0 ? 1 : 0;
  } finally {
    await closeWhenConnected(queue);
    client.disconnect();
  }
}
