import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { maxPooledBytes, poolClass, type NativeCpuBackend } from './native-backend.js';
import { randomArray, setup, skipReason } from './test/compare.js';

const N = 1 << 16; // above the pooling threshold

describe.skipIf(skipReason !== '')('the native backend output pool', () => {
  beforeAll(async () => {
    await setup();
    await tf.setBackend('native');
  });
  const backend = () => tf.backend() as NativeCpuBackend;

  it('reuses the buffer of a disposed output for the next output of the same size', () => {
    const x = tf.tensor1d(randomArray(N, 1));
    const a = tf.exp(x);
    const buffer = (backend().data.get(a.dataId).values as Float32Array).buffer;
    a.dispose();
    const b = tf.exp(x);
    expect((backend().data.get(b.dataId).values as Float32Array).buffer).toBe(buffer);
    tf.dispose([x, b]);
  });

  it('reuses a disposed output for the next output of another size in the same class (shapes that vary by batch)', () => {
    const a = tf.exp(tf.tensor1d(randomArray(N + 100, 3)));
    const values = backend().data.get(a.dataId).values as Float32Array;
    expect(values.length).toBe(N + 100);
    const buffer = values.buffer;
    a.dispose();
    // N + 100 and N + 2000 both round up to N + N / 8.
    const x = tf.tensor1d(randomArray(N + 2000, 4));
    const b = tf.exp(x);
    const reused = backend().data.get(b.dataId).values as Float32Array;
    expect(reused.buffer).toBe(buffer);
    expect(reused.length).toBe(N + 2000);
    expect(Array.from(b.dataSync().subarray(0, 3))).toEqual(Array.from(x.dataSync().subarray(0, 3)).map((v) => Math.fround(Math.exp(v))));
    tf.dispose([x, b]);
  });

  it('a full pool drops the size classes used longest ago to keep the new one (a later stage\'s shapes)', () => {
    const b = backend();
    const cap = b.poolCapBytes;
    b.poolCapBytes = 2 * N * 4; // room for two outputs of N floats
    try {
      const x = tf.tensor1d(randomArray(N, 5));
      tf.dispose([tf.exp(x), tf.neg(x)]); // an earlier stage's shapes fill the pool
      expect(b.pooled).toBe(2 * N * 4);
      const y = tf.tensor1d(randomArray(2 * N, 6));
      const c = tf.exp(y);
      const buffer = (b.data.get(c.dataId).values as Float32Array).buffer;
      c.dispose(); // kept: the two N-float buffers make room
      expect(b.pooled).toBe(2 * N * 4);
      const d = tf.exp(y);
      expect((b.data.get(d.dataId).values as Float32Array).buffer).toBe(buffer);
      tf.dispose([x, y, d]);
    } finally {
      b.poolCapBytes = cap;
    }
  });

  it('never reuses values that were read out (dataSync) or that a live view still uses', () => {
    const x = tf.tensor1d(randomArray(N, 2));
    const a = tf.exp(x);
    const read = a.dataSync();
    const snapshot = Float32Array.from(read);
    a.dispose();
    const parent = tf.tanh(x);
    const view = tf.slice(parent, [100], [N / 2]); // contiguous: a zero-copy view on the parent
    const expected = tf.tidy(() => tf.slice(tf.tanh(x), [100], [N / 2]).dataSync()); // another buffer
    const parentValues = backend().data.get(parent.dataId).values;
    parent.dispose();
    const others = [tf.exp(x), tf.neg(x), tf.sqrt(tf.abs(x))];
    expect(read).toEqual(snapshot);
    expect(view.dataSync()).toEqual(expected);
    for (const t of others) expect(backend().data.get(t.dataId).values).not.toBe(parentValues);
    tf.dispose([x, view, ...others]);
  });
});

describe('pool sizing', () => {
  it('size classes: n rounded up to an eighth of the power of two below it', () => {
    expect(poolClass(1 << 16)).toBe(1 << 16);
    expect(poolClass((1 << 16) + 1)).toBe((1 << 16) + (1 << 13));
    expect(poolClass(100_000)).toBe(106_496); // 2^16 + 5 x 2^13
    for (const n of [16_384, 20_000, 65_535, 1_000_003, 12_345_678]) {
      expect(poolClass(n)).toBeGreaterThanOrEqual(n);
      expect(poolClass(n)).toBeLessThanOrEqual(n * 1.125);
    }
  });

  it('SENTENCELAB_NATIVE_POOL_MB caps the pool; a bad value names the variable', () => {
    expect(maxPooledBytes('256')).toBe(256 * 2 ** 20);
    expect(maxPooledBytes('0')).toBe(0);
    expect(maxPooledBytes(undefined)).toBeGreaterThanOrEqual(512 * 2 ** 20);
    expect(() => maxPooledBytes('lots')).toThrow(/SENTENCELAB_NATIVE_POOL_MB must be a number of MiB >= 0, got "lots"/);
  });
});
