import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { processAlive } from '@sentencelab/runs';
import { afterEach, describe, expect, test } from 'vitest';
import { repoRoot } from '../testing/tiny-pipeline.js';

const fixture = join(import.meta.dirname, 'testing', 'orphan-child.ts');

/**
 * Starts a parent process that forks the fixture (`on`: with the watchdog, `off`: without),
 * prints the child's pid and SIGKILLs itself, as a killed `pnpm exp worker` would die.
 * Resolves with the child's pid and the time the parent was gone.
 */
async function orphan(mode: 'on' | 'off'): Promise<{ pid: number; parentGoneAt: number }> {
  const parent = `
    const { fork } = require('node:child_process');
    const child = fork(${JSON.stringify(fixture)}, [${JSON.stringify(mode)}], { execArgv: ['--conditions=source', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m) => process.stdout.write(JSON.stringify(m) + '\\n', () => process.kill(process.pid, 'SIGKILL')));
  `;
  const proc = spawn(process.execPath, ['-e', parent], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const parentGoneAt = Date.now();
  const pid = (JSON.parse(out.trim()) as { pid: number }).pid;
  return { pid, parentGoneAt };
}

describe('the job process watchdog', () => {
  const children: number[] = [];
  afterEach(() => {
    for (const pid of children.splice(0)) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  test('a job process blocked mid-step ends within a second of its parent being SIGKILLed', async () => {
    const { pid, parentGoneAt } = await orphan('on');
    children.push(pid);
    while (processAlive(pid) && Date.now() - parentGoneAt < 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(processAlive(pid)).toBe(false);
    // Polled every 100 ms; a second leaves room for a loaded machine, 20 s would be the blocked step.
    expect(Date.now() - parentGoneAt).toBeLessThan(1_000);
  }, 30_000);

  test('without it, the same process outlives its parent while its main thread is blocked', async () => {
    const { pid, parentGoneAt } = await orphan('off');
    children.push(pid);
    await new Promise((r) => setTimeout(r, 1_500 - (Date.now() - parentGoneAt)));
    expect(processAlive(pid)).toBe(true);
  }, 30_000);
});
