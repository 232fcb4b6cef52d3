/**
 * A KV cache's append on webgpu without a new tensor: x's positions written into the cache's
 * buffer in place (a raw kernel, see raw.ts), one dispatch.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { i32u, rawAvailable, rawBackend, runRaw } from './raw.js';

const WG = 64;

/** Whether `cache` may be written in place: raw kernels, no other tensor shares its buffer, x is another buffer. */
export function canWriteRowsInPlace(backend: unknown, cache: tf.TensorInfo, x: tf.TensorInfo): boolean {
  if (!rawAvailable(backend)) return false;
  return cache.dataId !== x.dataId && backend.tensorMap.get(cache.dataId)?.refCount === 1;
}

/** SlWriteRowsInPlace (cache [b, h, capacity, d], x [b, h, n, d]), attrs {at} -> no outputs; cache[:, :, at + t] = x[:, :, t]. */
export function writeRowsInPlace(backend: unknown, cache: tf.TensorInfo, x: tf.TensorInfo, at: number): tf.TensorInfo[] {
  const [b, h, capacity, d] = cache.shape as [number, number, number, number];
  const n = x.shape[2]!;
  const size = b * h * n * d;
  runRaw(rawBackend(backend), {
    key: 'slWriteRowsInPlace',
    bindings: [
      { name: 'x', tensor: x },
      { name: 'cache', tensor: cache, write: true },
    ],
    uniforms: [['size : i32', i32u(size)], ['n : i32', i32u(n)], ['d : i32', i32u(d)], ['capacity : i32', i32u(capacity)], ['at : i32', i32u(at)]],
    workgroupSize: WG,
    workgroups: Math.ceil(size / WG),
    body: `
  let i = group * ${WG} + tid;
  if (i >= u.size) { return; }
  let c = i % u.d;
  let t = (i / u.d) % u.n;
  let bh = i / (u.d * u.n);
  cache[(bh * u.capacity + u.at + t) * u.d + c] = x[i];`,
  });
  return [];
}
