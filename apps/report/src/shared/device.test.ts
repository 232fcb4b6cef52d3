import { describe, expect, test } from 'vitest';
import { deviceOf } from './device.js';

describe('deviceOf', () => {
  test('a webgpu run: its adapter, by description or else vendor, architecture and device; software adapters say so', () => {
    expect(deviceOf({ info: { 'device.description': 'NVIDIA H200', 'device.vendor': 'nvidia' } })).toBe('NVIDIA H200');
    expect(deviceOf({ info: { 'device.description': '', 'device.vendor': 'mesa', 'device.architecture': 'llvm', 'device.device': 'lavapipe', 'device.software': true } })).toBe('mesa llvm lavapipe (software)');
  });

  test('a native run: its SIMD kernels, threads and GEMM', () => {
    expect(deviceOf({ info: { 'native.simd': 'avx512', 'native.threads': 2, 'native.blas': 'builtin' } })).toBe('avx512 kernels, 2 threads');
    expect(deviceOf({ info: { 'native.simd': 'avx2', 'native.threads': 1, 'native.blas': 'openblas' } })).toBe('avx2 kernels, 1 thread, GEMM by OpenBLAS');
  });

  test('neither recorded: nothing', () => {
    expect(deviceOf({ info: { stage: 'lm' } })).toBe('');
    expect(deviceOf({})).toBe('');
  });
});
