import * as tf from '@tensorflow/tfjs-core';
import { hasFusedKernel, runFused } from '../ops/fused.js';
import { canWriteRowsInPlace } from '../webgpu/write-rows.js';
import { fusedKernelNames as K } from '../webgpu/register.js';

/** The first capacity of a growing cache, in positions. */
const MIN_CAPACITY = 16;

/**
 * Keys and values of one attention layer kept across decoding steps: k, v: [batch, heads, slots, headDim].
 * Self-attention appends the new positions each step; cross-attention stores the projected
 * context once (`frozen`). The cache owns its tensors: call `dispose()` when decoding ends.
 *
 * Where the backend writes tensors in place (webgpu), the tensors have room for more positions
 * than are cached (`capacity`, doubled when full: 16, 32, 64, ...) and an append writes the new
 * positions of k and v into them, one dispatch for both, no new tensor. Slots past `length` hold zeros, and attention
 * hides them (the causal mask does already, see MultiHeadAttention). Growing by one position per
 * step instead would leave tfjs-webgpu's buffer pool, which keeps a buffer of every size it ever
 * made, holding O(steps²) bytes. Elsewhere the tensors are exactly `length` long, as before.
 */
export class KVCache {
  k: tf.Tensor4D | undefined;
  v: tf.Tensor4D | undefined;
  /** Set for cross-attention: the stored k/v are reused, never appended to. */
  frozen = false;
  private filled = 0;

  /** Number of cached positions (0 when empty). */
  get length(): number {
    return this.filled;
  }

  /** Positions the tensors have room for (the slots attention sees): `length`, or more on webgpu. */
  get capacity(): number {
    return this.k?.shape[2] ?? 0;
  }

  /** Bytes of the cached positions' keys and values (what `length` positions take; {@link reservedBytes} is what the tensors hold). */
  bytes(): number {
    const slots = this.capacity;
    return slots === 0 ? 0 : ((tensorBytes(this.k) + tensorBytes(this.v)) * this.filled) / slots;
  }

  /** Bytes of the cached k and v tensors, spare capacity included (what this cache holds alive). */
  reservedBytes(): number {
    return tensorBytes(this.k) + tensorBytes(this.v);
  }

  /** Appends k, v: [batch, heads, new, headDim]; returns the full cached k, v ([batch, heads, capacity, headDim]). */
  append(k: tf.Tensor4D, v: tf.Tensor4D): { k: tf.Tensor4D; v: tf.Tensor4D } {
    if (this.frozen) throw new Error('KVCache: cannot append to a frozen (cross-attention) cache');
    const n = k.shape[2];
    const at = this.filled;
    if (k.dtype === 'float32' && v.dtype === 'float32' && hasFusedKernel(K.writeRowsInPlace)) {
      const need = at + n;
      if (need > this.capacity) {
        // [batch, heads, capacity, headDim], zeros past the cached positions
        const capacity = Math.max(need, 2 * this.capacity, MIN_CAPACITY);
        const grow = (old: tf.Tensor4D | undefined, x: tf.Tensor4D) =>
          old === undefined ? tf.zeros([x.shape[0], x.shape[1], capacity, x.shape[3]]) : tf.pad(old, [[0, 0], [0, 0], [0, capacity - old.shape[2]], [0, 0]]);
        this.replace(grow(this.k, k) as tf.Tensor4D, grow(this.v, v) as tf.Tensor4D);
      }
      [this.k, this.v] = writeRows([this.k!, this.v!], [k, v], at) as [tf.Tensor4D, tf.Tensor4D];
    } else {
      const nk = this.k === undefined ? k.clone() : tf.concat([this.k, k], 2);
      const nv = this.v === undefined ? v.clone() : tf.concat([this.v, v], 2);
      this.replace(nk, nv);
    }
    this.filled = at + n;
    return { k: this.k!, v: this.v! };
  }

  /** Stores cross-attention k/v once. */
  freeze(k: tf.Tensor4D, v: tf.Tensor4D): void {
    this.replace(k.clone(), v.clone());
    this.filled = k.shape[2];
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
    this.filled = 0;
  }
}

/**
 * The caches with the xs' positions at `at..` (k's and v's): written in place where nothing else
 * shares their buffers (one dispatch for all), else as new tensors of the same shapes (each
 * cache then replaced). caches: [b, h, capacity, d], xs: [b, h, n, d].
 */
function writeRows(caches: tf.Tensor4D[], xs: tf.Tensor4D[], at: number): tf.Tensor4D[] {
  if (canWriteRowsInPlace(tf.backend(), caches, xs)) {
    const inputs = Object.fromEntries(caches.flatMap((c, i) => [[`cache${i}`, c], [`x${i}`, xs[i]!]]));
    runFused(K.writeRowsInPlace, inputs, { at, pairs: caches.length });
    return caches;
  }
  // the slots at.. of a cache are zeros: adding x padded to the cache's length places it exactly
  return caches.map((cache, i) => {
    const x = xs[i]!;
    const next = tf.keep(tf.tidy(() => tf.add(cache, tf.pad(x, [[0, 0], [0, 0], [at, cache.shape[2] - at - x.shape[2]], [0, 0]])) as tf.Tensor4D));
    cache.dispose();
    return next;
  });
}

/** Bytes of a tensor's values (4 per float32 / int32 element); 0 for none. */
export function tensorBytes(t: tf.Tensor | undefined): number {
  if (t === undefined) return 0;
  if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`tensorBytes: unsupported dtype ${t.dtype} (float32 and int32 are 4 bytes per element)`);
  return t.size * 4;
}
