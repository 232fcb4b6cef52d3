/**
 * System metrics the training loop logs beside the losses: this process's CPU use since the
 * previous sample and its memory now.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Samples `sys/cpu_pct`, `sys/rss_mb` and `sys/heap_mb`, and on webgpu `sys/gpu_mb` and `sys/gpu_used_mb` (names prefixed with `prefix`). */
export class SystemSampler {
  private cpu = process.cpuUsage();
  private wallMs = performance.now();

  /**
   * `cpu_pct`: user + system CPU time of the process over the wall time since the previous
   * sample (or construction), in percent; above 100 when several threads (native kernels,
   * libuv) run at once. `rss_mb`: resident set size; `heap_mb`: V8 heap used (MB = 10^6 bytes;
   * tensor data lives outside the V8 heap, so it shows in RSS, not heap). Where the backend holds
   * GPU buffers (webgpu): `gpu_mb`, the bytes of every buffer it holds, its pool of free ones
   * included (what the GPU has given this process), and `gpu_used_mb`, those tensors use now.
   */
  sample(prefix = ''): Record<string, number> {
    const cpu = process.cpuUsage(this.cpu);
    const now = performance.now();
    const wallUs = Math.max((now - this.wallMs) * 1000, 1);
    this.cpu = process.cpuUsage();
    this.wallMs = now;
    const mem = process.memoryUsage();
    return {
      [`${prefix}sys/cpu_pct`]: (100 * (cpu.user + cpu.system)) / wallUs,
      [`${prefix}sys/rss_mb`]: mem.rss / 1e6,
      [`${prefix}sys/heap_mb`]: mem.heapUsed / 1e6,
      ...gpuMemory(prefix),
    };
  }
}

/** MB (10^6 bytes) of GPU buffers the active backend holds (its free pool included) and tensors use; undefined where it reports none (not webgpu). */
export function gpuMemoryMb(): { held: number; used: number } | undefined {
  if (!tf.engine().backendName) return undefined; // none initialised (a stage without tensors): tf.memory() would start one
  const m = tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU?: number; numBytesInGPU?: number };
  if (typeof m.numBytesAllocatedInGPU !== 'number' || typeof m.numBytesInGPU !== 'number') return undefined;
  return { held: m.numBytesAllocatedInGPU / 1e6, used: m.numBytesInGPU / 1e6 };
}

/** `sys/gpu_mb` and `sys/gpu_used_mb` where the active backend reports GPU bytes, else nothing. */
function gpuMemory(prefix: string): Record<string, number> {
  const m = gpuMemoryMb();
  return m === undefined ? {} : { [`${prefix}sys/gpu_mb`]: m.held, [`${prefix}sys/gpu_used_mb`]: m.used };
}

/**
 * Steps between two timed ones at most once: timing submits every kernel of the step on its own
 * (the webgpu backend's timestamp queries; ~1,400 submits for a step of the large bench model),
 * which slows that step down, so with the default `logEvery: 1` only one step in 50 pays for it.
 */
export const KERNEL_TIMING_EVERY = 50;

/**
 * Kernel time of one training step, summed over its kernels (`tf.profile`): on webgpu with the
 * `timestamp-query` feature, the GPU time of every kernel. The loop logs it as `sys/gpu_kernel_ms`
 * on the logged steps that are due ({@link KernelTimer.due}).
 */
export class KernelTimer {
  private last = -Infinity;

  constructor(private readonly every = KERNEL_TIMING_EVERY) {}

  /** A timer when the active backend measures GPU kernel time (webgpu with timestamp queries), else undefined. */
  static forBackend(): KernelTimer | undefined {
    const backend = tf.backend() as { supportTimestampQuery?: boolean };
    return tf.getBackend() === 'webgpu' && backend.supportTimestampQuery === true ? new KernelTimer() : undefined;
  }

  /** Whether the logged step `step` is timed: the first one, then at least `every` steps apart. */
  due(step: number): boolean {
    return step - this.last >= this.every;
  }

  /** Runs `f` with every kernel timed; `f` must not leave the engine in profiling mode by throwing (it is reset). */
  async time<T>(step: number, f: () => Promise<T>): Promise<{ result: T; kernelMs: number }> {
    this.last = step;
    let result: T | undefined;
    try {
      const profile = await tf.profile(async () => {
        result = await f();
        return [];
      });
      const kernelMs = profile.kernels.reduce((sum, k) => sum + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0), 0);
      return { result: result as T, kernelMs };
    } finally {
      // tf.profile leaves profiling on when its function throws; later steps must not be profiled.
      tf.engine().state.profiling = false;
    }
  }
}
