/** `pnpm exp worker --queue URL [--concurrency N]`: run sweep points from a Redis queue until stopped. */
import { Command } from 'commander';
import { startWorker } from '../queue/worker.js';
import { positiveInt } from './options.js';

export function workerCommand(): Command {
  return new Command('worker')
    .description('take sweep points from a queue (pnpm exp run ... --queue URL) and run them until Ctrl-C')
    // $EXP_QUEUE is read in the action, not given to commander as a default: --help would print its password.
    .option('--queue <url>', 'redis://[:password@]host[:port][/db] (default: $EXP_QUEUE)')
    .option('--concurrency <n>', 'points run at once by this worker', positiveInt, 1)
    .option('--cache-dir <dir>', 'stage cache folder on this machine (default: the one given to run --queue)')
    .option('--lock-ms <ms>', 'job lock: a worker silent this long is taken for dead and its point handed on', positiveInt, 30_000)
    .action(async (opts: { queue?: string; concurrency: number; cacheDir?: string; lockMs: number }) => {
      const url = opts.queue ?? process.env.EXP_QUEUE;
      if (!url) throw new Error('--queue <url> is required (or set EXP_QUEUE)');
      const w = await startWorker(url, {
        concurrency: opts.concurrency,
        lockMs: opts.lockMs,
        ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
      });
      await new Promise<void>((done) => {
        const stop = (sig: string): void => {
          console.log(`${sig}: checkpointing running points and handing them back to the queue`);
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
          process.once('SIGINT', () => process.exit(130));
          w.stop().then(done, done);
        };
        const onInt = (): void => stop('SIGINT');
        const onTerm = (): void => stop('SIGTERM');
        process.on('SIGINT', onInt);
        process.on('SIGTERM', onTerm);
      });
    });
}
