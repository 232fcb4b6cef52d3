import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.js';
import { webgpu, why } from './compare.testkit.js';
import { splitParts } from './split.js';

// splitParts (the concat gradient) against tf.split on cpu and, with a WebGPU adapter, webgpu vs cpu.
afterAll(async () => {
  await tf.setBackend('cpu');
});

const shape = [3, 10, 4];
const data = new Rng(9).normalArray(120);
const cases: Array<[sizes: number[], axis: number]> = [
  [[1, 2], 0],
  [[3, 5, 2], 1],
  [[1, 3], -1],
];

async function run(backend: 'cpu' | 'webgpu'): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const x = tf.tensor3d(data, shape as [number, number, number]);
    const parts = cases.flatMap(([sizes, axis]) => splitParts(x, sizes, axis));
    // The concat gradient: each input gets its slice of dy = w.
    const [a, b] = tf.split(x, [4, 6], 1);
    const w = tf.tensor3d(data.map((v) => v * v), shape as [number, number, number]);
    const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.concat([p, q], 1), w)))([a!, b!]);
    return [...parts, ...grads];
  });
  const res = await Promise.all(out.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(out);
  expect(tf.memory().numTensors).toBe(before);
  return res;
}

describe('splitParts', () => {
  it('on cpu is exactly tf.split, also as the concat gradient', async () => {
    const got = await run('cpu');
    const want = tf.tidy(() => {
      const x = tf.tensor3d(data, shape as [number, number, number]);
      const w = tf.tensor3d(data.map((v) => v * v), shape as [number, number, number]);
      return [...cases.flatMap(([sizes, axis]) => tf.split(x, sizes, axis)), ...tf.split(w, [4, 6], 1)].map((t) => Float32Array.from(t.dataSync()));
    });
    expect(got).toEqual(want);
  });

  it('rejects sizes that do not split the axis', () => {
    expect(() => splitParts(tf.zeros([2, 5]), [2, 2], 1)).toThrow(/splitParts: sizes \[2,2\] along axis 1 do not split x \[2,5\]/);
  });

  it.skipIf(!webgpu.ok)(`on webgpu equals cpu and runs one kernel for all parts (${why})`, async () => {
    const want = await run('cpu');
    const got = await run('webgpu');
    expect(got).toEqual(want); // a copy: exact
    const x = tf.tensor3d(data, shape as [number, number, number]);
    const info = await tf.profile(() => splitParts(x, [3, 5, 2], 1));
    expect(info.kernels.map((k) => k.name)).toEqual(['SlSplit']);
    tf.dispose([x, ...(info.result as tf.Tensor[])]);
  });
});
