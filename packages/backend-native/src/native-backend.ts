import { totalmem } from 'node:os';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendValues, DataId, DataType } from '@tensorflow/tfjs-core';

/** Outputs of at least this many floats are recycled; smaller ones are cheap to allocate. */
const MIN_POOLED = 1 << 14;
/**
 * At most this many bytes wait in the pool: `SENTENCELAB_NATIVE_POOL_MB`, else an eighth of
 * the machine's memory, between 512 MiB and 4 GiB. A large training step (d 512, seq 256,
 * batch 32) frees and reallocates GBs of 16-134 MB activations; with a 512 MiB pool most of
 * them were fresh arrays, and the kernel's page faults and zero-filling took a third of the
 * step's CPU time. Several training processes on one machine (a sweep's workers) each hold a
 * pool: lower the cap there.
 */
export function maxPooledBytes(env: string | undefined = process.env['SENTENCELAB_NATIVE_POOL_MB']): number {
  if (env !== undefined && env !== '') {
    const mb = Number(env);
    if (!Number.isFinite(mb) || mb < 0) throw new Error(`SENTENCELAB_NATIVE_POOL_MB must be a number of MiB >= 0, got ${JSON.stringify(env)}`);
    return Math.floor(mb * 2 ** 20);
  }
  return Math.min(4 * 2 ** 30, Math.max(512 * 2 ** 20, Math.floor(totalmem() / 8)));
}
const MAX_POOLED_BYTES = maxPooledBytes();

/**
 * The pool's size class of an n-float output: n rounded up to an eighth of the power of two
 * below it (at most 12.5 % more). Exact sizes made the pool useless for shapes that vary from
 * batch to batch (sentences of every length): each new size was a fresh array, and the pool
 * filled to its cap with sizes never asked for again (4 GB resident for a d-128 SentenceVAE).
 */
export function poolClass(n: number): number {
  const step = 2 ** Math.floor(Math.log2(n)) / 8;
  return Math.ceil(n / step) * step;
}

/**
 * The tfjs cpu backend plus a recycling allocator for native kernel outputs. A fresh 4 MiB
 * Float32Array costs page faults and zero-filling, several times the element-wise kernel that
 * fills it; a training step allocates the same sizes over and over. A buffer goes back to the
 * pool when the last tensor using it is disposed, unless its values escaped (read by
 * dataSync/data, which hands out the array itself), so no live array is ever reused.
 *
 * A full pool makes room by dropping the buffers of the size classes used longest ago. Without
 * that, the first stages of a pipeline filled it with their own shapes and every later stage
 * (the next model, the next sweep point) found it full of sizes it never asks for: all its
 * outputs were fresh arrays again, and the same training steps took 1.6-1.8x the CPU seconds
 * in the second and third seeds of a sweep run in one process.
 */
export class NativeCpuBackend extends MathBackendCPU {
  /** Pooled buffers by size class (floats), least recently used class first. */
  private readonly free = new Map<number, ArrayBuffer[]>();
  private pooledBytes = 0;
  /** The pool's cap in bytes (`SENTENCELAB_NATIVE_POOL_MB`); tests lower it. */
  poolCapBytes = MAX_POOLED_BYTES;
  /** Buffers this backend allocated -> number of live data entries using them (views included). */
  private readonly owners = new WeakMap<ArrayBufferLike, number>();
  private readonly escaped = new WeakSet<ArrayBufferLike>();

  constructor() {
    super();
    // The cpu backend's first write prints "install tfjs-node to speed things up": that is us.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** An uninitialised float32 output of n elements (the kernel must write all of it). */
  allocF32(n: number): Float32Array {
    if (n < MIN_POOLED) return new Float32Array(n);
    const size = poolClass(n);
    const reused = this.touch(size).pop();
    if (reused) this.pooledBytes -= reused.byteLength;
    const buffer = reused ?? new ArrayBuffer(size * 4);
    this.owners.set(buffer, 0);
    return new Float32Array(buffer, 0, n);
  }

  private track(values: BackendValues | undefined, delta: number): number | undefined {
    if (!ArrayBuffer.isView(values)) return undefined;
    const count = this.owners.get(values.buffer);
    if (count === undefined) return undefined;
    this.owners.set(values.buffer, count + delta);
    return count + delta;
  }

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    const id = super.write(values, shape, dtype);
    this.track(values, +1);
    return id;
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    super.move(dataId, values, shape, dtype, refCount);
    this.track(values, +1);
  }

  override readSync(dataId: DataId): BackendValues {
    const values = this.data.get(dataId)?.values;
    if (ArrayBuffer.isView(values)) this.escaped.add(values.buffer);
    return super.readSync(dataId);
  }

  override async read(dataId: DataId): Promise<BackendValues> {
    return this.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const released = super.disposeData(dataId, force);
    if (released && values !== undefined && !this.data.has(dataId)) {
      const left = this.track(values, -1);
      if (left === 0 && values instanceof Float32Array) this.recycle(values);
    }
    return released;
  }

  /** The free list of a size class, marked as the most recently used. */
  private touch(size: number): ArrayBuffer[] {
    const list = this.free.get(size) ?? [];
    this.free.delete(size);
    this.free.set(size, list);
    return list;
  }

  private recycle(values: Float32Array): void {
    const buffer = values.buffer as ArrayBuffer;
    if (this.escaped.has(buffer) || buffer.byteLength > this.poolCapBytes) return;
    const size = buffer.byteLength / 4;
    const list = this.touch(size);
    const fits = (): boolean => this.pooledBytes + buffer.byteLength <= this.poolCapBytes;
    // Full: drop buffers of the classes used longest ago (this one, just touched, comes last).
    for (const [other, buffers] of this.free) {
      if (fits() || other === size) break;
      while (buffers.length > 0 && !fits()) this.pooledBytes -= buffers.pop()!.byteLength;
      if (buffers.length === 0) this.free.delete(other);
    }
    if (!fits()) return;
    this.owners.delete(buffer);
    list.push(buffer);
    this.pooledBytes += buffer.byteLength;
  }

  /** Bytes waiting in the pool. */
  get pooled(): number {
    return this.pooledBytes;
  }
}
