import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import type { NativeCpuBackend } from './native-backend.js';
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
