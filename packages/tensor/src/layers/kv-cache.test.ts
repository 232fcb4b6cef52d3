import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, onBackend, webgpu, why } from '../ops/compare.testkit.js';
import { Rng } from '../rng.js';
import { MultiHeadAttention } from './attention.js';
import { KVCache } from './kv-cache.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

const [B, D, H] = [2, 8, 2];
const rng = new Rng(41);
const xs = rng.normalArray(B * 40 * D);

/**
 * Self-attention over 40 positions fed 3, then 1 at a time through a cache, with or without the
 * causal mask (without it, key padding hides the last position of row 1): each call's outputs,
 * and the cache's length, capacity and bytes after every call.
 */
const decode = (causal: boolean) => () => {
  const attn = new MultiHeadAttention({ dModel: D, numHeads: H, rng: new Rng(5) });
  const cache = new KVCache();
  const x = tf.tensor3d(xs, [B, 40, D]);
  const outs: tf.Tensor[] = [];
  const sizes: number[] = [];
  for (let at = 0; at < 40; at += at === 0 ? 3 : 1) {
    const n = at === 0 ? 3 : 1;
    const len = at + n;
    // row 1's newest key is padding (hidden) without the causal mask
    const keyMask = causal ? undefined : tf.tensor2d(Array.from({ length: B * len }, (_, i) => (i === B * len - 1 ? 0 : 1)), [B, len]);
    outs.push(attn.forward(tf.slice(x, [0, at, 0], [B, n, D]), { causal, keyMask, cache }));
    sizes.push(cache.length, cache.capacity, cache.bytes(), cache.reservedBytes());
  }
  cache.dispose();
  attn.dispose();
  return [tf.concat(outs, 1), tf.tensor1d(sizes)];
};

describe('KVCache', () => {
  it('on cpu holds exactly the cached positions (capacity = length)', async () => {
    const [, sizes] = await onBackend('cpu', decode(true));
    for (let i = 0; i < sizes!.length; i += 4) {
      const [length, capacity, bytes, reserved] = sizes!.slice(i, i + 4);
      expect(capacity).toBe(length);
      expect(bytes).toBe(2 * B * H * (D / H) * length! * 4);
      expect(reserved).toBe(bytes);
    }
  });

  it.skipIf(!webgpu.ok)(`on webgpu grows by doubling, writes in place, and attends as cpu does, causal or with key padding (${why})`, async () => {
    for (const causal of [true, false]) {
      const [want] = await onBackend('cpu', decode(causal));
      const [got, sizes] = await onBackend('webgpu', decode(causal));
      expectClose(got!, want!);
      const capacities = new Set<number>();
      for (let i = 0; i < sizes!.length; i += 4) {
        const [length, capacity, bytes, reserved] = sizes!.slice(i, i + 4);
        capacities.add(capacity!);
        expect(capacity).toBeGreaterThanOrEqual(length!);
        expect(bytes).toBe(2 * B * H * (D / H) * length! * 4);
        expect(reserved).toBe(2 * B * H * (D / H) * capacity! * 4);
      }
      // 40 positions in tensors of 3 sizes, not 38
      expect([...capacities]).toEqual([16, 32, 64]);
    }
    // Within capacity, an append is one in-place write of k and v: no new tensor.
    await tf.setBackend('webgpu');
    const cache = new KVCache();
    const [k0, v0, k1, v1] = [0, 1, 2, 3].map((i) => tf.fill([1, 2, 1, 4], i) as tf.Tensor4D);
    cache.append(k0!, v0!);
    const before = tf.memory().numTensors;
    const info = await tf.profile(() => void cache.append(k1!, v1!));
    expect(info.kernels.map((k) => k.name)).toEqual(['SlWriteRowsInPlace']);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(await cache.k!.data()).slice(0, 12)).toEqual([0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0]);
    expect(Array.from(await cache.v!.data()).slice(0, 12)).toEqual([1, 1, 1, 1, 3, 3, 3, 3, 0, 0, 0, 0]);
    // A tensor sharing the cache's buffer (a reshape) keeps its values: that append copies.
    const alias = tf.reshape(cache.k!, [-1]);
    const [k2, v2] = [7, 8].map((i) => tf.fill([1, 2, 1, 4], i) as tf.Tensor4D);
    const kernels = (await tf.profile(() => void cache.append(k2!, v2!))).kernels.map((k) => k.name);
    expect(kernels).not.toContain('SlWriteRowsInPlace');
    expect(Array.from(await alias.data()).slice(0, 12)).toEqual([0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0]);
    expect(Array.from(await cache.k!.data()).slice(0, 12)).toEqual([0, 0, 0, 0, 2, 2, 2, 2, 7, 7, 7, 7]);
    expect(cache.length).toBe(3);
    tf.dispose([k0!, v0!, k1!, v1!, k2!, v2!, alias]);
    cache.dispose();
  }, 120_000);
});
