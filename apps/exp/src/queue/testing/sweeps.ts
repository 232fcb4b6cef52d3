/** Enqueueing and following sweeps from the queue tests, through the real commands. */
import { vi } from 'vitest';
import { runCommandAction } from '../../commands/run.js';
import { checkQueue, closeWhenConnected, openQueue, openRedis, sweepRecord, type SweepStatus } from '@sentencelab/runs/queue';
import type { AnyJob } from '../jobs.js';
import { followSweep } from '../status.js';

/** `exp run <file> <overrides> --queue url` in this process: its exit code, printed lines and sweep id. */
export async function runQueued(
  file: string,
  overrides: string[],
  url: string,
  extra: { cacheDir: string; detach?: boolean; attempts?: number; backoffMs?: number },
): Promise<{ code: number; lines: string[]; sweep: string }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    const code = await runCommandAction(file, overrides, { dryRun: false, parallel: 1, queue: url, attempts: 2, backoffMs: 500, ...extra });
    const lines = log.mock.calls.map((c) => String(c[0]));
    return { code, lines, sweep: /^sweep (sw-\S+): /m.exec(lines.join('\n'))?.[1] ?? '' };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

/** Waits until every point of the sweep finished (done, failed or cancelled). */
export async function settled(url: string, sweep: string): Promise<SweepStatus> {
  const q = await checkQueue(url);
  const queue = openQueue<AnyJob>(q);
  const client = openRedis(q);
  try {
    return await followSweep(queue, client, await sweepRecord(client, sweep), () => {}, { pollMs: 200 });
  } finally {
    await closeWhenConnected(queue);
    client.disconnect();
  }
}
