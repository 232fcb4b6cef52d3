import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { traceNativeGemm } from '@sentencelab/backend-native';
import { initBackend, MATMUL_FLAG, matMulChoices } from '@sentencelab/tensor';
import { webgpuAvailability } from '@sentencelab/tensor/testing';
import { afterAll, describe, expect, test, vi } from 'vitest';
import type { BenchResult } from '../result.js';
import { flopsOf, groupCalls, shapeKey } from './gemm-shapes.js';
import { buildTrainStep, sizes } from './train-step.js';
import { gemmNames, parseArgs, run, runTorch, stepGemms, timedShapes } from './webgpu-gemm.js';

test('webgpu-gemm options: defaults and values', () => {
  expect(parseArgs([])).toEqual({ size: 'large', reps: 10, shapes: undefined, variants: undefined, square: undefined, python: '/usr/bin/python3', torch: true });
  expect(parseArgs(['--size', 'tiny', '--reps', '1', '--shapes', 'qkv,pv.dv,square', '--variants', 'tfjs,tiled64', '--square', '256', '--python', '/opt/conda/bin/python3', '--no-torch'])).toEqual({
    size: 'tiny', reps: 1, shapes: ['qkv', 'pv.dv', 'square'], variants: ['tfjs', 'tiled64'], square: 256, python: '/opt/conda/bin/python3', torch: false,
  });
});

test('webgpu-gemm options: bad values name the option and the value', () => {
  expect(() => parseArgs(['--size', 'huge'])).toThrow('webgpu-gemm: --size must be tiny, medium, large, got "huge"');
  expect(() => parseArgs(['--reps', '0'])).toThrow('webgpu-gemm: --reps must be a positive integer, got "0"');
  expect(() => parseArgs(['--square', '1.5'])).toThrow('webgpu-gemm: --square must be a positive integer, got "1.5"');
  expect(() => parseArgs(['--shapes', 'qkv,attn'])).toThrow(/^webgpu-gemm: --shapes takes a comma-separated list of qkv, qkv\.dx, .*, square; got "qkv,attn"$/);
  expect(() => parseArgs(['--shapes', ','])).toThrow('--shapes takes a comma-separated list');
  expect(() => parseArgs(['--variants', 'tfjs,fast'])).toThrow(`webgpu-gemm: --variants takes a comma-separated list of ${matMulChoices.join(', ')}; got "tfjs,fast"`);
  expect(() => parseArgs(['--python'])).toThrow('webgpu-gemm: --python needs a value');
  expect(() => parseArgs(['--torch-device', 'cuda'])).toThrow('webgpu-gemm: unknown option "--torch-device"');
});

test('the large step\'s GEMMs, worked by hand: shapes, calls and FLOPs', () => {
  const c = sizes.large; // tokens 32 x 256 = 8192, d 512, 8 heads of 64, vocab 4096, 4 layers
  const byName = new Map(stepGemms(c).map((g) => [g.name, g]));
  expect(byName.size).toBe(21);
  const of = (name: string) => {
    const g = byName.get(name)!;
    return [shapeKey(g.shape), g.calls, flopsOf(g.shape)];
  };
  expect(of('qkv')).toEqual(['b1_8192x1536x512_nn', 4, 2 * 8192 * 1536 * 512]); // 12.9 GFLOP
  expect(of('up.dx')).toEqual(['b1_8192x512x2048_nt', 4, 2 * 8192 * 512 * 2048]);
  expect(of('down.dw')).toEqual(['b1_2048x512x8192_tn', 4, 2 * 2048 * 512 * 8192]);
  expect(of('head.dw')).toEqual(['b1_512x4096x8192_tn', 1, 34_359_738_368]);
  expect(of('qk')).toEqual(['b256_256x256x64_nt', 4, 2_147_483_648]);
  expect(of('pv.dv')).toEqual(['b256_256x64x256_tn', 4, 2_147_483_648]);
  // Every matmul weight (12 d^2 per layer, d x vocab for the head) 6 times per token, plus the
  // attention products (q k^T and p v, 2 x 2 x seq^2 x d per sequence and layer, x3 with the backward).
  const total = stepGemms(c).reduce((t, g) => t + g.calls * flopsOf(g.shape), 0);
  expect(total).toBe(773_094_113_280);
  const tokens = c.batch * c.seq;
  expect(total).toBe(6 * (12 * c.layers * c.dModel ** 2 + c.dModel * c.vocab) * tokens + 12 * c.batch * c.seq ** 2 * c.dModel * c.layers);
  // Identical products are timed once: pv is qk.dq's shape, pv.dp qk's, pv.dv qk.dk's.
  const timed = timedShapes(c, 4096);
  expect(timed).toHaveLength(19);
  expect(timed.find((t) => t.names.includes('pv'))).toMatchObject({ names: ['qk.dq', 'pv'], calls: 8 });
  expect(timed.at(-1)).toMatchObject({ names: ['square'], calls: 0, m: 4096, n: 4096, k: 4096 });
  expect(timedShapes(c, 4096, ['head', 'square']).map((t) => t.names)).toEqual([['head'], ['square']]);
  expect(gemmNames()).toEqual([...stepGemms(sizes.tiny).map((g) => g.name), 'square']);
});

