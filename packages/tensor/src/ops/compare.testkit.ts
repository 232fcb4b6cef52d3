/**
 * Test helpers shared by the fused-op tests: run the same computation on `cpu` and `webgpu`,
 * list the kernels a call runs on webgpu, and compare with the suite's tolerance.
 * (Vitest-only: excluded from the build.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { webgpuAvailability } from '../testing/webgpu.js';

/** Where a WebGPU adapter exists (a GPU or Mesa's lavapipe), and the reason when not. */
export const webgpu = await webgpuAvailability();
export const why = webgpu.ok ? 'webgpu adapter present' : `skipped: ${webgpu.reason}`;

/** Runs `fn` on `backend` (inputs built inside it live there), reads every result back, checks for leaks. */
export async function onBackend(backend: 'cpu' | 'webgpu', fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(fn);
  const data = await Promise.all(out.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(out);
  expect(tf.memory().numTensors).toBe(before);
  return data;
}

/** Names of the kernels `fn` runs on webgpu (its inputs are built outside the profile). */
export async function webgpuKernels(inputs: () => tf.Tensor[], fn: (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<string[]> {
  await tf.setBackend('webgpu');
  const ts = inputs();
  const info = await tf.profile(() => fn(...ts));
  tf.dispose([...ts, info.result as tf.Tensor | tf.Tensor[]].flat());
  return info.kernels.map((k) => k.name);
}

/** |got - want| <= 1e-4 + 1e-3 |want| elementwise; a failure names the worst element. */
export function expectClose(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < got.length; i++) {
    const excess = Math.abs(got[i]! - want[i]!) - (1e-4 + 1e-3 * Math.abs(want[i]!));
    if (!(excess <= worst)) [worst, at] = [excess, i];
  }
  expect(at, at < 0 ? '' : `element ${at}: got ${got[at]}, want ${want[at]}`).toBe(-1);
}
