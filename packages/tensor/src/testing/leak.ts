import * as tf from '@tensorflow/tfjs-core';

/**
 * Fails when live tensors grow across steps: runs `step` once to warm up (caches, optimizer
 * state), records `tf.memory().numTensors`, runs `steps` more and throws if the count grew.
 */
export async function expectNoLeak(step: (i: number) => unknown, steps = 3): Promise<void> {
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`expectNoLeak: steps must be >= 1, got ${steps}`);
  await step(0);
  const before = tf.memory().numTensors;
  for (let i = 1; i <= steps; i++) await step(i);
  const after = tf.memory().numTensors;
  if (after > before) {
    throw new Error(`tensor leak: ${after - before} tensors left behind over ${steps} steps (${before} -> ${after}; ${((after - before) / steps).toFixed(1)} per step)`);
  }
}
