import { initBackend, type BackendChoice, type GpuDevice, type GpuOptions, type NativeKernels } from '@sentencelab/tensor';

/** The backend a process runs on: its name and, where the backend reports them, its device or kernels. */
export interface StartedBackend {
  backend: string;
  /** The adapter `initBackend` reports (webgpu). */
  device?: GpuDevice;
  /** The native backend's kernels (SIMD width, threads, GEMM). */
  native?: NativeKernels;
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
  started = { key, info: { backend: info.backend, ...(info.device !== undefined ? { device: info.device } : {}), ...(info.native !== undefined ? { native: info.native } : {}) } };
  return started.info;
}
