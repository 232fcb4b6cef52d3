import { loadAddon, type NativeAddon } from './addon.js';

/**
 * One GEMM the native backend ran (BatchMatMul, _FusedMatMul, SlMatMulBias...):
 * C[batch][m x n] = op(A)[m x k] op(B)[k x n], op = transpose when transposeA/B.
 */
export interface NativeGemmCall {
  batch: number;
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
  /** Distinct A matrices the batch reads: batch, or 1 when A is broadcast over it. */
  aMatrices: number;
  /** Distinct B matrices the batch reads. */
  bMatrices: number;
  /** Wall time of the call in ms (the C++ GEMM alone: no tfjs dispatch, no output allocation). */
  ms: number;
  /**
   * CPU time of the process during the call in ms (all threads): steadier than wall time on a
   * busy machine, and higher than it when the kernel's threads run in parallel.
   */
  cpuMs: number;
}

let tracing = false;

/**
 * Runs fn and records every GEMM the native backend makes meanwhile, in call order, with its
 * shape and time. For benchmarks (which products does a training step run, and how long does
 * each take); the products themselves are unchanged. One trace at a time.
 */
export async function traceNativeGemm<T>(fn: () => T | Promise<T>): Promise<{ result: T; calls: NativeGemmCall[] }> {
  const load = loadAddon();
  if (!load.ok) throw new Error(`traceNativeGemm: ${load.reason}`);
  if (tracing) throw new Error('traceNativeGemm: a trace is already running (traces do not nest)');
  const addon = load.addon;
  const matmul = addon.matmul;
  const calls: NativeGemmCall[] = [];
  const traced: NativeAddon['matmul'] = (a, b, c, batchA, batchB, m, n, k, transposeA, transposeB) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    matmul(a, b, c, batchA, batchB, m, n, k, transposeA, transposeB);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    calls.push({
      batch: batchA.length, m, n, k, transposeA, transposeB,
      aMatrices: new Set(batchA).size, bMatrices: new Set(batchB).size, ms, cpuMs: (cpu.user + cpu.system) / 1e3,
    });
  };
  // The kernels call addon.matmul through the shared addon object, so swapping the property
  // reaches every one of them.
  tracing = true;
  addon.matmul = traced;
  try {
    const result = await fn();
    return { result, calls };
  } finally {
    addon.matmul = matmul;
    tracing = false;
  }
}
