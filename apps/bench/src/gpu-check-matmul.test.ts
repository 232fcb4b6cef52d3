/**
 * scripts/gpu-check/fastest-matmul.cjs: which matmul kernel the GPU check trains with after timing
 * them all. It must never pick a kernel that failed a conformance case (a kernel computing
 * garbage can be the fastest), and falls back to tfjs's own when it cannot tell.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const script = join(__dirname, '..', '..', '..', 'scripts', 'gpu-check', 'fastest-matmul.cjs');
const dir = mkdtempSync(join(tmpdir(), 'fastest-matmul-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, value: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
};

// A train-step result as the bench writes it: ms per step of webgpu (tfjs's matmul) and its variants.
const trainStep = write('train-step.json', {
  bench: 'train-step',
  config: { size: 'large' },
  results: [
    { system: 'webgpu', metric: 'ms_per_step', value: 100 },
    { system: 'webgpu', metric: 'kernels_per_step', value: 1 },
    { system: 'webgpu [WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=128]', metric: 'ms_per_step', value: 10 },
    { system: 'webgpu [SL_WEBGPU_MATMUL=tiled64]', metric: 'ms_per_step', value: 40 },
    { system: 'webgpu [SL_WEBGPU_MATMUL=vec128]', metric: 'ms_per_step', value: 50 },
    { system: 'webgpu [SL_WEBGPU_MATMUL=vec64]', metric: 'ms_per_step', value: 120 },
    { system: 'torch-cuda', metric: 'ms_per_step', value: 5 },
  ],
});

const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

test('picks the fastest kernel that passed every conformance case, and says what it left out', () => {
  const conformance = write('conformance.json', { conformance: 'webgpu', cases: 16, passed: { tfjs: 16, tiled64: 15, vec128: 16, vec64: 16 } });
  const r = run(trainStep, conformance);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toBe('vec128\n');
  expect(r.stderr).toBe('matmul for the steps below: vec128, the fastest on the large step (50 ms; tfjs 100 ms); left out, not passing every conformance case: tiled64\n');
});

test('without conformance figures only tfjs counts; without webgpu rows it fails', () => {
  const r = run(trainStep, join(dir, 'missing.json'));
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toBe('tfjs\n');
  const none = write('none.json', { bench: 'train-step', config: { size: 'tiny' }, results: [{ system: 'torch-cuda', metric: 'ms_per_step', value: 5 }] });
  expect(run(none).status).toBe(1);
});
