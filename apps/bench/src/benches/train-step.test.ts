import { expect, test } from 'vitest';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { buildTrainStep, disturbances, kernelTotals, parseArgs, parseFlagVariants, peakRssMb, resetPeakRss, setFlags, sizes, variantName } from './train-step.js';

test('train-step options: defaults, webgpu on both sizes, torch device and python', () => {
  expect(parseArgs([])).toEqual({ backends: undefined, steps: 5, cpuSteps: 1, size: 'tiny', torch: true, torchDevice: 'cpu', python: '/usr/bin/python3', webgpuVariants: [] });
  expect(parseArgs(['--backends', 'webgpu,', '--size', 'large', '--steps', '3', '--torch-device', 'auto', '--python', '/opt/conda/bin/python3'])).toEqual({
    backends: ['webgpu'], steps: 3, cpuSteps: 1, size: 'large', torch: true, torchDevice: 'auto', python: '/opt/conda/bin/python3', webgpuVariants: [],
  });
  expect(parseArgs(['--no-torch', '--cpu-steps', '2']).torch).toBe(false);
});

test('train-step options: bad values name the option and the value', () => {
  expect(() => parseArgs(['--torch-device', 'gpu'])).toThrow('--torch-device must be cpu, cuda or auto, got "gpu"');
  expect(() => parseArgs(['--size', 'huge'])).toThrow('--size must be tiny, medium or large, got "huge"');
  expect(() => parseArgs(['--steps', '0'])).toThrow('--steps must be a positive integer, got "0"');
  expect(() => parseArgs(['--backends', ','])).toThrow('--backends needs at least one backend name');
  expect(() => parseArgs(['--python'])).toThrow('--python needs a value');
  expect(() => parseArgs(['--fast'])).toThrow('unknown option "--fast"');
});

