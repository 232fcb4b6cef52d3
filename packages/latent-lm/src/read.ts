import type * as tf from '@tensorflow/tfjs-core';

/** A tensor's values read asynchronously (no backend needs a synchronous read), then disposes it. */
export async function readAndDispose(t: tf.Tensor): Promise<tf.TypedArray> {
  try {
    return (await t.data()) as tf.TypedArray;
  } finally {
    t.dispose();
  }
}
