import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.js';
import { gradients } from '../train/backward.js';
import { expectClose, onBackend, webgpu, webgpuKernels, why } from './compare.testkit.js';
import { layerNorm } from './layer-norm.js';
import { normWithSkip } from './norm-skip.js';
import { rmsNorm } from './rms-norm.js';

// normWithSkip ([x, norm(x)] with one backward node on webgpu) against the two separate uses of x
// it replaces: exactly on cpu, and webgpu vs cpu where an adapter exists, with both outputs in the
// loss and with one of them alone (the other's gradient then arrives as zeros).
afterAll(async () => {
  await tf.setBackend('cpu');
});

const rng = new Rng(11);
const shape = [3, 5, 40];
const x = rng.normalArray(120 * 5, 1, 2);
const gamma = rng.normalArray(40, 1, 0.3);
const beta = rng.normalArray(40, 0, 0.3);
const wSkip = rng.normalArray(600);
const wNorm = rng.normalArray(600);

type Uses = 'both' | 'skip' | 'norm';

/** Value and gradients (x, gamma[, beta]) of sum(skip * wSkip) + sum(y * wNorm), through this package's backward. */
function lossCase(center: boolean, uses: Uses, fused: boolean): tf.Tensor[] {
  const xt = tf.tensor(x, shape);
  const params = center ? [tf.tensor1d(gamma), tf.tensor1d(beta)] : [tf.tensor1d(gamma)];
  const [ws, wn] = [tf.tensor(wSkip, shape), tf.tensor(wNorm, shape)];
  const f = () => {
    const [g, b] = params;
    // What a block computed before: x used twice.
    const [skip, y] = fused ? normWithSkip(xt, { center, gamma: g, beta: b, eps: 1e-5 }) : [xt, center ? layerNorm(xt, g, b, 1e-5) : rmsNorm(xt, g, 1e-5)];
    const terms = [...(uses === 'norm' ? [] : [tf.sum(tf.mul(skip!, ws))]), ...(uses === 'skip' ? [] : [tf.sum(tf.mul(y!, wn))])];
    return terms.reduce((a, c) => tf.add(a, c)) as tf.Scalar;
  };
  const { value, grads } = gradients(f, [xt, ...params], undefined, true);
  return [value, ...grads.map((g, i) => g ?? tf.zerosLike([xt, ...params][i]!))];
}

describe('normWithSkip', () => {
  it('on cpu is x itself and the norm op: every value and gradient exactly as before', async () => {
    for (const center of [true, false]) {
      const got = await onBackend('cpu', () => lossCase(center, 'both', true));
      const want = await onBackend('cpu', () => lossCase(center, 'both', false));
      expect(got).toEqual(want);
    }
    const [same] = await onBackend('cpu', () => {
      const xt = tf.tensor(x, shape);
      const [skip] = normWithSkip(xt, { center: true, gamma: undefined, beta: undefined, eps: 1e-5 });
      return [tf.scalar(skip === xt ? 1 : 0)];
    });
    expect(same![0]).toBe(1);
  });

  it.skipIf(!webgpu.ok)(`on webgpu matches cpu, LayerNorm and RMSNorm, either output alone or both (${why})`, async () => {
    for (const center of [true, false]) {
      for (const uses of ['both', 'skip', 'norm'] as const) {
        const want = await onBackend('cpu', () => lossCase(center, uses, false));
        const got = await onBackend('webgpu', () => lossCase(center, uses, true));
        got.forEach((g, i) => expectClose(g, want[i]!));
      }
    }
  });

  it.skipIf(!webgpu.ok)(`on webgpu x's two gradients are summed in the norm's backward kernel, not by an Add (${why})`, async () => {
    const mk = () => [tf.tensor(x, shape), tf.tensor1d(gamma), tf.tensor1d(beta), tf.tensor(wSkip, shape)];
    const kernels = async (fused: boolean) =>
      (
        await webgpuKernels(mk, (xt, g, b, w) =>
          tf.grads((p: tf.Tensor) => {
            const [skip, y] = fused ? normWithSkip(p, { center: true, gamma: g, beta: b, eps: 1e-5 }) : [p, layerNorm(p, g, b, 1e-5)];
            return tf.add(tf.mul(skip, w!), y);
          })([xt!]),
        )
      ).filter((k) => k.startsWith('SlLayerNorm') || k === 'Add');
    expect(await kernels(true)).toEqual(['SlLayerNormSkip', 'Add', 'SlLayerNormGrad']);
    // Before: the forward's add, then the norm's backward and the add of x's two gradients.
    expect(await kernels(false)).toEqual(['SlLayerNorm', 'Add', 'SlLayerNormGrad', 'Add']);
    await tf.setBackend('cpu');
  });
});
