/**
 * The native backend's kernels as a run records them (meta.json `backendInfo.native`) and how they
 * are written out. No imports: the report's browser bundle shares it
 * (`@sentencelab/tensor/native-kernels`).
 */

/**
 * The kernels the native backend runs: which decide its results' last digits (products summed in
 * another order on another SIMD width, or by OpenBLAS), beside the thread count (which does not).
 */
export interface NativeKernels {
  /** `avx512`, `avx2` or `generic`: chosen at start by the CPU's features. */
  simd: string;
  threads: number;
  /** GEMM by the built-in kernels or a system OpenBLAS (opt-in). */
  blas: 'builtin' | 'openblas';
}

/** `avx512 kernels, 2 threads` (and `, GEMM by OpenBLAS`). */
export function nativeKernelsText(n: NativeKernels): string {
  return `${n.simd} kernels, ${n.threads} thread${n.threads === 1 ? '' : 's'}${n.blas === 'openblas' ? ', GEMM by OpenBLAS' : ''}`;
}

/** A recorded value read back as {@link NativeKernels}, or undefined where it is not one (a run from before they were recorded). */
export function nativeKernelsOf(value: unknown): NativeKernels | undefined {
  const n = value as Partial<NativeKernels> | null | undefined;
  if (n === null || typeof n !== 'object' || typeof n.simd !== 'string' || typeof n.threads !== 'number') return undefined;
  return { simd: n.simd, threads: n.threads, blas: n.blas === 'openblas' ? 'openblas' : 'builtin' };
}
