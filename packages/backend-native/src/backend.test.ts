import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

// The tensor package owns the gradient definitions and the backend conformance suite. It is
// imported by path: a devDependency on @sentencelab/tensor would close a package cycle
// (tensor optionally depends on this package), which turbo rejects.
import '../../tensor/src/gradients.js';
import { conformanceCases, runConformanceCase } from '../../tensor/src/testing/index.js';
import { nativeInfo, registerNativeBackend, setNativeThreads } from './backend.js';
import { expectClose, setup, skipReason } from './test/compare.js';
import { fusedKernels } from './kernels/fused.js';
import { createTinyGpt, type TinyGptConfig } from './tiny-gpt.js';

const SMALL_GPT: TinyGptConfig = { vocab: 48, dModel: 32, seq: 16, batch: 2, layers: 2, heads: 4, seed: 7 };

describe.skipIf(skipReason !== '')('the native backend', () => {
  beforeAll(setup);

  it('registers once, reports its build and kernels, and validates thread counts', async () => {
    expect(await registerNativeBackend()).toEqual({ ok: true });
    expect(await registerNativeBackend({ threads: 2 })).toEqual({ ok: true });
    const info = nativeInfo();
    expect(info.available).toBe(true);
    expect(info.simdAvailable).toContain('generic');
    expect(info.simd).toBe(info.simdAvailable![0]);
    expect(info.threads).toBe(2);
    expect(info.kernels).toContain('BatchMatMul');
    expect(tf.getKernelsForBackend('native').length).toBe(tf.getKernelsForBackend('cpu').length + 1 + fusedKernels.length); // + LogSoftmax and the fused ops
    expect(() => setNativeThreads(0)).toThrow(/integer >= 1, got 0/);
    expect(setNativeThreads(1)).toBe(1);
    expect(setNativeThreads(2)).toBe(2);
  });

  describe('passes the shared conformance suite (forward and gradients vs cpu)', () => {
    for (const c of conformanceCases) it(c.name, () => runConformanceCase(c, 'native'));
  });

  it('computes the tiny GPT loss and every gradient like the cpu backend', async () => {
    await tf.setBackend('cpu');
    const cpuModel = createTinyGpt(SMALL_GPT);
    const ref = cpuModel.lossAndGrads();
    cpuModel.dispose();
    await tf.setBackend('native');
    const model = createTinyGpt(SMALL_GPT);
    const got = model.lossAndGrads();
    model.dispose();
    expect(got.loss).toBeCloseTo(ref.loss, 5);
    expect(Object.keys(got.grads)).toEqual(Object.keys(ref.grads));
    for (const [name, g] of Object.entries(ref.grads)) expectClose(Array.from(got.grads[name]!), Array.from(g), 1e-3, 1e-6, name);
  });

  it('trains deterministically for a fixed thread count and leaks no tensors over 1,000 steps', async () => {
    await tf.setBackend('native');
    setNativeThreads(2);
    const losses = (steps: number) => {
      const model = createTinyGpt({ ...SMALL_GPT, layers: 1, seq: 8 });
      const out = Array.from({ length: steps }, () => model.step());
      model.dispose();
      return out;
    };
    const first = losses(5);
    expect(losses(5)).toEqual(first);
    expect(first[4]!).toBeLessThan(first[0]!);

    const model = createTinyGpt({ ...SMALL_GPT, layers: 1, seq: 8 });
    model.step();
    const before = tf.memory();
    for (let i = 0; i < 1000; i++) model.step();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    model.dispose();
  });
});
