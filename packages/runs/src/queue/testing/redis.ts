/**
 * A real redis-server for tests: started on a free loopback port with no snapshots (or with an
 * append-only file fsynced on every write, for the restart test), stopped by the test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why the queue tests cannot run here, or undefined when redis-server is installed. */
export function redisMissing(): string | undefined {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? `redis-server is not installed (apt-get install redis-server): ${r.error?.message ?? r.stderr}` : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  port: number;
  url: string;
  /** SIGKILLs the server (no shutdown save). */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder (the append-only file, if any, is replayed). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(o: { password?: string; appendOnly?: boolean } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'exp-redis-'));
  const args = ['--save', '', '--bind', '127.0.0.1', '--port', String(port), '--dir', dir];
  if (o.appendOnly) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  if (o.password !== undefined) args.push('--requirepass', o.password);
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}: ${out}`)), 10_000);
      p.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      p.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
    p.stdout!.resume();
    p.removeAllListeners('exit');
  };
  const kill = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  };
  await start();
  const auth = o.password !== undefined ? `:${o.password}@` : '';
  return { port, url: `redis://${auth}127.0.0.1:${port}`, kill, start, stop: kill };
}
