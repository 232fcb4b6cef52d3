import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtomicWriteError } from '@sentencelab/fs-atomic';
import { createRun, listRuns, readRunLock } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { trainLoop } from './loop.js';
import { TinyStream, tinySetup } from './testing/tiny.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('a full disk', () => {
  test('fails the run naming the file, and the run never reads as running (real 1 MiB tmpfs)', async (ctx) => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return ctx.skip('skipped: needs root on Linux to mount a 1 MiB tmpfs');
    const mnt = mkdtempSync(join(tmpdir(), 'exp-enospc-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (e) {
      rmSync(mnt, { recursive: true, force: true });
      return ctx.skip(`skipped: mount -t tmpfs failed (${(e as Error).message})`);
    }
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const run = createRun({ root: mnt, experiment: 'loop', runId: 'full', config: {}, seed: 7, backend: 'cpu', flushIntervalMs: 0 });
      // Leave a few KB: the first checkpoint (a few KB of parameters and moments) does not fit.
      const free = (): number => {
        const s = statfsSync(mnt);
        return s.bavail * s.bsize;
      };
      mkdirSync(join(mnt, 'filler'));
      writeFileSync(join(mnt, 'filler', 'a'), new Uint8Array(Math.max(0, free() - 3 * 4096)));
      const err = await trainLoop({ ...tinySetup(7, new TinyStream(7)), run, steps: 6, evalEvery: 0, checkpointEvery: 3, keepCheckpoints: 1, logEvery: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AtomicWriteError);
      expect((err as AtomicWriteError).code).toBe('ENOSPC');
      // Which write hits the wall first (the checkpoint or its `latest` pointer) depends on block rounding.
      expect((err as Error).message).toMatch(/^cannot write .*\/loop\/full\/checkpoints\/(step-00000003\.safetensors|latest): no space left on device \(ENOSPC\)$/);
      const [info] = await listRuns(mnt);
      expect(info).toMatchObject({ ok: true });
      expect(['failed', 'crashed']).toContain((info as { status: string }).status);
      expect(readRunLock(run.dir)).toBeUndefined();
    } finally {
      quiet.mockRestore();
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  }, 30_000);
});
