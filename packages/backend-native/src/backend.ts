import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { findBackendFactory, getKernel, getKernelsForBackend, registerBackend, registerKernel, type KernelFunc } from '@tensorflow/tfjs-core';

import { loadAddon, type NativeAddon } from './addon.js';
import { nativeKernels } from './kernels/index.js';

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
  registerBackend(NATIVE_BACKEND, createBackend, 3);
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

function createBackend(): MathBackendCPU {
  const backend = new MathBackendCPU();
  // The cpu backend's first write prints "install tfjs-node to speed things up": that is us.
  (backend as unknown as { firstUse: boolean }).firstUse = false;
  return backend;
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
