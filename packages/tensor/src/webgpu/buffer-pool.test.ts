import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { webgpu, why } from '../ops/compare.testkit.js';
import { boundBufferPool, bufferPoolBoundOf, FREE_POOL_FLAG, MIN_FREE_POOL_BYTES } from './buffer-pool.js';

// The bound on tfjs-webgpu's free-buffer pool, on a real adapter (lavapipe in CI): shapes that
// change every call no longer leave their buffers behind; fixed shapes reuse theirs untouched.
afterAll(async () => {
  await tf.setBackend('cpu');
});

interface Manager {
  numBytesUsed: number;
  numBytesAllocated: number;
}

const MB = 2 ** 20;

/** Runs a small op chain on a [rows, 256] float32 input (1 KiB a row) and reads the sum back. */
async function chain(rows: number): Promise<number> {
  const out = tf.tidy(() => {
    const x = tf.fill([rows, 256], 0.5);
    return tf.sum(tf.mul(tf.add(x, 1), 2)); // (0.5 + 1) x 2 = 3 per element
  });
  const v = (await out.data())[0]!;
  out.dispose();
  return v;
}

describe.skipIf(!webgpu.ok)(`webgpu buffer pool (${why})`, () => {
  it('is bounded when every call has a new shape, and results stay right after evictions', async () => {
    await tf.setBackend('webgpu');
    // initBackend installed it; installing again returns the same bound.
    const bound = bufferPoolBoundOf(tf.backend())!;
    expect(bound).toBeDefined();
    expect(boundBufferPool(tf.backend())).toBe(bound);
    const manager = (tf.backend() as unknown as { bufferManager: Manager }).bufferManager;
    const evicted = bound.evicted();
    // 160 distinct sizes of 0.3-0.5 MB, three buffers each: ~190 MB released, more than the cap.
    for (let i = 0; i < 160; i++) {
      const rows = 300 + i;
      expect(await chain(rows)).toBe(rows * 256 * 3);
    }
    expect(bound.cap()).toBeGreaterThanOrEqual(MIN_FREE_POOL_BYTES);
    expect(bound.evicted()).toBeGreaterThan(evicted);
    expect(bound.freeBytes()).toBeLessThanOrEqual(bound.cap());
    // What tfjs counts as allocated is what is in use plus the bounded pool.
    expect(manager.numBytesAllocated - manager.numBytesUsed).toBeLessThanOrEqual(bound.cap());
    expect(manager.numBytesAllocated).toBeLessThan(manager.numBytesUsed + bound.cap() + MB);
  });

  it('evicts nothing and allocates nothing new when the shapes repeat', async () => {
    await tf.setBackend('webgpu');
    const bound = bufferPoolBoundOf(tf.backend())!;
    const manager = (tf.backend() as unknown as { bufferManager: Manager }).bufferManager;
    await chain(1000); // the first call fills the pool with this shape's buffers
    const [evicted, allocated] = [bound.evicted(), manager.numBytesAllocated];
    for (let i = 0; i < 10; i++) expect(await chain(1000)).toBe(1000 * 256 * 3);
    expect(bound.evicted()).toBe(evicted);
    expect(manager.numBytesAllocated).toBe(allocated);
  });
});

describe.skipIf(!webgpu.ok)(`${FREE_POOL_FLAG} (${why})`, () => {
  it('sets the cap in MiB (0 = the peak in use); a bad value is refused and the flag keeps its value', async () => {
    await tf.setBackend('webgpu');
    const bound = bufferPoolBoundOf(tf.backend())!;
    try {
      tf.env().set(FREE_POOL_FLAG, 16);
      expect(bound.cap()).toBe(16 * MB);
      // Releases now evict down to 16 MiB.
      await chain(2000);
      expect(bound.freeBytes()).toBeLessThanOrEqual(16 * MB);
      expect(() => tf.env().set(FREE_POOL_FLAG, -1)).toThrow(`${FREE_POOL_FLAG} must be a number of MiB >= 0 (0 = the peak bytes in use), got -1`);
      expect(tf.env().getNumber(FREE_POOL_FLAG)).toBe(16);
    } finally {
      tf.env().set(FREE_POOL_FLAG, 0);
    }
    expect(bound.cap()).toBeGreaterThanOrEqual(MIN_FREE_POOL_BYTES);
  });
});

describe('boundBufferPool', () => {
  it('changes nothing on a backend without a tfjs-webgpu buffer manager', () => {
    expect(boundBufferPool(tf.findBackend('cpu'))).toBeUndefined();
    expect(boundBufferPool(null)).toBeUndefined();
    expect(bufferPoolBoundOf(tf.findBackend('cpu'))).toBeUndefined();
  });
});
