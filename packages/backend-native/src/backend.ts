import { findBackendFactory, getKernel, getKernelsForBackend, registerBackend, registerKernel, type KernelFunc } from '@tensorflow/tfjs-core';

import { loadAddon, type NativeAddon } from './addon.js';
import { nativeKernels } from './kernels/index.js';
import { NativeCpuBackend } from './native-backend.js';

/** The tfjs backend name this package registers. */
export const NATIVE_BACKEND = 'native';

export interface RegisterNativeOptions {
  /** Worker threads for the kernels (default: SENTENCELAB_NATIVE_THREADS, else all cores). */
  threads?: number;
}

export type RegisterResult = { ok: true } | { ok: false; reason: string };

export interface NativeInfo {
  available: boolean;
  /** Why the addon is unavailable (only when available is false). */
  reason?: string;
  /** The SIMD kernels in use: avx512, avx2 or generic (chosen at run time by cpuid). */
  simd?: string;
  simdAvailable?: string[];
  threads?: number;
  gemmTile?: string;
  /** GEMM implementation: the built-in kernels (default) or a system OpenBLAS (opt-in). */
  blas?: 'builtin' | 'openblas';
  compiler?: string;
  addonPath?: string;
  /** Kernels implemented natively (all others are the tfjs cpu kernels). */
  kernels: string[];
}

let registered: RegisterResult | undefined;

/**
 * Registers the tfjs backend 'native': a MathBackendCPU whose hot kernels run in C++ on the
 * backend's own typed arrays. Every cpu kernel is available; idempotent.
 */
export async function registerNativeBackend(options: RegisterNativeOptions = {}): Promise<RegisterResult> {
  const load = loadAddon();
  if (!load.ok) return { ok: false, reason: load.reason };
  if (options.threads !== undefined) setNativeThreads(options.threads);
  if (registered) return registered;
  if (findBackendFactory(NATIVE_BACKEND)) {
    registered = { ok: true };
    return registered;
  }
  registered = install(load.addon);
  return registered;
}

function install(addon: NativeAddon): RegisterResult {
  const cpuKernels = getKernelsForBackend('cpu');
  if (cpuKernels.length === 0) return { ok: false, reason: 'the tfjs cpu backend registered no kernels (is @tensorflow/tfjs-backend-cpu installed once?)' };
  registerBackend(NATIVE_BACKEND, () => new NativeCpuBackend(), 3);
  const overridden = new Set(nativeKernels.map((k) => k.kernelName));
  for (const k of cpuKernels) {
    if (!overridden.has(k.kernelName)) registerKernel({ ...k, backendName: NATIVE_BACKEND });
  }
  for (const k of nativeKernels) {
    const cpu = getKernel(k.kernelName, 'cpu')?.kernelFunc ?? missingCpuKernel(k.kernelName);
    registerKernel({ kernelName: k.kernelName, backendName: NATIVE_BACKEND, kernelFunc: k.make(addon, cpu) as unknown as KernelFunc });
  }
  return { ok: true };
}

function missingCpuKernel(name: string): KernelFunc {
  return () => {
    throw new Error(`${name} on the native backend: no native path for these inputs and the tfjs cpu backend has no such kernel`);
  };
}

/** What the native backend runs with, or why it is unavailable. */
export function nativeInfo(): NativeInfo {
  const load = loadAddon();
  const kernels = nativeKernels.map((k) => k.kernelName);
  if (!load.ok) return { available: false, reason: load.reason, kernels };
  return { available: true, ...load.addon.info(), addonPath: load.path, kernels };
}

/** Sets the kernel thread count (>= 1); returns the count in effect. */
export function setNativeThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNativeThreads: threads must be an integer >= 1, got ${n}`);
  const load = loadAddon();
  if (!load.ok) throw new Error(`setNativeThreads: ${load.reason}`);
  return load.addon.setThreads(n);
}

/**
 * Routes GEMM to a system OpenBLAS loaded at run time (dlopen of libopenblas.so.0), or back to
 * the built-in kernels (the default; also SENTENCELAB_NATIVE_BLAS=openblas at start-up).
 * Throws, saying why, when OpenBLAS is not there. Results then depend on OpenBLAS's own
 * threading and summation order.
 */
export function setNativeBlas(which: 'openblas' | 'builtin'): void {
  const load = loadAddon();
  if (!load.ok) throw new Error(`setNativeBlas: ${load.reason}`);
  const why = load.addon.setBlas(which);
  if (why) throw new Error(`setNativeBlas: ${why}`);
}

/**
 * Forces a SIMD level ('avx512' | 'avx2' | 'generic') that this CPU supports, for tests and
 * comparisons; the default is the best one. Same as SENTENCELAB_NATIVE_SIMD at start-up.
 */
export function setNativeSimd(level: string): void {
  const load = loadAddon();
  if (!load.ok) throw new Error(`setNativeSimd: ${load.reason}`);
  if (!load.addon.setSimd(level)) {
    throw new Error(`setNativeSimd: "${level}" is not supported here (available: ${load.addon.info().simdAvailable.join(', ')})`);
  }
}
