/**
 * The attention masks that keep the diffusion heads honest (1 = may attend). `rows` flags which
 * batch rows have their context dropped (classifier-free guidance): those see no context at all.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Two-tower cross-attention: the memory is [zero, h_0 .. h_{n-1}] (h_k = contextualizer output
 * after clean c_0..c_k). The queries are the noisy vectors of the last `m` of positions 1..n;
 * the one for position p sees slots 0..p, i.e. the zero vector and context c_0..c_{p-1}, never
 * c_p or later. A dropped row sees only the zero vector. -> [batch, m, n + 1]
 */
export function twoTowerCrossMask(n: number, m: number, dropped: boolean[]): tf.Tensor3D {
  const slots = n + 1;
  const out = new Float32Array(dropped.length * m * slots);
  dropped.forEach((drop, b) => {
    for (let j = 0; j < m; j++) {
      const p = n - m + 1 + j;
      for (let s = 0; s <= (drop ? 0 : p); s++) out[(b * m + j) * slots + s] = 1;
    }
  });
  return tf.tensor3d(out, [dropped.length, m, slots]);
}

/** Each query attends only to itself (the denoiser's self-attention). -> [m, m] */
export function selfOnlyMask(m: number): tf.Tensor2D {
  return tf.eye(m) as tf.Tensor2D;
}

/**
 * One-tower: the sequence interleaves clean and noisy vectors, [c_0, x_1, c_1, x_2, ..., c_{n-1}, x_n]
 * (c_k at 2k, x_p at 2p - 1). Clean c_j sees c_0..c_j (causal over clean only); noisy x_p sees
 * c_0..c_{p-1} and itself, never c_p or later nor other noisy vectors. A dropped row's noisy
 * vectors see only themselves. -> [batch, 2n, 2n]
 */
export function oneTowerMask(n: number, dropped: boolean[]): tf.Tensor3D {
  const len = 2 * n;
  const out = new Float32Array(dropped.length * len * len);
  dropped.forEach((drop, b) => {
    const base = b * len * len;
    for (let j = 0; j < n; j++) for (let k = 0; k <= j; k++) out[base + 2 * j * len + 2 * k] = 1;
    for (let p = 1; p <= n; p++) {
      const q = 2 * p - 1;
      out[base + q * len + q] = 1;
      if (!drop) for (let k = 0; k < p; k++) out[base + q * len + 2 * k] = 1;
    }
  });
  return tf.tensor3d(out, [dropped.length, len, len]);
}

// a, b: [batch, n, d] -> [batch, 2n, d] = a_0, b_0, a_1, b_1, ...
export function interleave(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const [batch, n, d] = a.shape;
  return tf.tidy(() => tf.reshape(tf.stack([a, b], 2), [batch, 2 * n, d]) as tf.Tensor3D);
}

// x: [batch, 2n, d] -> the odd positions [batch, n, d]
export function oddPositions(x: tf.Tensor3D): tf.Tensor3D {
  const [batch, len, d] = x.shape;
  const n = len / 2;
  return tf.tidy(() => tf.reshape(tf.slice(tf.reshape(x, [batch, n, 2, d]), [0, 0, 1, 0], [batch, n, 1, d]), [batch, n, d]) as tf.Tensor3D);
}
