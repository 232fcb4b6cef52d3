/**
 * System metrics the training loop logs beside the losses: this process's CPU use since the
 * previous sample and its memory now.
 */

/** Samples `sys/cpu_pct`, `sys/rss_mb` and `sys/heap_mb` (names prefixed with `prefix`). */
export class SystemSampler {
  private cpu = process.cpuUsage();
  private wallMs = performance.now();

  /**
   * `cpu_pct`: user + system CPU time of the process over the wall time since the previous
   * sample (or construction), in percent; above 100 when several threads (native kernels,
   * libuv) run at once. `rss_mb`: resident set size; `heap_mb`: V8 heap used (MB = 10^6 bytes;
   * tensor data lives outside the V8 heap, so it shows in RSS, not heap).
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
    };
  }
}
