import * as tf from '@tensorflow/tfjs-core';
import type { AdamWScalars } from '../webgpu/adamw.js';
import { inPlaceGroupCapacity, slotsConflict, type AdamWSharedScalars } from '../webgpu/adamw-group.js';
import { canUpdateInPlace } from '../webgpu/adamw-inplace.js';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';

export type { AdamWScalars, AdamWSharedScalars };

export interface AdamWUpdate {
  p: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
}

/**
 * One AdamW step for one parameter, as new tensors (the caller assigns them):
 * m' = b1 m + (1-b1) g; v' = b2 v + (1-b2) g²; p' = p * decay - lr * (m'/bc1) / (sqrt(v'/bc2) + eps).
 * p, m, v, g: same shape. Three fused dispatches where the backend has the kernel (webgpu),
 * else the composite ops (~14).
 */
export function adamwUpdate(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, s: AdamWScalars): AdamWUpdate {
  if (p.dtype === 'float32' && g.dtype === 'float32' && hasFusedKernel(K.adamw)) {
    const [pNew, mNew, vNew] = runFused(K.adamw, { p, m, v, g }, { ...s }) as tf.Tensor[];
    return { p: pNew!, m: mNew!, v: vNew! };
  }
  return tf.tidy(() => {
    const mNew = tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1));
    const vNew = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
    const denom = tf.add(tf.sqrt(tf.div(vNew, s.bc2)), s.eps);
    const update = tf.div(tf.div(mNew, s.bc1), denom);
    const decayed = s.decay !== 1 ? tf.mul(p, s.decay) : p;
    return { p: tf.sub(decayed, tf.mul(update, s.lr)), m: mNew, v: vNew };
  });
}

/**
 * The same step written into p, m and v themselves (variables the caller owns), in one dispatch,
 * where the backend has the kernel (webgpu) and no other tensor shares their buffers. Returns
 * false, having changed nothing, where it cannot; the caller then uses {@link adamwUpdate}.
 */
export function adamwUpdateInPlace(p: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, s: AdamWScalars): boolean {
  if (!(p.dtype === 'float32' && m.dtype === 'float32' && v.dtype === 'float32' && g.dtype === 'float32')) return false;
  if (!hasFusedKernel(K.adamwInPlace) || !canUpdateInPlace(tf.backend(), p, m, v, g)) return false;
  runFused(K.adamwInPlace, { p, m, v, g }, { ...s });
  return true;
}

/** One parameter's step for {@link AdamWInPlaceBatch}: its variables, gradient and weight-decay factor. */
export interface AdamWInPlaceSlot {
  p: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
  g: tf.Tensor;
  /** 1 - lr * weightDecay for a decayed parameter, 1 otherwise. */
  decay: number;
}

/**
 * In-place AdamW steps for several parameters, recorded several per dispatch where the backend
 * has the kernels (webgpu): `SlAdamWGroupInPlace` updates up to floor(maxStorageBuffersPerShaderStage
 * / 4) parameters at once (4 on lavapipe, 2 at WebGPU's default limit), a lone one runs
 * `SlAdamWInPlace`. Each element's arithmetic is that of {@link adamwUpdateInPlace}.
 * Call {@link add} per parameter in order and {@link flush} before any other update of these
 * tensors (the fallback of a parameter `add` refused included) and at the end: the results
 * equal those of one {@link adamwUpdateInPlace} per parameter, in that order.
 */
export class AdamWInPlaceBatch {
  private readonly s: AdamWSharedScalars;
  private readonly capacity: number;
  private pending: AdamWInPlaceSlot[] = [];

  /** `perDispatch` caps the parameters per dispatch below the backend's own limit. */
  constructor(s: AdamWSharedScalars, perDispatch = Infinity) {
    this.s = s;
    this.capacity = Math.max(1, Math.min(perDispatch, inPlaceGroupCapacity(tf.backend())));
  }

  /**
   * Queues the step of `slot` and returns true where it can run in place (float32, the backend
   * has the kernels, p, m, v each one tensor's own buffer); returns false, changing nothing, where
   * it cannot (the caller then flushes and uses {@link adamwUpdate}).
   */
  add(slot: AdamWInPlaceSlot): boolean {
    const { p, m, v, g } = slot;
    if (!(p.dtype === 'float32' && m.dtype === 'float32' && v.dtype === 'float32' && g.dtype === 'float32')) return false;
    if (!hasFusedKernel(K.adamwInPlace) || !hasFusedKernel(K.adamwGroupInPlace) || !canUpdateInPlace(tf.backend(), p, m, v, g)) return false;
    if (slotsConflict(this.pending, slot)) this.flush();
    this.pending.push(slot);
    if (this.pending.length >= this.capacity) this.flush();
    return true;
  }

  /** Records the queued steps. */
  flush(): void {
    const slots = this.pending;
    this.pending = [];
    if (slots.length === 1) {
      const { p, m, v, g, decay } = slots[0]!;
      runFused(K.adamwInPlace, { p, m, v, g }, { ...this.s, decay });
    } else if (slots.length > 1) {
      const inputs: Record<string, tf.Tensor> = {};
      slots.forEach((x, k) => Object.assign(inputs, { [`p${k}`]: x.p, [`m${k}`]: x.m, [`v${k}`]: x.v, [`g${k}`]: x.g }));
      runFused(K.adamwGroupInPlace, inputs, { ...this.s, decays: slots.map((x) => x.decay) });
    }
  }
}