test('webgpu flag variants: parsed into rows of their own, each flag typed like tfjs\'s own value and restored after', () => {
  const v = parseArgs(['--webgpu-flags', 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64;WEBGPU_CPU_FORWARD=false, WEBGPU_MATMUL_PROGRAM_TYPE=3;']).webgpuVariants;
  expect(v).toEqual([{ WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: '64' }, { WEBGPU_CPU_FORWARD: 'false', WEBGPU_MATMUL_PROGRAM_TYPE: '3' }]);
  expect(variantName(v[1]!)).toBe('webgpu [WEBGPU_CPU_FORWARD=false WEBGPU_MATMUL_PROGRAM_TYPE=3]');
  expect(() => parseFlagVariants('BATCH=64')).toThrow('"BATCH=64" is not FLAG=value with a WEBGPU_* or SL_WEBGPU_* flag name');
  expect(parseFlagVariants('SL_WEBGPU_MATMUL=tiled64')).toEqual([{ SL_WEBGPU_MATMUL: 'tiled64' }]);
  // The flags tfjs-backend-webgpu registers on import (no adapter needed).
  const env = tf.env();
  const before = [env.get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'), env.get('WEBGPU_CPU_FORWARD')];
  const restore = setFlags({ WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: '64', WEBGPU_CPU_FORWARD: 'false' });
  expect([env.get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'), env.get('WEBGPU_CPU_FORWARD')]).toEqual([64, false]);
  restore();
  expect([env.get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'), env.get('WEBGPU_CPU_FORWARD')]).toEqual(before);
  expect(() => setFlags({ WEBGPU_NO_SUCH_FLAG: '1' })).toThrow(/unknown flag WEBGPU_NO_SUCH_FLAG \(known: SL_WEBGPU_FREE_POOL_MB, SL_WEBGPU_MATMUL, .*WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE/);
  // This repo's matmul choice (a string flag), validated by its own hook.
  const back = setFlags({ SL_WEBGPU_MATMUL: 'tiled64' });
  expect(env.get('SL_WEBGPU_MATMUL')).toBe('tiled64');
  back();
  expect(() => setFlags({ SL_WEBGPU_MATMUL: 'fast' })).toThrow('SL_WEBGPU_MATMUL must be one of tfjs, tiled64, tiled128, vec64, vec128, got "fast"');
  expect(env.get('SL_WEBGPU_MATMUL')).toBe('tfjs');
  // The GPU buffer pool's cap (a number flag, MiB), refused below 0.
  const pool = setFlags({ SL_WEBGPU_FREE_POOL_MB: '256' });
  expect(env.get('SL_WEBGPU_FREE_POOL_MB')).toBe(256);
  pool();
  expect(env.get('SL_WEBGPU_FREE_POOL_MB')).toBe(0);
  expect(() => setFlags({ SL_WEBGPU_FREE_POOL_MB: '-5' })).toThrow('SL_WEBGPU_FREE_POOL_MB must be a number of MiB >= 0 (0 = the peak bytes in use), got -5');
  expect(() => setFlags({ WEBGPU_CPU_FORWARD: 'no' })).toThrow('WEBGPU_CPU_FORWARD takes true or false, got "no"');
  expect(() => setFlags({ WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: '8', WEBGPU_CPU_FORWARD: 'no' })).toThrow('takes true or false');
  expect(() => setFlags({ WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: 'many' })).toThrow('takes a number, got "many"');
  expect(env.get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')).toBe(before[0]);
});

test('kernel totals: summed by name, costliest first, untimed kernels counted but not summed', () => {
  const t = kernelTotals([
    { name: 'BatchMatMul', kernelTimeMs: 2 },
    { name: 'Add', kernelTimeMs: 0.5 },
    { name: 'BatchMatMul', kernelTimeMs: 3 },
    { name: 'Reshape', kernelTimeMs: { error: 'no timer' } },
  ]);
  expect(t.totalMs).toBe(5.5);
  expect(t.byName).toEqual([
    { name: 'BatchMatMul', ms: 5, count: 2 },
    { name: 'Add', ms: 0.5, count: 1 },
    { name: 'Reshape', ms: 0, count: 1 },
  ]);
  expect(kernelTotals([{ name: 'X', kernelTimeMs: { error: 'e' } }]).totalMs).toBeUndefined();
});

test('a step\'s FLOPs are counted on its first run: 6 x matrix weights x tokens plus the attention products', async () => {
  await initBackend('cpu', { log: false });
  const c = { vocab: 5, dModel: 4, seq: 3, batch: 2, layers: 1, heads: 1 };
  const train = buildTrainStep(c);
  expect(() => train.flops()).toThrow('buildTrainStep: flops() before the first step');
  await train.step();
  // 1 layer, d 4: q/k/v/out 4 d^2 and the MLP 8 d^2 = 192 weights, the head 4 x 5 = 20, over 6 tokens;
  // attention 3 (fwd + bwd) x 4 x batch 2 x 3^2 x 4 x 1 layer = 864.
  expect(train.flops()).toBe(6 * 212 * 6 + 864);
  train.dispose();
  expect(parseArgs(['--size', 'medium']).size).toBe('medium');
  expect(sizes.medium).toEqual({ vocab: 4096, dModel: 256, seq: 64, batch: 32, layers: 4, heads: 4 });
});

test('peak RSS: after a reset it covers a 64 MB allocation touched since', () => {
  if (!resetPeakRss()) return; // no /proc/self/clear_refs (not Linux): the bench prints "-"
  const before = peakRssMb()!;
  const a = new Float64Array(8 * 2 ** 20).fill(1);
  expect(peakRssMb()! - before).toBeGreaterThan(50);
  expect(a[a.length - 1]).toBe(1);
});

test('disturbances: a slow profiled step or a GEMM peak that moved by more than 1.5x is reported, small drifts are not', () => {
  expect(disturbances('native', { medianMs: 6694, profiledMs: 7000, gemmBefore: 156, gemmAfter: 140 })).toEqual([]);
  const w = disturbances('native', { medianMs: 6694, profiledMs: 19126, gemmBefore: 156, gemmAfter: 56 });
  expect(w).toHaveLength(2);
  expect(w[0]).toContain('the profiled step took 19126 ms, 2.9x the timed steps\' median');
  expect(w[1]).toContain('reached 156 GFLOP/s before its steps and 56 after');
  expect(disturbances('wasm', { medianMs: 100 })).toEqual([]);
});
