/**
 * A bound on tfjs-webgpu's pool of free GPU buffers. tfjs (4.22) keeps every buffer a disposed
 * tensor releases, keyed by its exact byte size and usage, for the next tensor of that size, and
 * never frees one. With fixed shapes that is the point: a training step reuses the previous
 * step's buffers and creates none. With shapes that change from batch to batch (a SentenceVAE's
 * batch holds a varying number of sentences padded to a varying longest one) every new size
 * leaves its buffers in the pool for good: the quickstart's SentenceVAE on webgpu held 2.4 GB
 * after 57 steps with 1.8 MB in use, growing ~40 MB a step.
 *
 * `boundBufferPool` keeps the pool's free bytes at most `cap`: when a release takes them past
 * it, the buffers released longest ago are destroyed (least recently released first; a buffer
 * taken again from the pool leaves the order). The default cap is the largest number of bytes
 * ever in use at once (a step's peak: parameters, optimizer moments, activations), at least
 * {@link MIN_FREE_POOL_BYTES}: at fixed shapes a step's free buffers fit under it (the large
 * train-step structure: 18 MB free at a 25 MB peak), so nothing is destroyed and re-created, and
 * GPU memory stays below about twice the peak whatever the shapes do.
 *
 * The pool holds only buffers no pending command uses (tfjs releases a buffer that queued work
 * reads once that work is submitted), and WebGPU keeps a destroyed buffer's memory until the
 * submitted work using it completes, so destroying one is safe at any time.
 */

import * as tf from '@tensorflow/tfjs-core';
import { registerCheckedFlag } from './flag.js';

/** The floor of the default cap: small models keep their whole pool. */
export const MIN_FREE_POOL_BYTES = 64 * 2 ** 20;

/**
 * tfjs flag: the cap in MiB; 0 (the default) = the peak bytes in use, at least
 * MIN_FREE_POOL_BYTES. Read at every release, so it can change while training.
 */
export const FREE_POOL_FLAG = 'SL_WEBGPU_FREE_POOL_MB';
registerCheckedFlag(FREE_POOL_FLAG, 0, (v) => (typeof v === 'number' && v >= 0 ? undefined : 'must be a number of MiB >= 0 (0 = the peak bytes in use)'));

/** The tfjs-webgpu 4.22 BufferManager members the bound uses. */
interface BufferManager {
  acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): GpuBuffer;
  releaseBuffer(buffer: GpuBuffer, reuse?: boolean): void;
  dispose(): void;
  freeBuffers: Map<string, GpuBuffer[]>;
  numFreeBuffers: number;
  numBytesUsed: number;
  numBytesAllocated: number;
}

interface GpuBuffer {
  size: number;
  usage: number;
  destroy(): void;
}

export interface BufferPoolBound {
  /** Free bytes the pool may hold now (the cap). */
  cap(): number;
  /** Free bytes it holds. */
  freeBytes(): number;
  /** Buffers destroyed to keep under the cap, since the bound was installed. */
  evicted(): number;
}

const BOUND = Symbol('sentencelab.bufferPoolBound');

function isBufferManager(m: unknown): m is BufferManager {
  const o = m as Partial<BufferManager> | null;
  return (
    o !== null &&
    typeof o === 'object' &&
    typeof o.acquireBuffer === 'function' &&
    typeof o.releaseBuffer === 'function' &&
    o.freeBuffers instanceof Map &&
    typeof o.numFreeBuffers === 'number' &&
    typeof o.numBytesUsed === 'number'
  );
}

/** The bound installed on `backend`'s buffer manager, if any. */
export function bufferPoolBoundOf(backend: unknown): BufferPoolBound | undefined {
  const manager = (backend as { bufferManager?: unknown } | null)?.bufferManager;
  return isBufferManager(manager) ? (manager as unknown as Record<symbol, BufferPoolBound | undefined>)[BOUND] : undefined;
}

/**
 * Bounds the free pool of `backend` (a tfjs-webgpu backend; its `bufferManager`). `maxFreeBytes`
 * fixes the cap; else {@link FREE_POOL_FLAG} does, or it follows the peak bytes in use (at least
 * MIN_FREE_POOL_BYTES).
 * Installing twice returns the first bound. Returns undefined, changing nothing, for a backend
 * without the 4.22 buffer manager.
 */
export function boundBufferPool(backend: unknown, options: { maxFreeBytes?: number } = {}): BufferPoolBound | undefined {
  const manager = (backend as { bufferManager?: unknown } | null)?.bufferManager;
  if (!isBufferManager(manager)) return undefined;
  const installed = bufferPoolBoundOf(backend);
  if (installed !== undefined) return installed;
  // Free buffers in release order (a Map iterates in insertion order): the first is the least recently released.
  const free = new Map<GpuBuffer, string>();
  let freeBytes = 0;
  let peakUsed = manager.numBytesUsed;
  let evicted = 0;
  const cap = () => {
    if (options.maxFreeBytes !== undefined) return options.maxFreeBytes;
    const mib = tf.env().getNumber(FREE_POOL_FLAG);
    return mib > 0 ? mib * 2 ** 20 : Math.max(MIN_FREE_POOL_BYTES, peakUsed);
  };
  const acquire = manager.acquireBuffer.bind(manager);
  const release = manager.releaseBuffer.bind(manager);
  const dispose = manager.dispose.bind(manager);

  manager.acquireBuffer = (size, usage, mappedAtCreation, reuse) => {
    const buffer = acquire(size, usage, mappedAtCreation, reuse);
    if (free.delete(buffer)) freeBytes -= buffer.size;
    peakUsed = Math.max(peakUsed, manager.numBytesUsed);
    return buffer;
  };
  manager.releaseBuffer = (buffer, reuse) => {
    const before = manager.numFreeBuffers;
    release(buffer, reuse);
    // Only a buffer tfjs put in its pool is tracked (not one it destroyed, nor one released after its dispose).
    if (manager.numFreeBuffers <= before) return;
    free.set(buffer, `${buffer.size}_${buffer.usage}`);
    freeBytes += buffer.size;
    const limit = cap();
    for (const [old, key] of free) {
      if (freeBytes <= limit) break;
      const list = manager.freeBuffers.get(key);
      const at = list === undefined ? -1 : list.indexOf(old);
      free.delete(old);
      freeBytes -= old.size;
      // Not in tfjs's free list (never expected): forget it, but leave it alone.
      if (at < 0) continue;
      list!.splice(at, 1);
      manager.numFreeBuffers--;
      manager.numBytesAllocated -= old.size;
      old.destroy();
      evicted++;
    }
  };
  manager.dispose = () => {
    free.clear();
    freeBytes = 0;
    dispose();
  };
  const bound: BufferPoolBound = { cap, freeBytes: () => freeBytes, evicted: () => evicted };
  (manager as unknown as Record<symbol, BufferPoolBound>)[BOUND] = bound;
  return bound;
}
