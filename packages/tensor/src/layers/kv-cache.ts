import * as tf from '@tensorflow/tfjs-core';

/**
 * Keys and values of one attention layer kept across decoding steps: k, v: [batch, heads, len, headDim].
 * Self-attention appends the new positions each step; cross-attention stores the projected
 * context once (`frozen`). The cache owns its tensors: call `dispose()` when decoding ends.
 */
export class KVCache {
  k: tf.Tensor4D | undefined;
  v: tf.Tensor4D | undefined;
  /** Set for cross-attention: the stored k/v are reused, never appended to. */
  frozen = false;

  /** Number of cached positions (0 when empty). */
  get length(): number {
    return this.k?.shape[2] ?? 0;
  }

  /** Bytes of the cached k and v tensors (what this cache holds alive). */
  bytes(): number {
    return tensorBytes(this.k) + tensorBytes(this.v);
  }

  /** Appends k, v: [batch, heads, new, headDim]; returns the full cached k, v. */
  append(k: tf.Tensor4D, v: tf.Tensor4D): { k: tf.Tensor4D; v: tf.Tensor4D } {
    if (this.frozen) throw new Error('KVCache: cannot append to a frozen (cross-attention) cache');
    const nk = this.k === undefined ? k.clone() : tf.concat([this.k, k], 2);
    const nv = this.v === undefined ? v.clone() : tf.concat([this.v, v], 2);
    this.replace(nk, nv);
    return { k: nk, v: nv };
  }

  /** Stores cross-attention k/v once. */
  freeze(k: tf.Tensor4D, v: tf.Tensor4D): void {
    this.replace(k.clone(), v.clone());
    this.frozen = true;
  }

  private replace(k: tf.Tensor4D, v: tf.Tensor4D): void {
    this.k?.dispose();
    this.v?.dispose();
    // Kept out of any enclosing tf.tidy: the cache outlives the step that created it.
    this.k = tf.keep(k);
    this.v = tf.keep(v);
  }

  dispose(): void {
    this.k?.dispose();
    this.v?.dispose();
    this.k = undefined;
    this.v = undefined;
    this.frozen = false;
  }
}

/** Bytes of a tensor's values (4 per float32 / int32 element); 0 for none. */
export function tensorBytes(t: tf.Tensor | undefined): number {
  if (t === undefined) return 0;
  if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`tensorBytes: unsupported dtype ${t.dtype} (float32 and int32 are 4 bytes per element)`);
  return t.size * 4;
}
