import { totalmem } from 'node:os';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendValues, DataId, DataType } from '@tensorflow/tfjs-core';

/** Outputs of at least this many floats are recycled; smaller ones are cheap to allocate. */
const MIN_POOLED = 1 << 14;
/**
 * At most this many bytes wait in the pool: an eighth of the machine's memory, between 512 MiB
 * and 4 GiB. A large training step (d 512, seq 256, batch 32) frees and reallocates GBs of
 * 16-134 MB activations; with a 512 MiB pool most of them were fresh arrays, and the kernel's
 * page faults and zero-filling took a third of the step's CPU time.
 */
const MAX_POOLED_BYTES = Math.min(4 * 2 ** 30, Math.max(512 * 2 ** 20, Math.floor(totalmem() / 8)));

/**
 * The tfjs cpu backend plus a recycling allocator for native kernel outputs. A fresh 4 MiB
 * Float32Array costs page faults and zero-filling, several times the element-wise kernel that
 * fills it; a training step allocates the same sizes over and over. A buffer goes back to the
 * pool when the last tensor using it is disposed, unless its values escaped (read by
 * dataSync/data, which hands out the array itself), so no live array is ever reused.
 */
export class NativeCpuBackend extends MathBackendCPU {
  private readonly free = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
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
    const reused = this.free.get(n)?.pop();
    if (reused) {
      this.pooledBytes -= reused.byteLength;
      this.owners.set(reused.buffer, 0);
      return reused;
    }
    const fresh = new Float32Array(n);
    this.owners.set(fresh.buffer, 0);
    return fresh;
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

  private recycle(values: Float32Array): void {
    const whole = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
    if (!whole || this.escaped.has(values.buffer) || this.pooledBytes + values.byteLength > MAX_POOLED_BYTES) return;
    this.owners.delete(values.buffer);
    let list = this.free.get(values.length);
    if (!list) this.free.set(values.length, (list = []));
    list.push(values);
    this.pooledBytes += values.byteLength;
  }
}
