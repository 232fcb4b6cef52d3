/** `pnpm exp queue [sweep] [--queue URL]` and `pnpm exp queue cancel <sweep>`: sweeps on a Redis queue. */
import { Command } from 'commander';
import type { Queue } from 'bullmq';
import { checkQueue, closeWhenConnected, describeProgress, openQueue, openRedis, sweepRecord, sweepRecords, sweepStatus, type QueueUrl } from '@sentencelab/runs/queue';
import type { AnyJob } from '../queue/jobs.js';
import { cancelSweep } from '../queue/status.js';
import { renderTable } from '../table.js';

// $EXP_QUEUE is read in the actions, not given to commander as a default: --help would print its password.
const queueOption = ['--queue <url>', 'redis://[:password@]host[:port][/db] (default: $EXP_QUEUE)'] as const;

async function withQueue<T>(url: string, f: (queue: Queue<AnyJob>, client: ReturnType<typeof openRedis>, q: QueueUrl) => Promise<T>): Promise<T> {
  const q = await checkQueue(url);
  const queue = openQueue<AnyJob>(q);
  const client = openRedis(q);
  try {
    return await f(queue, client, q);
  } finally {
    await closeWhenConnected(queue);
    client.disconnect();
  }
}

/** Prints every sweep (one row each), or one sweep's points with their worker and progress. */
export async function queueAction(url: string, sweep: string | undefined, print: (l: string) => void = (l) => console.log(l), json = false): Promise<void> {
  await withQueue(url, async (queue, client) => {
    if (sweep !== undefined) {
      const s = await sweepStatus(queue, client, await sweepRecord(client, sweep));
      if (json) return print(JSON.stringify(s));
      const rows = (s.shared ? [s.shared, ...s.points] : s.points).map((p) => [p.label || p.id, p.state, String(p.tries), p.state === 'active' || p.state === 'done' ? describeProgress(p.progress) : (p.error ?? '')]);
      print(renderTable(['point', 'state', 'tries', 'worker / progress / error'], rows));
      return;
    }
    const records = await sweepRecords(client);
    if (records.length === 0) return print('no sweeps in the queue');
    const rows: string[][] = [];
    for (const r of records) {
      const s = await sweepStatus(queue, client, r);
      const n = (state: string) => String(s.points.filter((p) => p.state === state).length);
      const workers = [...new Set(s.points.filter((p) => p.state === 'active' && p.progress).map((p) => p.progress!.worker ?? `${p.progress!.host}:${p.progress!.pid}`))];
      rows.push([r.id, r.experiment, String(r.points.length), String(s.points.filter((p) => p.state === 'waiting' || p.state === 'pending').length), n('active'), n('done'), n('failed'), n('cancelled'), workers.join(' ')]);
    }
    print(renderTable(['sweep', 'experiment', 'points', 'waiting', 'active', 'done', 'failed', 'cancelled', 'active on'], rows));
  });
}

export function queueCommand(): Command {
  const cmd = new Command('queue')
    .description('sweeps on a queue: waiting / active (which worker) / done / failed; with a sweep id, its points')
    .argument('[sweep]', 'a sweep id (printed by run --queue)')
    .option(...queueOption)
    .option('--json', 'with a sweep id: its status as one JSON object (states, workers, progress, enqueue/start/finish times)', false)
    .action(async (sweep: string | undefined, opts: { queue?: string; json: boolean }) => {
      const url = opts.queue ?? process.env.EXP_QUEUE;
      if (!url) throw new Error('--queue <url> is required (or set EXP_QUEUE)');
      await queueAction(url, sweep, undefined, opts.json);
    });
  cmd
    .command('cancel')
    .description('remove the points of a sweep that have not started and stop its running ones (they checkpoint)')
    .argument('<sweep>', 'a sweep id')
    .option(...queueOption)
    .action(async (sweep: string, opts: { queue?: string }) => {
      const url = opts.queue ?? cmd.opts<{ queue?: string }>().queue ?? process.env.EXP_QUEUE;
      if (!url) throw new Error('--queue <url> is required (or set EXP_QUEUE)');
      const { removed, running } = await withQueue(url, (queue, client) => cancelSweep(queue, client, sweep));
      console.log(`sweep ${sweep}: ${removed} waiting point(s) removed, ${running} running point(s) told to stop`);
    });
  return cmd;
}
