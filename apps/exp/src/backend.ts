import { initBackend, type BackendChoice, type GpuDevice, type GpuOptions, type MatMulChoice, type NativeKernels } from '@sentencelab/tensor';

/** The backend a process runs on: its name and, where the backend reports them, its device or kernels. */
export interface StartedBackend {
  backend: string;
  /** The adapter `initBackend` reports (webgpu). */
  device?: GpuDevice;
  /** The native backend's kernels (SIMD width, threads, GEMM). */
  native?: NativeKernels;
  /** The float32 matmul kernel in use (webgpu). */
  matmul?: MatMulChoice;
}

/**
 * What a backend's numbers depend on, part of every stage's content hash: the backend that runs
 * (`auto` resolved) and, on native, its SIMD kernels and GEMM, which sum in different orders
 * (not its thread count: results are bit-identical across it); on webgpu, the adapter and the
 * matmul kernel. So a cached artifact computed with other kernels (another machine sharing the
 * cache, `SENTENCELAB_NATIVE_SIMD=avx2`, a wasm fallback) is computed again, not reused.
 */
export function computeKey(b: StartedBackend): Record<string, string> {
  return {
    backend: b.backend,
    ...(b.native !== undefined ? { simd: b.native.simd, gemm: b.native.blas } : {}),
    ...(b.device !== undefined ? { adapter: `${b.device.vendor} ${b.device.architecture} ${b.device.device} ${b.device.description}`.trim() } : {}),
    ...(b.matmul !== undefined ? { matmul: b.matmul } : {}),
  };
}

let started: { key: string; info: StartedBackend } | undefined;

/**
 * Initialises the config's backend once per process (every stage shares it) and returns the
 * backend actually running (`auto` resolves to native, wasm or cpu) and its device, if any.
 */
export async function startBackend(choice: BackendChoice, gpu?: GpuOptions): Promise<StartedBackend> {
  const key = JSON.stringify([choice, gpu ?? null]);
  if (started && started.key === key) return started.info;
  const info = await initBackend(choice, gpu === undefined ? {} : { gpu });
  started = {
    key,
    info: {
      backend: info.backend,
      ...(info.device !== undefined ? { device: info.device } : {}),
      ...(info.native !== undefined ? { native: info.native } : {}),
      ...(info.matmul !== undefined ? { matmul: info.matmul } : {}),
    },
  };
  return started.info;
}
