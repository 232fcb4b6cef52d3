/**
 * A KV cache's append on webgpu without new tensors: the new positions of k and v written into
 * the cache's buffers in place (a raw kernel, see raw.ts), both in one dispatch.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { i32u, rawAvailable, rawBackend, runRaw } from './raw.js';

const WG = 64;

/**
 * Whether every cache may be written in place: raw kernels, no other tensor shares a cache's
 * buffer, and no buffer is bound twice.
 */
export function canWriteRowsInPlace(backend: unknown, caches: tf.TensorInfo[], xs: tf.TensorInfo[]): boolean {
  if (!rawAvailable(backend)) return false;
  if (new Set([...caches, ...xs].map((t) => t.dataId)).size !== caches.length + xs.length) return false;
  return caches.every((c) => backend.tensorMap.get(c.dataId)?.refCount === 1);
}

/**
 * SlWriteRowsInPlace (cache0, x0, cache1, x1, ...: cache [b, h, capacity, d], x [b, h, n, d], every
 * pair the same shapes), attrs {at, pairs} -> no outputs; cache_i[:, :, at + t] = x_i[:, :, t].
 */
export function writeRowsInPlace(backend: unknown, caches: tf.TensorInfo[], xs: tf.TensorInfo[], at: number): tf.TensorInfo[] {
  const [b, h, capacity, d] = caches[0]!.shape as [number, number, number, number];
  const n = xs[0]!.shape[2]!;
  const size = b * h * n * d;
  runRaw(rawBackend(backend), {
    key: `slWriteRowsInPlace${caches.length}`,
    bindings: caches.flatMap((cache, i) => [
      { name: `x${i}`, tensor: xs[i]! },
      { name: `cache${i}`, tensor: cache, write: true },
    ]),
    uniforms: [['size : i32', i32u(size)], ['n : i32', i32u(n)], ['d : i32', i32u(d)], ['capacity : i32', i32u(capacity)], ['at : i32', i32u(at)]],
    workgroupSize: WG,
    workgroups: Math.ceil(size / WG),
    body: `
  let i = group * ${WG} + tid;
  if (i >= u.size) { return; }
  let c = i % u.d;
  let t = (i / u.d) % u.n;
  let bh = i / (u.d * u.n);
  let to = (bh * u.capacity + u.at + t) * u.d + c;
  ${caches.map((_, k) => `cache${k}[to] = x${k}[i];`).join('\n  ')}`,
  });
  return [];
}
