import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { getKernel, type DataType, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';

import type { NativeAddon } from '../addon.js';
import { NativeCpuBackend } from '../native-backend.js';

/** What every native kernel receives: the tfjs kernel arguments on our CPU backend. */
export interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined> | TensorInfo[];
  backend: MathBackendCPU;
  attrs?: NamedAttrMap;
}

export type NativeKernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** A native kernel: its name and a factory given the addon and the cpu kernel to fall back to. */
export interface NativeKernel {
  kernelName: string;
  make(addon: NativeAddon, cpu: KernelFunc): NativeKernelFunc;
}

/** Below this many output elements the JS cpu kernel is as fast as a native call. */
export const SMALL = 512;

/** The cpu backend's kernel for `name` (it is registered when tfjs-backend-cpu is imported). */
export function cpuKernel(name: string): KernelFunc {
  const k = getKernel(name, 'cpu');
  if (!k) throw new Error(`@sentencelab/backend-native: the tfjs cpu backend has no kernel "${name}"`);
  return k.kernelFunc;
}

/** The backend's float32 values of t, or null when they aren't a Float32Array (then: fall back). */
export function f32(backend: MathBackendCPU, t: TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : null;
}

/** float32 or int32 values as a 4-byte typed array, else null. */
export function a32(backend: MathBackendCPU, t: TensorInfo): Float32Array | Int32Array | null {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') return null;
  const v = backend.data.get(t.dataId)?.values;
  return v instanceof Float32Array || v instanceof Int32Array ? v : null;
}

/** A float32 output the kernel overwrites completely (recycled when the backend can). */
export function allocF32(backend: MathBackendCPU, size: number): Float32Array {
  return backend instanceof NativeCpuBackend ? backend.allocF32(size) : new Float32Array(size);
}

export function alloc32(backend: MathBackendCPU, dtype: DataType, size: number): Float32Array | Int32Array {
  return dtype === 'int32' ? new Int32Array(size) : allocF32(backend, size);
}

export function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

export function asCpuArgs(args: KernelArgs): Parameters<KernelFunc>[0] {
  return args as unknown as Parameters<KernelFunc>[0];
}
