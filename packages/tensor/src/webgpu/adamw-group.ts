/**
 * In-place AdamW for several parameters in one dispatch (a raw kernel, see raw.ts): slot k binds
 * p_k, m_k, v_k read-write and g_k read, so one dispatch takes floor(maxStorageBuffersPerShaderStage
 * / 4) parameters (2 at WebGPU's default limit of 8, 4 on lavapipe's 16). The workgroups are laid
 * out slot after slot (slot k owns groups [end_{k-1}, end_k)), and each element runs the same
 * arithmetic as adamw-inplace.ts with its slot's own weight-decay factor and size.
 * The caller checks each slot with `canUpdateInPlace` and that no buffer written by one slot is
 * bound by another (see {@link slotsConflict}).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { AdamWScalars } from './adamw.js';
import type { UniformValue } from './program.js';
import { f32u, i32u, rawAvailable, rawBackend, runRaw } from './raw.js';

const WG = 64;

/** The AdamW scalars all slots of a dispatch share (the weight-decay factor is per slot). */
export type AdamWSharedScalars = Omit<AdamWScalars, 'decay'>;

export interface AdamWSlot {
  p: tf.TensorInfo;
  m: tf.TensorInfo;
  v: tf.TensorInfo;
  g: tf.TensorInfo;
  /** 1 - lr * weightDecay for a decayed parameter, 1 otherwise. */
  decay: number;
}

/** Parameters one grouped dispatch can update on `backend` (its storage-buffer limit / 4), 0 without raw kernels. */
export function inPlaceGroupCapacity(backend: unknown): number {
  if (!rawAvailable(backend)) return 0;
  return Math.floor(backend.device.limits.maxStorageBuffersPerShaderStage / 4);
}

/**
 * Whether `slot` cannot join `group` in one dispatch: a buffer it writes is bound by the group,
 * or it binds a buffer the group writes (one parameter listed twice, or one's gradient being
 * another's parameter). Read-only gradients may be shared.
 */
export function slotsConflict(group: ReadonlyArray<Pick<AdamWSlot, 'p' | 'm' | 'v' | 'g'>>, slot: Pick<AdamWSlot, 'p' | 'm' | 'v' | 'g'>): boolean {
  const written = new Set(group.flatMap((s) => [s.p.dataId, s.m.dataId, s.v.dataId]));
  const read = new Set(group.map((s) => s.g.dataId));
  return [slot.p, slot.m, slot.v].some((t) => written.has(t.dataId) || read.has(t.dataId)) || written.has(slot.g.dataId);
}

/** SlAdamWGroupInPlace (p0, m0, v0, g0, p1, ...), attrs AdamWSharedScalars + `decays` (one per slot) -> no outputs. */
export function adamwGroupStepInPlace(backend: unknown, slots: AdamWSlot[], s: AdamWSharedScalars): tf.TensorInfo[] {
  const b = rawBackend(backend);
  const n = slots.length;
  if (n === 0) return [];
  const perSlot: Array<[string, UniformValue]> = [];
  let end = 0;
  slots.forEach((slot, k) => {
    const size = slot.p.shape.reduce((a, c) => a * c, 1);
    end += Math.ceil(size / WG);
    perSlot.push([`decay${k} : f32`, f32u(slot.decay)], [`size${k} : i32`, i32u(size)], [`end${k} : i32`, i32u(end)]);
  });
  const update = (k: number) => `
    let i = (group - ${k === 0 ? '0' : `u.end${k - 1}`}) * ${WG} + tid;
    if (i >= u.size${k}) { return; }
    let gi = g${k}[i];
    let mN = m${k}[i] * u.beta1 + gi * u.oneMinusBeta1;
    let vN = v${k}[i] * u.beta2 + (gi * gi) * u.oneMinusBeta2;
    m${k}[i] = mN;
    v${k}[i] = vN;
    let update = (mN / u.bc1) / (sqrt(vN / u.bc2) + u.eps);
    p${k}[i] = p${k}[i] * u.decay${k} - update * u.lr;
    return;`;
  runRaw(b, {
    key: `slAdamWGroupInPlace${n}`,
    bindings: slots.flatMap((slot, k) => [
      { name: `p${k}`, tensor: slot.p, write: true },
      { name: `m${k}`, tensor: slot.m, write: true },
      { name: `v${k}`, tensor: slot.v, write: true },
      { name: `g${k}`, tensor: slot.g },
    ]),
    uniforms: [
      ['beta1 : f32', f32u(s.beta1)], ['oneMinusBeta1 : f32', f32u(1 - s.beta1)], ['beta2 : f32', f32u(s.beta2)], ['oneMinusBeta2 : f32', f32u(1 - s.beta2)],
      ['bc1 : f32', f32u(s.bc1)], ['bc2 : f32', f32u(s.bc2)], ['eps : f32', f32u(s.eps)], ['lr : f32', f32u(s.lr)], ...perSlot,
    ],
    workgroupSize: WG,
    workgroups: end,
    body: slots.map((_, k) => `
  if (group < u.end${k}) {${update(k)}
  }`).join(''),
  });
  return [];
}
