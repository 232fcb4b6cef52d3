/** `pnpm exp worker` as a real child process for the queue tests, with its output kept. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../testing/tiny-pipeline.js';

const cli = join(import.meta.dirname, '..', '..', 'cli.ts');

export interface TestWorker {
  proc: ChildProcess;
  pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves once its output matches `re` (rejects after `ms`, quoting the output). */
  waitFor(re: RegExp, ms?: number): Promise<void>;
  /** SIGKILL, no goodbye. */
  kill(): Promise<void>;
  /** SIGTERM: running points checkpoint and go back to the queue. */
  stop(): Promise<void>;
}

export const cliArgs = (...args: string[]): string[] => ['--conditions=source', '--import', 'tsx', cli, ...args];

export async function spawnWorker(url: string, ...args: string[]): Promise<TestWorker> {
  const proc = spawn(process.execPath, cliArgs('worker', '--queue', url, '--lock-ms', '2000', ...args), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const waitFor = async (re: RegExp, ms = 60_000): Promise<void> => {
    const t0 = Date.now();
    while (!re.test(out)) {
      if (proc.exitCode !== null) throw new Error(`worker exited (${proc.exitCode}) before printing ${re}:\n${out}`);
      if (Date.now() - t0 > ms) throw new Error(`worker did not print ${re} within ${ms} ms:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    await exited;
  };
  const w: TestWorker = { proc, pid: proc.pid!, output: () => out, waitFor, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
  await waitFor(/^worker \S+ on /m);
  return w;
}
