// Test helpers: run the same computation on 'cpu' and 'native' and compare element-wise.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expect } from 'vitest';

import { loadAddon } from '../addon.js';
import { registerNativeBackend } from '../backend.js';

const load = loadAddon();
/** Why the native tests are skipped ('' when the addon is built). */
export const skipReason = load.ok ? '' : `native addon unavailable: ${load.reason}`;
if (skipReason) console.warn(`[backend-native tests skipped] ${skipReason}`);

export async function setup(): Promise<void> {
  if (skipReason) return;
  const r = await registerNativeBackend();
  if (!r.ok) throw new Error(r.reason);
}

/** A deterministic pseudo-random array in [-1, 1) (xorshift), so failures reproduce. */
export function randomArray(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

export interface Input {
  values: ArrayLike<number>;
  shape: number[];
  dtype?: 'float32' | 'int32';
}

/** Runs fn on tensors built from inputs on `backend`; returns output values and shapes. */
export async function runOn(backend: string, inputs: Input[], fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(Array.from(i.values), i.shape, i.dtype ?? 'float32'));
    const out = fn(...xs);
    const list = Array.isArray(out) ? out : [out];
    return list.map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync() as Float32Array) }));
  });
}

/** Asserts |a - b| <= atol + rtol * |b| element-wise, with NaN == NaN and Inf == Inf. */
export function expectClose(actual: number[], expected: number[], rtol = 1e-5, atol = 1e-6, what = ''): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) expect(a, `${what} [${i}]`).toBe(e);
      continue;
    }
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) expect(a, `${what} [${i}] (expected ${e})`).toBe(e);
  }
}

/** Runs fn on cpu and native and compares every output (shape, dtype and values). */
export async function compareWithCpu(
  inputs: Input[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  rtol = 1e-5,
  atol = 1e-6,
  what = '',
): Promise<void> {
  const ref = await runOn('cpu', inputs, fn);
  const got = await runOn('native', inputs, fn);
  expect(got.length).toBe(ref.length);
  ref.forEach((r, i) => {
    expect(got[i]!.shape, `${what} shape`).toEqual(r.shape);
    expect(got[i]!.dtype, `${what} dtype`).toBe(r.dtype);
    expectClose(got[i]!.values, r.values, rtol, atol, what);
  });
}
