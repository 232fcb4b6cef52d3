import { mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRun, openRunForResume, readMetrics, type RunWriter } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { trainLoop } from './loop.js';
import { TinyStream, tinySetup } from './testing/tiny.js';

const root = mkdtempSync(join(tmpdir(), 'exp-resume-fallback-'));
const cadence = { evalEvery: 5, checkpointEvery: 3, keepCheckpoints: 2, logEvery: 1 };
let reference: number[];

function newRun(runId: string): RunWriter {
  return createRun({ root, experiment: 'loop', runId, config: {}, seed: 7, backend: 'cpu', flushIntervalMs: 0 });
}

async function losses(dir: string): Promise<number[]> {
  const s = (await readMetrics(dir, { names: ['train/loss'] })).series['train/loss']!;
  expect(Array.from(s.step)).toEqual(Array.from({ length: s.step.length }, (_, i) => i + 1));
  return Array.from(s.value);
}

/** Trains 9 steps (checkpoints step-6 and step-9 kept), damages the folder, resumes to 12; returns the warnings. */
async function resumeAfter(runId: string, damage: (checkpoints: string) => void): Promise<{ dir: string; warnings: string[] }> {
  const run = newRun(runId);
  await trainLoop({ ...tinySetup(7, new TinyStream(7)), run, steps: 9, ...cadence });
  run.setStatus('interrupted');
  damage(join(run.dir, 'checkpoints'));
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  try {
    const again = openRunForResume(run.dir, { flushIntervalMs: 0 });
    await trainLoop({ ...tinySetup(7, new TinyStream(7)), run: again, steps: 12, ...cadence, resume: true });
    again.setStatus('done');
    return { dir: run.dir, warnings: warn.mock.calls.map((c) => String(c[0])) };
  } finally {
    warn.mockRestore();
  }
}

beforeAll(async () => {
  await initBackend('cpu', { log: false });
  const run = newRun('reference');
  await trainLoop({ ...tinySetup(7, new TinyStream(7)), run, steps: 12, ...cadence });
  reference = await losses(run.dir);
});

describe('resume when the latest checkpoint is gone or damaged', () => {
  test('a deleted latest pointer: says so and resumes from the newest checkpoint (not from step 0)', async () => {
    const { dir, warnings } = await resumeAfter('no-latest', (ck) => rmSync(join(ck, 'latest')));
    expect(warnings).toEqual([`${join(dir, 'checkpoints', 'latest')} is missing; resuming from the newest intact checkpoint`]);
    expect(readFileSync(join(dir, 'log.txt'), 'utf8')).toContain('resumed from step-00000009.safetensors');
    expect(await losses(dir)).toEqual(reference);
  });

  test('a truncated latest checkpoint: says so and falls back to the one before', async () => {
    const { dir, warnings } = await resumeAfter('truncated', (ck) => truncateSync(join(ck, 'step-00000009.safetensors'), 20));
    expect(warnings[0]).toMatch(new RegExp(`^checkpoint ${join(dir, 'checkpoints', 'step-00000009.safetensors')}: `));
    expect(warnings[1]).toBe('resuming from step-00000006.safetensors instead');
    expect(readFileSync(join(dir, 'log.txt'), 'utf8')).toContain('resumed from step-00000006.safetensors');
    expect(await losses(dir)).toEqual(reference);
  });

  test('a latest pointer to a deleted checkpoint: says so and resumes from the newest intact one', async () => {
    const { dir, warnings } = await resumeAfter('deleted', (ck) => rmSync(join(ck, 'step-00000009.safetensors')));
    expect(warnings[0]).toContain('points to "step-00000009.safetensors", which does not exist; resuming from the newest intact checkpoint');
    expect(await losses(dir)).toEqual(reference);
  });
});
