import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRunForResume, readMeta, readMetrics } from '@sentencelab/runs';
import { describe, expect, test } from 'vitest';
import { lsText } from '../commands/ls.js';

const child = join(__dirname, 'testing', 'sigint-child.ts');

interface Child {
  pid: number;
  /** Resolves at the first `step N` with N >= at (or never). */
  reached(at: number): Promise<void>;
  exited: Promise<{ code: number | null; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
}

function start(root: string, steps: number, mode: 'create' | 'resume' = 'create', pauseMs = 20): Child {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', child, root, String(steps), mode, String(pauseMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let last = -1;
  const waiting: Array<{ at: number; done: () => void }> = [];
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  proc.stdout.on('data', (c: Buffer) => {
    for (const m of c.toString().matchAll(/step (\d+)\n/g)) last = Number(m[1]);
    for (const w of waiting.splice(0)) (last >= w.at ? w.done : () => waiting.push(w))();
  });
  return {
    pid: proc.pid!,
    reached: (at) => new Promise((done) => (last >= at ? done() : waiting.push({ at, done }))),
    exited: new Promise((done) => proc.on('close', (code) => done({ code, stderr }))),
    kill: (signal) => proc.kill(signal),
  };
}

/** train/loss by step; throws when a step was logged twice. */
async function lossSteps(dir: string): Promise<number[]> {
  const steps = Array.from((await readMetrics(dir, { names: ['train/loss'] })).series['train/loss']!.step);
  if (new Set(steps).size !== steps.length) throw new Error(`train/loss logged twice at some step: ${steps.join(',')}`);
  return steps;
}

describe('dead and concurrent processes', () => {
  test('SIGTERM is handled like Ctrl-C: checkpoint, status interrupted, exit 143', async () => {
    const root = mkdtempSync(join(tmpdir(), 'exp-sigterm-'));
    const c = start(root, 30);
    await c.reached(3);
    c.kill('SIGTERM');
    const { code, stderr } = await c.exited;
    expect(stderr).toContain('SIGTERM: saving a checkpoint after the current step');
    expect(code).toBe(143);
    expect((await readMeta(join(root, 'loop', 'sigint'))).status).toBe('interrupted');
  }, 60_000);

  test('a resume while the run trains is refused naming the holder; a SIGKILLed run lists as crashed; of two resumes at once one trains, and no step is logged twice', async () => {
    const root = mkdtempSync(join(tmpdir(), 'exp-lock-'));
    const dir = join(root, 'loop', 'sigint');
    const steps = 40;
    const first = start(root, steps);
    await first.reached(3);
    expect(() => openRunForResume(dir)).toThrow(`run folder ${dir} is in use by pid ${first.pid} on host`);
    expect(await lsText(root)).toMatch(/loop\/sigint\s+running/);
    first.kill('SIGKILL');
    await first.exited;
    expect((await readMeta(dir)).status).toBe('running');
    expect(await lsText(root)).toMatch(/loop\/sigint\s+crashed/);

    // 150 ms a step: the winner holds the lock for ~5.5 s, so the other is refused even when its
    // start lags by seconds on a loaded machine (at 60 ms it could open the run after the winner
    // had finished and, finding it done, exit 0 too).
    const [a, b] = [start(root, steps, 'resume', 150), start(root, steps, 'resume', 150)];
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    const codes = [ea.code, eb.code].sort();
    expect(codes).toEqual([0, 3]);
    const [winner, loser] = ea.code === 0 ? [a, eb] : [b, ea];
    expect(loser.stderr).toContain(`run folder ${dir} is in use by pid ${winner.pid} on host`);
    const meta = await readMeta(dir);
    expect(meta.status).toBe('done');
    expect(meta.resumedAt).toHaveLength(1);
    expect(await lossSteps(dir)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
  }, 90_000);
});
