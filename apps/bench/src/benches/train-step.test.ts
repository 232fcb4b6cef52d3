import { expect, test } from 'vitest';
import { kernelTotals, parseArgs } from './train-step.js';

test('train-step options: defaults, webgpu on both sizes, torch device and python', () => {
  expect(parseArgs([])).toEqual({ backends: undefined, steps: 5, cpuSteps: 1, size: 'tiny', torch: true, torchDevice: 'cpu', python: '/usr/bin/python3' });
  expect(parseArgs(['--backends', 'webgpu,', '--size', 'large', '--steps', '3', '--torch-device', 'auto', '--python', '/opt/conda/bin/python3'])).toEqual({
    backends: ['webgpu'], steps: 3, cpuSteps: 1, size: 'large', torch: true, torchDevice: 'auto', python: '/opt/conda/bin/python3',
  });
  expect(parseArgs(['--no-torch', '--cpu-steps', '2']).torch).toBe(false);
});

test('train-step options: bad values name the option and the value', () => {
  expect(() => parseArgs(['--torch-device', 'gpu'])).toThrow('--torch-device must be cpu, cuda or auto, got "gpu"');
  expect(() => parseArgs(['--size', 'huge'])).toThrow('--size must be tiny or large, got "huge"');
  expect(() => parseArgs(['--steps', '0'])).toThrow('--steps must be a positive integer, got "0"');
  expect(() => parseArgs(['--backends', ','])).toThrow('--backends needs at least one backend name');
  expect(() => parseArgs(['--python'])).toThrow('--python needs a value');
  expect(() => parseArgs(['--fast'])).toThrow('unknown option "--fast"');
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