test('the Linear GEMMs match those a traced tiny train step runs on native (where the addon loads)', async () => {
  try {
    await initBackend('native', { log: false });
  } catch {
    return; // no native addon here: the hand-worked shapes above still hold
  }
  const train = buildTrainStep(sizes.tiny);
  await train.step();
  const { calls } = await traceNativeGemm(() => train.step());
  // The step's counted FLOPs (FlopCounter) are the hand-listed GEMMs', attention's included.
  expect(train.flops()).toBe(stepGemms(sizes.tiny).reduce((t, g) => t + g.calls * flopsOf(g.shape), 0));
  train.dispose();
  // Native runs attention as one fused kernel, so only the Linear layers' products are traced.
  const traced = groupCalls(calls).map((u) => [shapeKey(u), u.calls]).sort();
  const linear = stepGemms(sizes.tiny).filter((g) => g.shape.batch === 1).map((g) => [shapeKey(g.shape), g.calls]).sort();
  expect(traced).toEqual(linear);
  await initBackend('cpu', { log: false });
});

test('the PyTorch child times the shapes (CPU build here), and says why without CUDA', () => {
  const python = '/usr/bin/python3';
  if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) return; // no torch: the bench prints why
  const shapes = timedShapes({ vocab: 8, dModel: 8, seq: 4, batch: 2, layers: 1, heads: 2 }, 16, ['qk.dk', 'head.dx']);
  const cpu = runTorch(shapes, 2, python, 'cpu');
  if (typeof cpu === 'string') throw new Error(cpu);
  expect(cpu.device).toBe('cpu');
  expect(cpu.fp32).toHaveLength(2);
  for (const t of cpu.fp32) expect(t.ms > 0 && t.wallMs > 0).toBe(true);
  expect(cpu.tf32).toBeUndefined();
  const cuda = runTorch(shapes, 1, python);
  if (typeof cuda === 'string') expect(cuda).toMatch(/sees no CUDA device|CUDA/);
  const missing = runTorch(shapes, 1, '/no/such/python3');
  expect(typeof missing === 'string' && missing.startsWith('/no/such/python3: ')).toBe(true);
}, 60_000);

const webgpu = await webgpuAvailability();
describe.skipIf(!webgpu.ok)(`webgpu-gemm on a webgpu adapter${webgpu.ok ? '' : ` (skipped: ${webgpu.reason})`}`, () => {
  afterAll(async () => {
    await initBackend('cpu', { log: false });
  });

  test('the README\'s quick example: every variant a positive figure per shape, the JSON last line per the contract', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const example = /^pnpm bench webgpu-gemm (--size tiny [^\n`]*)$/m.exec(readme)?.[1];
    expect(example, 'README: a line `pnpm bench webgpu-gemm --size tiny ...`').toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'webgpu-gemm-'));
    try {
      const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
      const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', cli, 'webgpu-gemm', ...example!.split(/\s+/)], {
        encoding: 'utf8', timeout: 60_000, env: { ...process.env, SENTENCELAB_BENCH_DIR: dir },
      });
      expect(r.status, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as BenchResult;
      expect(result).toEqual(JSON.parse(readFileSync(join(dir, 'webgpu-gemm.json'), 'utf8')));
      expect(result.bench).toBe('webgpu-gemm');
      const shapes = result.config.shapes as Array<{ key: string }>;
      expect(shapes.length).toBeGreaterThan(0);
      for (const v of matMulChoices) {
        for (const { key } of shapes) {
          const g = result.results.find((f) => f.system === `webgpu-${v}` && f.metric === `gflops_tiny_${key}`);
          expect(g?.value, `webgpu-${v} ${key}`).toBeGreaterThan(0);
        }
        expect(result.results.find((f) => f.system === `webgpu-${v}` && f.metric === 'gemm_ms_per_step_tiny')?.value).toBeGreaterThan(0);
      }
      expect(r.stdout).toMatch(/\nwebgpu-tfjs +[\d.]+ +\d+ +-\n/); // the totals table
      expect(r.stdout).toContain('torch rows absent: ');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('SL_WEBGPU_MATMUL is back to its value from before the run, and no tensor is left behind', async () => {
    await initBackend('webgpu', { log: false });
    const tensors = tf.memory().numTensors;
    tf.env().set(MATMUL_FLAG, 'tiled128');
    const quiet = [vi.spyOn(console, 'log').mockImplementation(() => {}), vi.spyOn(console, 'error').mockImplementation(() => {})];
    const result = await run(['--size', 'tiny', '--reps', '1', '--shapes', 'qk', '--variants', 'tfjs,tiled64', '--no-torch']).finally(() => quiet.forEach((q) => q.mockRestore()));
    expect(tf.env().get(MATMUL_FLAG)).toBe('tiled128');
    expect(tf.memory().numTensors).toBe(tensors);
    expect(result.results.filter((f) => f.metric.startsWith('gflops_')).map((f) => f.system)).toEqual(['webgpu-tfjs', 'webgpu-tiled64']);
    tf.env().set(MATMUL_FLAG, 'tfjs');
  }, 60_000);
});
