/**
 * AdamW in one dispatch per parameter, updating p, m and v in place (a raw kernel, see raw.ts),
 * where the program path (adamw.ts) needs three because each program writes one new tensor.
 * In place is only safe when nothing else sees those buffers: `canUpdateInPlace` requires each
 * to belong to exactly one tensor (a clone, reshape or saved copy shares it and bumps the
 * count) and to differ from the gradient's.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { AdamWScalars } from './adamw.js';
import { f32u, i32u, rawAvailable, rawBackend, runRaw } from './raw.js';

const WG = 64;

/** Whether the backend can run raw kernels and p, m, v are each one tensor's own buffer, distinct from g's. */
export function canUpdateInPlace(backend: unknown, p: tf.TensorInfo, m: tf.TensorInfo, v: tf.TensorInfo, g: tf.TensorInfo): boolean {
  if (!rawAvailable(backend)) return false;
  // One buffer bound twice (read-write and read) would make the dispatch invalid.
  if (new Set([p.dataId, m.dataId, v.dataId, g.dataId]).size !== 4) return false;
  return [p, m, v].every((t) => backend.tensorMap.get(t.dataId)?.refCount === 1);
}

/** SlAdamWInPlace (p, m, v, g), attrs AdamWScalars -> no outputs; p, m, v hold the new values. */
export function adamwStepInPlace(backend: unknown, p: tf.TensorInfo, m: tf.TensorInfo, v: tf.TensorInfo, g: tf.TensorInfo, s: AdamWScalars): tf.TensorInfo[] {
  const size = p.shape.reduce((a, c) => a * c, 1);
  runRaw(rawBackend(backend), {
    key: 'slAdamWInPlace',
    bindings: [
      { name: 'p', tensor: p, write: true },
      { name: 'm', tensor: m, write: true },
      { name: 'v', tensor: v, write: true },
      { name: 'g', tensor: g },
    ],
    uniforms: [
      ['beta1 : f32', f32u(s.beta1)], ['oneMinusBeta1 : f32', f32u(1 - s.beta1)], ['beta2 : f32', f32u(s.beta2)], ['oneMinusBeta2 : f32', f32u(1 - s.beta2)],
      ['bc1 : f32', f32u(s.bc1)], ['bc2 : f32', f32u(s.bc2)], ['eps : f32', f32u(s.eps)], ['lr : f32', f32u(s.lr)], ['decay : f32', f32u(s.decay)], ['size : i32', i32u(size)],
    ],
    workgroupSize: WG,
    workgroups: Math.ceil(size / WG),
    body: `
  let i = group * ${WG} + tid;
  if (i >= u.size) { return; }
  let gi = g[i];
  let mN = m[i] * u.beta1 + gi * u.oneMinusBeta1;
  let vN = v[i] * u.beta2 + (gi * gi) * u.oneMinusBeta2;
  m[i] = mN;
  v[i] = vN;
  let update = (mN / u.bc1) / (sqrt(vN / u.bc2) + u.eps);
  p[i] = p[i] * u.decay - update * u.lr;`,
  });
  return [];
}
