import * as tf from '@tensorflow/tfjs-core';

/**
 * Puts per-sentence rows back on the [B, S] grid they were flattened from
 * (`flattenSentences(...).slots`): row i goes to slot `slots[i]`, empty slots get zeros.
 * rows: [n, d] -> [B, S, d]. Differentiable (a gather), so an SLLM can train through it.
 */
export function scatterToSlots(rows: tf.Tensor2D, slots: Int32Array, shape: readonly [number, number]): tf.Tensor3D {
  const [B, S] = shape;
  const [n, d] = rows.shape;
  if (slots.length !== n) throw new Error(`scatterToSlots: ${n} rows but ${slots.length} slots`);
  // Index n is the appended zero row.
  const source = new Int32Array(B * S).fill(n);
  slots.forEach((slot, i) => {
    if (!(slot >= 0 && slot < B * S)) throw new Error(`scatterToSlots: slot ${slot} (row ${i}) is outside the ${B} x ${S} grid`);
    source[slot] = i;
  });
  return tf.tidy(() => {
    const padded = tf.concat([rows, tf.zeros([1, d])], 0);
    return tf.reshape(tf.gather(padded, tf.tensor1d(source, 'int32')), [B, S, d]) as tf.Tensor3D;
  });
}
