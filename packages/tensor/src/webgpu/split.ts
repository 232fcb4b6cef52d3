/**
 * tf.split along one axis in one dispatch (tfjs-webgpu runs one slice per part), for the
 * gradient of a concat: x viewed as [outer, total, inner] goes to parts [outer, size_p, inner].
 */
import type * as tf from '@tensorflow/tfjs-core';
import { i32u, rawBackend, rawOutput, runRaw } from './raw.js';

/** Whether one dispatch can bind the input and `parts` outputs on this backend. */
export function splitFits(backend: unknown, parts: number): boolean {
  return rawBackend(backend).device.limits.maxStorageBuffersPerShaderStage >= parts + 1;
}

/** SlSplit (x), attrs { sizes, axis } -> one tensor per size (x's shape with size at axis). */
export function splitForward(backend: unknown, x: tf.TensorInfo, sizes: number[], axis: number): tf.TensorInfo[] {
  const b = rawBackend(backend);
  const outer = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const total = x.shape[axis]!;
  const size = outer * total * inner;
  const outs = sizes.map((s) => rawOutput(b, x.shape.map((d, i) => (i === axis ? s : d))));
  // Offsets along the axis are baked into the WGSL (and the key): the part is found by comparisons.
  let start = 0;
  const branches = sizes.map((s, p) => {
    const at = start;
    start += s;
    const write = `out${p}[(o * ${s} + c - ${at}) * u.inner + k] = x[i];`;
    return p === sizes.length - 1 ? `{ ${write} }` : `if (c < ${start}) { ${write} }`;
  });
  runRaw(b, {
    key: `slSplit_${sizes.join('_')}`,
    bindings: [{ name: 'x', tensor: x }, ...outs.map((t, p) => ({ name: `out${p}`, tensor: t, write: true }))],
    uniforms: [['size : i32', i32u(size)], ['total : i32', i32u(total)], ['inner : i32', i32u(inner)]],
    workgroupSize: 64,
    workgroups: Math.ceil(size / 64),
    body: `
  let i = group * 64 + tid;
  if (i >= u.size) { return; }
  let k = i % u.inner;
  let c = (i / u.inner) % u.total;
  let o = i / (u.inner * u.total);
  ${branches.join(' else ')}`,
  });
  return outs;
}
